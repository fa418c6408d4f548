declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';
  interface TestNode extends EventEmitter {
    id: string;
    type: string;
    credentials?: Record<string, unknown>;
    receive(msg: Record<string, unknown>): void;
    status: (...args: unknown[]) => void;
    [key: string]: unknown;
  }
  interface Helper {
    init(nodeRedPath: string, settings?: Record<string, unknown>): void;
    startServer(done: (err?: unknown) => void): void;
    stopServer(done: (err?: unknown) => void): void;
    load(nodes: unknown, flow: unknown[], credentials: Record<string, unknown>, cb?: () => void): Promise<void>;
    load(nodes: unknown, flow: unknown[], cb?: () => void): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    clearFlows(): Promise<void>;
    request(): AdminRequest;
    settings(settings: Record<string, unknown>): void;
    log(): { args: unknown[][] } & Record<string, unknown>;
    _RED: Record<string, unknown>;
  }
  interface AdminTest extends Promise<{ status: number; body: any; text: string; headers: Record<string, string> }> {
    type(kind: string): AdminTest;
    send(body: unknown): AdminTest;
    set(header: string, value: string): AdminTest;
    expect(status: number): AdminTest;
  }
  interface AdminRequest {
    get(path: string): AdminTest;
    post(path: string): AdminTest;
  }
  const helper: Helper;
  export = helper;
}
