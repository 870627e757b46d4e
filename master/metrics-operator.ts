// Counters an operator alerts on, fed as things happen (metrics.ts serves them with the cluster's
// figures, on the leader only): agents registering, re-registering and leaving, and the registry's
// writes to the store — how long each takes and how many fail.
import { Counter, Histogram, type Registry } from 'prom-client';
import type { AgentRemovalReason } from './events.js';
import type { MasterState } from './state.js';

const REMOVAL_REASONS: readonly AgentRemovalReason[] = ['missed_pings', 'not_reregistered'];

/** A ZooKeeper write takes a few milliseconds; a slow or partitioned ensemble, seconds. */
const WRITE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Register the counters on `registers`; returns what unhooks them from the master. */
export function registerOperatorMetrics(state: MasterState, registers: Registry[]): () => void {
  const registrations = new Counter({
    name: 'agora_agent_registrations_total',
    help: 'Agents registered for the first time (given an id) by this master',
    registers,
  });
  const reregistrations = new Counter({
    name: 'agora_agent_reregistrations_total',
    help: 'Agents re-registered with this master (after a failover, a partition, a restart of the agent)',
    registers,
  });
  const removals = new Counter({
    name: 'agora_agent_removals_total',
    help: 'Agents taken out of the allocator as unreachable, by reason (missed_pings, not_reregistered after a failover)',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of REMOVAL_REASONS) removals.inc({ reason }, 0);
  const unsubscribe = state.events.subscribe((e) => {
    if (e.type === 'AGENT_ADDED') registrations.inc();
    else if (e.type === 'AGENT_REREGISTERED') reregistrations.inc();
    else if (e.type === 'AGENT_UNREACHABLE') removals.inc({ reason: e.reason });
  });

  const writes = new Histogram({
    name: 'agora_registry_write_seconds',
    help: 'Time one registry write takes (whether its node exists, then a fenced transaction on the store), failed ones included',
    buckets: WRITE_BUCKETS,
    registers,
  });
  const failures = new Counter({
    name: 'agora_registry_write_failures_total',
    help: 'Registry writes that failed at any step: the store refused or did not answer (the change was not made)',
    registers,
  });
  const observe = (seconds: number, failed: boolean): void => {
    writes.observe(seconds);
    if (failed) failures.inc();
  };
  state.registry.observeWrite = observe;

  return () => {
    unsubscribe();
    if (state.registry.observeWrite === observe) state.registry.observeWrite = undefined;
  };
}
