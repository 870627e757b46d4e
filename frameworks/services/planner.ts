// The rolling-update planner: pure policy. Given a service (its target version and count, its
// versions' specs, its active deployment, its instances in restart backoff), its tasks as last
// reported, and `now`, it decides what to launch, what to kill, what to forget, and where the
// deployment stands. No I/O, no clock: the supervisor executes the plan and calls again when
// something changes.
//
//   tasks ──► live (not terminal; unreachable ones only until inactiveAfterSeconds, partition.ts)
//         ──► killing (asked to die) | active ──► target version | old
//   canary stage: start `canary` new tasks, keep every old one, then PAUSE until promote
//   otherwise:    kill surplus new (not running first, then youngest), kill unavailable old,
//                 kill available old only down to minimumHealthCapacity × instances available,
//                 start new ones while live tasks ≤ instances × (1 + maximumOverCapacity)
//   an instance that failed waits out its own restart backoff (backoff.ts), the others launch at
//   once; a deployment whose version failed too often FAILS and the service returns to the
//   version it came from.
import { activeDeployment, relaunchesOf, specOf, type DeploymentRecord, type Relaunch, type ServiceRecord, type TaskFailureRecord, type TaskView } from './model.js';
import { gateOnBackoff } from './backoff.js';
import { holdsPlace, isLive, nextPartitionChange, toExpunge } from './partition.js';
import type { ServiceSpecDoc } from './spec.js';

export { backoffDelayMs, isFailure, taskEnded } from './backoff.js';
export { isLive } from './partition.js';

export interface LaunchDecision {
  readonly version: string;
  readonly count: number;
  readonly canary: boolean;
  /** The failed instances the first of these launches carry on (their failures count on). */
  readonly relaunches?: readonly Relaunch[];
}

export interface Kill {
  readonly taskId: string;
  readonly reason: string;
}

export interface Plan {
  /** Start these now: the target version, and during a canary pause replacements of the old one. */
  readonly launches: readonly LaunchDecision[];
  readonly kill: readonly Kill[];
  /** The active deployment as it now stands; its phase may have become SUCCEEDED, PAUSED or FAILED. */
  readonly deployment: DeploymentRecord | undefined;
  /** The deployment failed: the service goes back to this version and count. */
  readonly revert: { readonly version: string; readonly instances: number } | undefined;
  /** The instances still waiting out their restart backoff. */
  readonly relaunches: readonly Relaunch[];
  /** Unreachable tasks to forget (past expungeAfterSeconds): no failure, no kill. */
  readonly expunge: readonly string[];
  /** Plan again at this time even if nothing else happens (a backoff ends, an unreachable task's time is up). */
  readonly wakeAtMs: number | undefined;
  /** Why missing instances are not launched now, for people ('' when nothing waits). */
  readonly waiting: string;
}

/** Counts of a service's tasks against its target, for plans and for status views. */
export interface RolloutCounts {
  readonly live: number;
  readonly liveNew: number;
  readonly availableNew: number;
  readonly available: number;
  readonly oldLive: number;
  readonly killing: number;
}

/**
 * Running, and passing its health check and readiness check where it has them; never while its
 * agent says it is not ready (a Docker task whose published ports do not answer yet), checked or not.
 */
export function isAvailable(task: TaskView, spec: ServiceSpecDoc | undefined): boolean {
  if (task.state !== 'TASK_RUNNING' || task.ready === false) return false;
  if (spec?.healthCheck && task.healthy !== true) return false;
  if (spec?.readinessCheck && task.ready !== true) return false;
  return true;
}

// One pass: a plan runs after every burst of updates, over every task of the service.
export function rolloutCounts(record: ServiceRecord, tasks: readonly TaskView[]): RolloutCounts {
  const available = availability(record);
  let live = 0;
  let liveNew = 0;
  let availableNew = 0;
  let availableAll = 0;
  let killing = 0;
  for (const t of tasks) {
    if (!isLive(t)) continue;
    live++;
    const fresh = t.version === record.version;
    if (fresh) liveNew++;
    if (t.killRequestedAtMs !== undefined) killing++;
    else if (available(t)) {
      availableAll++;
      if (fresh) availableNew++;
    }
  }
  return { live, liveNew, availableNew, available: availableAll, oldLive: live - liveNew, killing };
}

