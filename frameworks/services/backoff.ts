// Restart backoff, per instance, and failure accounting (pure). Backoff belongs to a failing
// instance, not to the service (Kubernetes' CrashLoopBackOff per container): when many tasks fail
// at once — a Docker daemon restart, an OOM storm — each is a first failure and is relaunched at
// once; an instance that keeps failing waits seconds × factor^(failures − 2) before its next
// launch (0 after the first failure), capped at maxLaunchDelaySeconds (Marathon's fields and
// defaults: 1 s, 1.15, 300 s). Its count resets once a task of it has run available (RUNNING, and
// healthy and ready where checked) for `backoffResetMs`; a new version resets every instance.
//
//   task fails ──► Relaunch { failures = carried + 1, untilMs } ──► planner: a launch slot waits
//                  until untilMs ──► launcher: the new task carries `failures` on, the Relaunch goes
import type { TaskState } from '../../core/task-state.js';
import { classifyEnd } from '../../sdk/task-outcome.js';
import { activeDeployment, relaunchesOf, specOf, type DeploymentRecord, type Relaunch, type ServiceRecord, type TaskView } from './model.js';
import type { ServiceSpecDoc } from './spec.js';

/** The delay before relaunching an instance after its `failures`-th consecutive failure (the first: none). */
export function backoffDelayMs(policy: ServiceSpecDoc['backoff'], failures: number): number {
  if (failures <= 1) return 0;
  const seconds = Math.min(policy.maxLaunchDelaySeconds, policy.seconds * policy.factor ** (failures - 2));
  return Math.round(seconds * 1000);
}

/**
 * Whether an ending counts as a failed launch, from sdk/task-outcome.ts's one classification. Exits
 * (even with 0: a service should not end — `succeeded` is a failure here), errors and the agent's
 * kills (health checks, limits) do; kills we asked for do not; tasks lost with their agent, or that
 * never ran, do not either — the agent failed, not the task — and are replaced at once.
 */
export function isFailure(state: TaskState, reason: string, killRequested: boolean): boolean {
  // Whether it ran does not matter to a service: lost and never-ran alike are no failure.
  const outcome = classifyEnd({ state, reason, killRequested, ran: false });
  return outcome === 'failed' || outcome === 'succeeded';
}

export interface Ending {
  readonly state: TaskState;
  readonly reason: string;
  readonly message?: string;
}

/** Account for a task that ended: its instance's backoff, and its deployment's failure count. */
export function taskEnded(
  record: ServiceRecord,
  task: TaskView,
  ending: Ending,
  now: number,
  resetMs: number,
): { relaunches: readonly Relaunch[]; deployment: DeploymentRecord | undefined; failure: boolean; relaunch: Relaunch | undefined } {
  const dep = activeDeployment(record);
  const relaunches = relaunchesOf(record).filter((r) => r.taskId !== task.taskId);
  // A task that ran available for a while ends its instance's run of failures.
  const steady = task.healthySinceMs !== undefined && now - task.healthySinceMs >= resetMs;
  const carried = steady ? 0 : (task.failures ?? 0);
  const why = ending.message ? `${ending.state}: ${oneLine(ending.message)}` : ending.state;
  if (!isFailure(ending.state, ending.reason, task.killRequestedAtMs !== undefined)) {
    // Not the task's failure (lost with its agent, a launch refused): its instance is relaunched
    // at once, but a crash loop keeps its count — unless we stopped it, or it is of an old version.
    const keep = carried > 0 && task.killRequestedAtMs === undefined && task.version === record.version;
    if (!keep) return { relaunches, deployment: dep, failure: false, relaunch: undefined };
    const relaunch: Relaunch = { taskId: task.taskId, failures: carried, failedAtMs: now, untilMs: now, reason: why };
    return { relaunches: [...relaunches, relaunch], deployment: dep, failure: false, relaunch };
  }
  const policy = (specOf(record, record.version) ?? specOf(record, task.version))!.backoff;
  const failures = carried + 1;
  const relaunch: Relaunch = { taskId: task.taskId, failures, failedAtMs: now, untilMs: now + backoffDelayMs(policy, failures), reason: why };
  const deployment = dep !== undefined && dep.version === task.version ? { ...dep, failures: dep.failures + 1 } : dep;
  return { relaunches: [...relaunches, relaunch], deployment, failure: true, relaunch };
}

/** A launch decision's instances: those relaunching a failed instance first, the rest new. */
export interface Gated<L> {
  readonly launches: L[];
  /** The instances still waiting (at most as many as are missing). */
  readonly relaunches: readonly Relaunch[];
  readonly wakeAtMs: number | undefined;
  readonly waiting: string;
}

const SHOWN = 3;

/**
 * Let through the launches whose instance is not backing off. `missing` instances are wanted in
 * all; each waiting Relaunch holds one of them until its time, the others launch now. Relaunches
 * beyond `missing` (the service was scaled down) are dropped, keeping those with the most failures.
 */
export function gateOnBackoff<L extends { readonly count: number; readonly relaunches?: readonly Relaunch[] }>(
  launches: readonly L[],
  all: readonly Relaunch[],
  missing: number,
  now: number,
): Gated<L> {
  const relaunches = [...all].sort((a, b) => b.failures - a.failures || b.untilMs - a.untilMs || (a.taskId < b.taskId ? -1 : 1)).slice(0, Math.max(0, missing));
  const total = launches.reduce((n, l) => n + l.count, 0);
  if (total === 0) return { launches: [], relaunches, wakeAtMs: undefined, waiting: '' };
  const byTime = (a: Relaunch, b: Relaunch): number => a.untilMs - b.untilMs || (a.taskId < b.taskId ? -1 : 1);
  const ready = relaunches.filter((r) => r.untilMs <= now).sort(byTime);
  const blocked = relaunches.filter((r) => r.untilMs > now).sort(byTime);
  let allowed = Math.min(total, Math.max(0, missing - relaunches.length) + ready.length);
  const out: L[] = [];
  for (const l of launches) {
    const count = Math.min(l.count, allowed);
    if (count === 0) continue;
    allowed -= count;
    const carried = ready.splice(0, count);
    out.push({ ...l, count, ...(carried.length > 0 ? { relaunches: carried } : {}) });
  }
  const held = out.reduce((n, l) => n + l.count, 0) < total && blocked.length > 0;
  if (!held) return { launches: out, relaunches, wakeAtMs: undefined, waiting: '' };
  return { launches: out, relaunches, wakeAtMs: blocked[0]!.untilMs, waiting: waitingMessage(blocked) };
}

/** "2 instance(s) in restart backoff: web.v1.1a2b3c4d failed 3 time(s) in a row (TASK_FAILED: …), relaunch at …". */
function waitingMessage(blocked: readonly Relaunch[]): string {
  const shown = blocked
    .slice(0, SHOWN)
    .map((r) => `${r.taskId} failed ${r.failures} time(s) in a row (${r.reason}), relaunch at ${new Date(r.untilMs).toISOString()}`);
  const more = blocked.length > SHOWN ? `; and ${blocked.length - SHOWN} more` : '';
  return `${blocked.length} instance(s) in restart backoff: ${shown.join('; ')}${more}`;
}

/** The earliest time a backing-off instance may launch (0 when none waits for a delay), for status views. */
export function backoffUntilMs(record: ServiceRecord): number {
  const delayed = relaunchesOf(record).filter((r) => r.untilMs > r.failedAtMs);
  return delayed.length === 0 ? 0 : Math.min(...delayed.map((r) => r.untilMs));
}

function oneLine(message: string): string {
  const line = message.replace(/\s+/g, ' ').trim();
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
}
