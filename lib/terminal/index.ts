/**
 * The terminal layer: one Terminal per payment terminal, owning its transport,
 * session, ledger access, identity, recovery order, health check, line monitor
 * and diagnosis, and pairing, with one Scheduler that decides what goes next. The config node and the command line both drive
 * it; nothing here needs Node-RED.
 */
export { Terminal, HEALTH_CHECK_TIMEOUT_MS, UNRESOLVED_RETRY_MAX_MS, UNRESOLVED_RETRY_MS, type StateListener } from './terminal';
export type { TerminalOptions } from './options';
export { connectionStateOf, isShownDiagnosis, SHOWN_DIAGNOSES, type ConnectionState, type Link, type ShownDiagnosis, type ShownState } from './connection-state';
export { DeviceIdentity, IDENTITY_CHECK_MS, type DeviceIdentityEvents, type DeviceIdentityOptions } from './device-identity';
export { HealthCheck, healthCheckMs, HEALTH_CHECK_MAX_SECONDS, HEALTH_CHECK_MIN_SECONDS, type HealthCheckDeps } from './health-check';
export { LineMonitor, MONITOR_TICK_MS, type LineMonitorOptions, type NodeDiagnosis } from './line-monitor';
export { nodeRedCredentialSecret, nodeRedPairingStore } from './pairing-key';
export { closedBeforeSent, JOB_PRIORITY, Scheduler, type JobKind, type JobSpec, type JobView, type SchedulerOptions } from './scheduler';
export { listSerialPorts, SERIAL_BY_ID_DIR, stableAlternative, type SerialPortEntry } from './serial-ports';
export { settledWithin } from './settled-within';
