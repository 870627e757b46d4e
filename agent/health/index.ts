// Health and readiness checks for running tasks (HTTP, TCP, command), run by the agent.
//
//   HealthChecker (health-checker.ts)  schedule, grace period, consecutive failures → callbacks
//        └── Probe (probes.ts)          one HTTP GET / TCP connect / sandbox command, with timeout
export { HealthChecker, startHealthChecker, healthCheckSettings, HEALTH_CHECK_DEFAULTS } from './health-checker.js';
export type { HealthCheckerOptions, HealthCheckSettings, CheckOutcome } from './health-checker.js';
export { makeProbe, resolvePort } from './probes.js';
export type { HealthCheckTarget, Probe, ProbeResult } from './probes.js';

/** The reason and message the task manager uses when it kills a task for failing its checks. */
export const HEALTH_CHECK_FAILED = Object.freeze({ reason: 'REASON_HEALTH_CHECK_FAILED', message: 'health check failed' });
