// A task whose container can tell when it is reachable (the docker executor: its published ports
// answer a TCP connect) is not ready until it is: RUNNING says `ready: false`, then an update says
// `ready: true` once it answers; one that never answers within the executor's bound is failed
// (REASON_READINESS_CHECK_FAILED, naming the port), so a framework replaces it rather than keep
// an instance nobody can reach. A task with a readiness check of its own is left to it.
import type { Container } from './executor.js';
import type { KillCause } from './task-spec.js';
import type { TaskEntry } from './task-entry.js';

export type Reachable = NonNullable<Container['reachable']>;

/** The container's probe, when the task is to wait for it: none when it has its own readiness check or is ready already. */
export function reachableProbe(entry: TaskEntry, container: Container, ownReadinessCheck: boolean): Reachable | undefined {
  const probe = container.reachable;
  if (!probe || ownReadinessCheck || entry.ready === true) return undefined;
  return probe.bind(container);
}

export function unreachableCause(message: string): KillCause {
  return { state: 'TASK_FAILED', reason: 'REASON_READINESS_CHECK_FAILED', message };
}

/**
 * Runs the probe until it answers, the task is unwatched (entry.checks) or the bound passes. A
 * probe that throws fails the task, naming the error, rather than escape as an unhandled
 * rejection that would end the agent.
 */
export function watchReachable(entry: TaskEntry, probe: Reachable, on: { ready(): void; unreachable(message: string): void }): Promise<void> {
  const controller = new AbortController();
  entry.checks.push({ stop: () => controller.abort() });
  return probe(controller.signal)
    .catch((err: unknown) => ({ ok: false, message: `the port check failed: ${err instanceof Error ? err.message : String(err)}` }))
    .then((answer) => {
      if (controller.signal.aborted) return;
      if (answer.ok) on.ready();
      else on.unreachable(answer.message);
    });
}