/** isAvailable against the task's version's spec, each version's spec looked up once. */
function availability(record: ServiceRecord): (task: TaskView) => boolean {
  const specs = new Map<string, ServiceSpecDoc | undefined>();
  return (t) => {
    let spec = specs.get(t.version);
    if (spec === undefined && !specs.has(t.version)) {
      spec = specOf(record, t.version);
      specs.set(t.version, spec);
    }
    return isAvailable(t, spec);
  };
}

export function plan(record: ServiceRecord, tasks: readonly TaskView[], now: number): Plan {
  const dep = activeDeployment(record);
  const expunge = toExpunge(record, tasks, now);
  const live = tasks.filter((t) => holdsPlace(record, t, now));
  const relaunches = relaunchesOf(record);
  const base = { kill: [], revert: undefined, relaunches, expunge, wakeAtMs: undefined, waiting: '' };
  if (live.some((t) => !t.confirmed)) {
    return { ...base, launches: [], deployment: dep, waiting: 'reconciling task states with the master' };
  }
  const failed = dep !== undefined && dep.failures >= dep.failureLimit ? failDeployment(dep, record.lastFailure, now) : undefined;
  if (failed !== undefined) {
    const revert = failed.fromVersion !== '' && failed.fromVersion !== failed.version ? { version: failed.fromVersion, instances: failed.fromInstances } : undefined;
    return { ...base, launches: [], deployment: failed, revert };
  }
  const decision = decide(record, live, dep);
  const gated = gateOnBackoff(decision.launches, relaunches, decision.missing, now);
  const deployment = dep === undefined ? undefined : advance(dep, record, tasks, now);
  const waiting = gated.waiting || (deployment?.phase === 'DEPLOYMENT_PAUSED' ? deployment.message : decision.waiting);
  const wakes = [gated.wakeAtMs, nextPartitionChange(record, tasks, now)].filter((t): t is number => t !== undefined);
  const wakeAtMs = wakes.length === 0 ? undefined : Math.min(...wakes);
  return { launches: gated.launches, kill: decision.kill, deployment, revert: undefined, relaunches: gated.relaunches, expunge, wakeAtMs, waiting };
}

interface Decision {
  launches: LaunchDecision[];
  kill: Kill[];
  waiting: string;
  /** Instances wanted and not there, of every version launched. */
  missing: number;
}

function decide(record: ServiceRecord, live: readonly TaskView[], dep: DeploymentRecord | undefined): Decision {
  const target = record.version;
  const n = record.instances;
  const strategy = specOf(record, target)?.upgradeStrategy ?? { minimumHealthCapacity: 1, maximumOverCapacity: 1 };
  const available = availability(record);
  const active = live.filter((t) => t.killRequestedAtMs === undefined);
  const fresh = active.filter((t) => t.version === target);
  const old = active.filter((t) => t.version !== target);
  const canaryStage = dep !== undefined && dep.canary > 0 && !dep.promoted && dep.version === target && old.length > 0;
  const wanted = canaryStage ? Math.min(dep.canary, n) : n;

  const kill: Kill[] = [];
  const surplus = victims(fresh, fresh.length - wanted, available);
  for (const t of surplus) kill.push({ taskId: t.taskId, reason: `scaling down to ${wanted} instance(s)` });
  const minHealthy = Math.ceil(n * strategy.minimumHealthCapacity - 1e-9);
  if (!canaryStage) {
    const killed = new Set(surplus);
    const stillAvailable = active.filter((t) => !killed.has(t) && available(t)).length;
    for (const t of old.filter((o) => !available(o))) kill.push({ taskId: t.taskId, reason: `replaced by version ${target}` });
    const budget = Math.max(0, stillAvailable - minHealthy);
    for (const t of victims(old.filter(available), budget, available)) kill.push({ taskId: t.taskId, reason: `replaced by version ${target}` });
  }

  const missing = Math.max(0, wanted - fresh.length);
  const oldRemain = live.some((t) => t.version !== target);
  let room = missing;
  if (oldRemain && !canaryStage) {
    let maxTotal = Math.floor(n * (1 + strategy.maximumOverCapacity) + 1e-9);
    // Marathon's way out when no over-capacity is allowed and no health may be lost: one extra.
    if (maxTotal <= minHealthy) maxTotal = minHealthy + 1;
    room = Math.min(missing, Math.max(0, maxTotal - live.length));
  }
  const launches: LaunchDecision[] = room > 0 ? [{ version: target, count: room, canary: canaryStage }] : [];
  // While canaries wait for promote, the old version keeps its count: a failed old task is
  // replaced by the old version, not by the one still on trial.
  const oldMissing = canaryStage && specOf(record, dep.fromVersion) !== undefined ? Math.max(0, n - old.length) : 0;
  if (canaryStage && oldMissing > 0) launches.push({ version: dep.fromVersion, count: oldMissing, canary: false });
  const waiting = room < missing ? `waiting for old instances to stop before starting ${missing - room} more of version ${target} (at most ${live.length} running)` : '';
  return { launches, kill, waiting, missing: missing + oldMissing };
}

