// How a service's record changes when people act on it (pure): apply a spec, scale, roll back,
// restart, kill tasks, promote or abort a canary, and return to the old version when a deployment
// fails. Each change that moves the service starts a deployment; a newer one supersedes the active
// one (and inherits where it came from, so a failure still returns to the last good version).
import { FailedPreconditionError, NotFoundError } from '../../core/errors.js';
import { isLive } from './planner.js';
import {
  activeDeployment,
  relaunchesOf,
  specOf,
  type Change,
  type DeploymentRecord,
  type ServiceRecord,
  type TaskView,
  type VersionRecord,
} from './model.js';
import { clampInstances, type AutoscaleSpec } from './autoscale.js';
import { versionKey, type ServiceSpecDoc } from './spec.js';

export const MAX_VERSIONS = 20;
export const MAX_FINISHED_DEPLOYMENTS = 10;
/** Failed launches of the new version, per instance it starts, before a deployment fails. */
export const FAILURES_PER_INSTANCE = 3;

export interface Context {
  readonly now: number;
  /** Tasks of the service as last reported (for the deployment's starting point). */
  readonly tasks: readonly TaskView[];
  readonly newId: () => string;
}

export interface Outcome {
  readonly record: ServiceRecord;
  /** The deployment started, or the active one this change joined; undefined when nothing moved. */
  readonly deployment: DeploymentRecord | undefined;
}

export interface ApplyChange extends Outcome {
  readonly result: 'CREATED' | 'UPDATED' | 'UNCHANGED';
}

export function applySpec(existing: ServiceRecord | undefined, spec: ServiceSpecDoc, ctx: Context): ApplyChange {
  if (existing === undefined) {
    const empty: ServiceRecord = {
      name: spec.name,
      createdAtMs: ctx.now,
      updatedAtMs: ctx.now,
      instances: 0,
      version: '',
      nextVersion: 1,
      versions: [],
      deployments: [],
      tasks: {},
      relaunches: [],
    };
    return { ...newVersion(empty, spec, 'create', ctx), result: 'CREATED' };
  }
  const current = specOf(existing, existing.version);
  // An autoscaled service keeps the count its autoscaler set (clamped into the new bounds):
  // `instances` is only where a new service starts.
  if (current?.autoscale && spec.autoscale) spec = { ...spec, instances: clampInstances(existing.instances, spec.autoscale) };
  if (current !== undefined && versionKey(current) === versionKey(spec)) {
    // `autoscale` is not part of a version: a change of it alone restarts nothing.
    const record = JSON.stringify(current.autoscale) === JSON.stringify(spec.autoscale) ? existing : withAutoscale(existing, spec.autoscale, ctx.now);
    if (existing.instances === spec.instances) return { record, deployment: activeDeployment(existing), result: record === existing ? 'UNCHANGED' : 'UPDATED' };
    return { ...scale(record, spec.instances, ctx), result: 'UPDATED' };
  }
  return { ...newVersion(existing, spec, 'spec', ctx), result: 'UPDATED' };
}

/** The current version's spec with another `autoscale` (none: a fixed count). */
function withAutoscale(record: ServiceRecord, autoscale: AutoscaleSpec | undefined, now: number): ServiceRecord {
  const versions = record.versions.map((v) => {
    if (v.version !== record.version) return v;
    const { autoscale: _old, ...rest } = v.spec;
    return { ...v, spec: autoscale ? { ...rest, autoscale } : rest };
  });
  return { ...record, versions, updatedAtMs: now };
}

/** A new count: joins the active deployment (changing its target), or starts a scale deployment. */
export function scale(record: ServiceRecord, instances: number, ctx: Context): Outcome {
  const after = { ...record, instances, updatedAtMs: ctx.now };
  const active = activeDeployment(record);
  if (active !== undefined) return { record: after, deployment: active };
  return startDeployment(after, record, 'scale', ctx);
}

