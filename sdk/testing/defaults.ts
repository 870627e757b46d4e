// The short timings of test clusters, as the master's and the agent's flags take them: every
// timeout is a flag, so a test sees an allocation, a heartbeat or an agent's retry in milliseconds,
// not seconds. The kit's startTestCluster uses them, and so do the project's own test harnesses.

/** Master flags for tests (values as the master's flags take them). Not frozen: Master.start takes a frozen object for already-compiled options. */
export const TEST_MASTER_FLAGS: Readonly<Record<string, unknown>> = {
  hostname: '127.0.0.1',
  bind: '127.0.0.1',
  grpcPort: 0,
  httpPort: 0,
  allocationInterval: '50ms',
  agentPingInterval: '100ms',
  // 1 s of silence: short, yet not so short that a loaded test machine looks like a partition.
  maxAgentPingTimeouts: 10,
  heartbeatInterval: '200ms',
  agentReregisterTimeout: '2s',
  logLevel: 'silent',
};

export const TEST_AGENT_RESOURCES = 'cpus:4;mem:4096;disk:4096;ports:[31000-31099]';

/** Agent flags for tests (as the CLI takes them): short timeouts, port 0, silent. */
export const TEST_AGENT_FLAGS: Readonly<Record<string, string>> = Object.freeze({
  hostname: '127.0.0.1',
  httpPort: '0',
  resources: TEST_AGENT_RESOURCES,
  statusUpdateRetry: '500ms',
  statusUpdateRetryMax: '2s',
  reconnectBackoff: '50ms',
  reconnectBackoffMax: '300ms',
  registrationTimeout: '2s',
  killGracePeriod: '2s',
  logLevel: 'silent',
});

/** Driver options that reconnect and reconcile quickly, so restarts and failovers take well under a second. */
export const FAST_DRIVER = Object.freeze({
  reconnect: Object.freeze({ initialMs: 50, maxMs: 300 }),
  reconcile: Object.freeze({ initialMs: 200, maxMs: 1000 }),
});
