import type { NextFunction, Request, Response } from 'express';

/**
 * Node-RED's own rule for a permission in a granted scope (editor-api's
 * permissions.hasPermission): `*`, the permission itself, or `read` /
 * `write` for any `….read` / `….write` permission; a list grants what any
 * of its items grants.
 */
export function scopeAllows(scope: unknown, permission: string): boolean {
  if (Array.isArray(scope)) return scope.some((s) => scopeAllows(s, permission));
  if (typeof scope !== 'string') return false;
  if (scope === '*' || scope === permission) return true;
  if (scope === 'read' || scope === '*.read') return permission.endsWith('.read');
  if (scope === 'write' || scope === '*.write') return permission.endsWith('.write');
  return false;
}

/**
 * Placed after RED.auth.needsPermission('….read') (which has logged the user
 * in) and before RED.auth.needsPermission(permission) (which stays the guard):
 * a logged-in user whose scope lacks `permission` is told so with 403 and a
 * code, where Node-RED alone would answer a bare 401 that reads as "log in".
 */
export function forbiddenWithout(permission: string, adminAuth: () => boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const scope = (req as Request & { authInfo?: { scope?: unknown } }).authInfo?.scope;
    const user = (req as Request & { user?: unknown }).user;
    if (adminAuth() && user !== undefined && user !== null && !scopeAllows(scope, permission)) {
      res.status(403).json({ ok: false, code: 'E_PERMISSION', message: `this needs the ${permission} permission` });
      return;
    }
    next();
  };
}