/** To `toVersion`, or the version before the current one: a new version with that spec. */
export function rollback(record: ServiceRecord, toVersion: string | undefined, ctx: Context): Outcome {
  const index = record.versions.findIndex((v) => v.version === record.version);
  const target = toVersion === undefined ? record.versions[index - 1] : record.versions.find((v) => v.version === toVersion);
  if (target === undefined) {
    if (toVersion !== undefined) throw new NotFoundError('version', `${record.name}@${toVersion}`);
    throw new FailedPreconditionError(`service ${record.name} has no version before ${record.version} to roll back to`);
  }
  if (target.version === record.version) throw new FailedPreconditionError(`service ${record.name} is already at version ${target.version}`);
  return newVersion(record, { ...target.spec, instances: record.instances }, 'rollback', ctx);
}

/** Replace every instance: a new version with the same spec. */
export function restart(record: ServiceRecord, ctx: Context): Outcome {
  const spec = specOf(record, record.version)!;
  return newVersion(record, { ...spec, instances: record.instances }, 'restart', ctx);
}

/** Kill some tasks; with `lower`, the count drops so they are not replaced. Returns the ids to kill. */
export function killTasks(record: ServiceRecord, taskIds: readonly string[], lower: boolean, ctx: Context): Outcome & { readonly kill: string[] } {
  for (const id of taskIds) if (record.tasks[id] === undefined) throw new NotFoundError('task', `${record.name}/${id}`);
  const live = new Set(ctx.tasks.filter((t) => isLive(t) && t.killRequestedAtMs === undefined).map((t) => t.taskId));
  const kill = [...new Set(taskIds)].filter((id) => live.has(id));
  if (lower) return { ...scale(record, Math.max(0, record.instances - kill.length), ctx), kill };
  const active = activeDeployment(record);
  if (active !== undefined) return { record, deployment: active, kill };
  return { ...startDeployment(record, record, 'kill', ctx), kill };
}

export function promote(record: ServiceRecord, now: number): Outcome {
  const dep = activeDeployment(record);
  if (dep === undefined || dep.canary === 0 || dep.promoted) throw new FailedPreconditionError(`service ${record.name} has no canary deployment waiting to be promoted`);
  const promoted: DeploymentRecord = {
    ...dep,
    promoted: true,
    phase: 'DEPLOYMENT_IN_PROGRESS',
    message: `promoted: replacing the remaining instances with version ${dep.version}`,
    failureLimit: dep.failures + FAILURES_PER_INSTANCE * Math.max(1, record.instances),
  };
  return { record: withDeployment({ ...record, updatedAtMs: now }, promoted), deployment: promoted };
}

/** Stop the active deployment and put the service back as it was: version and count. */
export function abort(record: ServiceRecord, now: number): Outcome {
  const dep = activeDeployment(record);
  if (dep === undefined) throw new FailedPreconditionError(`service ${record.name} has no active deployment to abort`);
  const aborted: DeploymentRecord = { ...dep, phase: 'DEPLOYMENT_ABORTED', finishedAtMs: now, message: `aborted; back to ${describeFrom(dep)}` };
  return { record: goBack(withDeployment(record, aborted), dep, now), deployment: aborted };
}

/** The planner failed the deployment: record it and, when it says so, go back to the old version. */
export function settle(record: ServiceRecord, deployment: DeploymentRecord | undefined, revert: { version: string; instances: number } | undefined, now: number): ServiceRecord {
  let next = deployment === undefined ? record : withDeployment(record, deployment);
  if (revert !== undefined && deployment !== undefined) next = goBack(next, deployment, now);
  return next;
}

function goBack(record: ServiceRecord, dep: DeploymentRecord, now: number): ServiceRecord {
  if (dep.fromVersion === '') return { ...record, instances: 0, updatedAtMs: now };
  const changed = dep.fromVersion !== record.version;
  return { ...record, version: dep.fromVersion, instances: dep.fromInstances, updatedAtMs: now, relaunches: changed ? [] : relaunchesOf(record) };
}