/** `count` tasks to stop: those not yet running first, then unavailable ones, then the youngest. */
export function victims(tasks: readonly TaskView[], count: number, available: (t: TaskView) => boolean): TaskView[] {
  if (count <= 0) return [];
  const rank = (t: TaskView): number => (t.state !== 'TASK_RUNNING' ? 0 : available(t) ? 2 : 1);
  return [...tasks]
    .sort((a, b) => rank(a) - rank(b) || b.stagedAtMs - a.stagedAtMs || (a.taskId < b.taskId ? 1 : a.taskId > b.taskId ? -1 : 0))
    .slice(0, count);
}

/** "version v2 failed 3 launch(es) (the last: TASK_FAILED: why); the service returns to version v1". */
function failDeployment(dep: DeploymentRecord, last: TaskFailureRecord | undefined, now: number): DeploymentRecord {
  const back = dep.fromVersion !== '' && dep.fromVersion !== dep.version ? `; the service returns to version ${dep.fromVersion}` : '';
  const why = last === undefined ? '' : ` (the last: ${last.state}${last.message ? `: ${oneLine(last.message)}` : ''})`;
  return { ...dep, phase: 'DEPLOYMENT_FAILED', finishedAtMs: now, message: `version ${dep.version} failed ${dep.failures} launch(es)${why}${back}` };
}

/** A status message on one line, bounded: it ends up in a deployment's message. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 300)}…` : flat;
}

/** Phase and progress of the active deployment after this plan. */
function advance(dep: DeploymentRecord, record: ServiceRecord, tasks: readonly TaskView[], now: number): DeploymentRecord {
  const n = record.instances;
  const c = rolloutCounts(record, tasks);
  const total = n + dep.initialOld + dep.initialSurplus;
  const surplus = Math.max(0, c.liveNew - n);
  const done = Math.min(c.availableNew, n) + Math.max(0, dep.initialOld - c.oldLive) + Math.max(0, dep.initialSurplus - surplus);
  const progress = total === 0 ? 1 : Math.min(1, done / total);
  if (c.oldLive === 0 && c.killing === 0 && c.liveNew === n && c.availableNew === n) {
    return { ...dep, phase: 'DEPLOYMENT_SUCCEEDED', progress: 1, finishedAtMs: now, message: `version ${dep.version}: ${n} instance(s) available` };
  }
  const canary = Math.min(dep.canary, n);
  if (dep.canary > 0 && !dep.promoted && c.oldLive > 0 && c.availableNew >= canary) {
    return { ...dep, phase: 'DEPLOYMENT_PAUSED', progress, message: `${canary} canary instance(s) of version ${dep.version} available: promote to continue, or abort` };
  }
  const message = `${c.availableNew} of ${n} instance(s) of version ${dep.version} available${c.oldLive > 0 ? `, ${c.oldLive} of other versions still running` : ''}`;
  return { ...dep, phase: 'DEPLOYMENT_IN_PROGRESS', progress, message };
}