function describeFrom(dep: DeploymentRecord): string {
  return dep.fromVersion === '' ? 'no instances' : `version ${dep.fromVersion} with ${dep.fromInstances} instance(s)`;
}

function newVersion(record: ServiceRecord, spec: ServiceSpecDoc, change: Change, ctx: Context): Outcome {
  const version = `v${record.nextVersion}`;
  const entry: VersionRecord = { version, createdAtMs: ctx.now, change, spec };
  const after: ServiceRecord = {
    ...record,
    version,
    nextVersion: record.nextVersion + 1,
    instances: spec.instances,
    versions: [...record.versions, entry],
    updatedAtMs: ctx.now,
    // A new version starts every instance's backoff afresh.
    relaunches: [],
  };
  return startDeployment(after, record, change, ctx);
}

/** Start a deployment from `before` to `after`, superseding the active one. */
function startDeployment(after: ServiceRecord, before: ServiceRecord, change: Change, ctx: Context): Outcome {
  const prev = activeDeployment(before);
  const fromVersion = prev?.fromVersion ?? before.version;
  const fromInstances = prev?.fromInstances ?? before.instances;
  const spec = specOf(after, after.version)!;
  const canary = change === 'spec' && fromVersion !== '' && fromVersion !== after.version ? Math.min(spec.canary.instances, after.instances) : 0;
  const live = ctx.tasks.filter(isLive);
  const deployment: DeploymentRecord = {
    id: ctx.newId(),
    change,
    version: after.version,
    fromVersion,
    fromInstances,
    phase: 'DEPLOYMENT_PENDING',
    startedAtMs: ctx.now,
    finishedAtMs: 0,
    message: describeChange(change, after, fromVersion, fromInstances, canary),
    canary,
    promoted: false,
    failures: 0,
    failureLimit: FAILURES_PER_INSTANCE * Math.max(1, canary > 0 ? canary : after.instances),
    initialOld: live.filter((t) => t.version !== after.version).length,
    initialSurplus: Math.max(0, live.filter((t) => t.version === after.version).length - after.instances),
    progress: 0,
  };
  let deployments = before.deployments;
  if (prev !== undefined) {
    const superseded: DeploymentRecord = { ...prev, phase: 'DEPLOYMENT_SUPERSEDED', finishedAtMs: ctx.now, message: `superseded by deployment ${deployment.id}` };
    deployments = deployments.map((d) => (d.id === prev.id ? superseded : d));
  }
  const record = trim({ ...after, deployments: [...deployments, deployment] });
  return { record, deployment };
}

function describeChange(change: Change, after: ServiceRecord, fromVersion: string, fromInstances: number, canary: number): string {
  const n = after.instances;
  switch (change) {
    case 'create':
      return `create version ${after.version} with ${n} instance(s)`;
    case 'scale':
      return `scale from ${fromInstances} to ${n} instance(s)`;
    case 'kill':
      return `replace killed instance(s) of version ${after.version}`;
    default:
      return `${change}: version ${fromVersion} → ${after.version}, ${n} instance(s)${canary > 0 ? `, ${canary} canary first` : ''}`;
  }
}

/** Replace the deployment with the same id. */
function withDeployment(record: ServiceRecord, dep: DeploymentRecord): ServiceRecord {
  return trim({ ...record, deployments: record.deployments.map((d) => (d.id === dep.id ? dep : d)) });
}

// Keep the recent history; never drop the current version or one an active deployment names.
function trim(record: ServiceRecord): ServiceRecord {
  const active = activeDeployment(record);
  const keep = new Set([record.version, active?.version, active?.fromVersion]);
  let versions = record.versions;
  while (versions.length > MAX_VERSIONS) {
    const drop = versions.findIndex((v) => !keep.has(v.version));
    if (drop < 0) break;
    versions = versions.filter((_, i) => i !== drop);
  }
  const finished = record.deployments.filter((d) => d !== active);
  const deployments = [...finished.slice(-MAX_FINISHED_DEPLOYMENTS), ...(active ? [active] : [])];
  return { ...record, versions, deployments };
}
