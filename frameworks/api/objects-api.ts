// Secrets and Configs through the Jobs API: the operations (for jobs-api.ts) and the rules that tie
// them to workloads.
//
// Who may do what:
// - `jobs.read` / `jobs.write` on kind Secret or Config: list, describe (a Secret's keys and
//   sizes, never its values), create, change and delete them — as for workloads.
// - `secrets.read` on the Secret's name: read its values (`?reveal=1`), and apply a workload that
//   references it. A workload's task can print what it is given, so referencing a secret is
//   reading it; Kubernetes lets anyone who may create a pod mount any secret of the namespace,
//   here the caller must be allowed to read each secret named.
// - A Config referenced needs `jobs.read` on Config.
//
// The rules: a workload applied may reference only keys that exist (FAILED_PRECONDITION naming
// the field and the object); a Secret or Config in use cannot be deleted, nor lose a key in use
// (naming the workloads). A changed value rolls every Service that uses one of the changed keys
// (a restart: a new deployment); cron jobs and jobs read values at each launch.
import { FailedPreconditionError, InvalidArgumentError } from '../../core/errors.js';
import { requirePermission, type Principal } from '../../core/security/principal.js';
import type { ApplyResponse, Workload } from '../../proto/index.js';
import { join } from '../common/spec-fields.js';
import { parseEnvFrom, parseFiles, refsOf, targetOf, type ValueRefDoc } from '../common/value-refs.js';
import type { ConfigObjects } from '../objects/store.js';
import { objectKindOf, objectNames, parseObjectDoc, type ObjectKind, type ObjectView } from '../objects/spec.js';
import type { WorkloadKind } from '../workload.js';
import type { ControllerRegistry } from './registry.js';

type Loose = Record<string, unknown>;

export function requireObjects(objects: ConfigObjects | undefined): ConfigObjects {
  if (!objects) throw new FailedPreconditionError('Secrets and Configs are not served yet (the frameworks are starting)', { field: 'kind' });
  return objects;
}

/** The kind of a document that is a Secret or Config, else undefined (a workload). */
export function objectKindOfDocument(value: unknown): ObjectKind | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return objectKindOf((value as Loose)['kind']);
}

export async function applyObject(objects: ConfigObjects, controllers: ControllerRegistry, principal: Principal, kind: ObjectKind, raw: Loose, dryRun: boolean): Promise<ApplyResponse> {
  requirePermission(principal, 'jobs.write', kind);
  const doc = parseObjectDoc(kind, raw);
  const before = objects.keys(kind, doc.name);
  const dropped = (before ?? []).filter((k) => !Object.hasOwn(doc.data, k));
  if (dropped.length > 0) {
    const users = (await referencing(controllers, kind, doc.name)).filter((u) => dropped.includes(u.key));
    if (users.length > 0) throw inUse(kind, doc.name, users, `cannot drop key '${users[0]!.key}'`);
  }
  const outcome = await objects.apply(doc, dryRun);
  const warnings: string[] = [];
  if (!dryRun && outcome.changedKeys.length > 0 && before !== undefined) warnings.push(...(await rollServices(controllers, kind, doc.name, outcome.changedKeys)));
  return { kind, name: doc.name, version: outcome.version, result: outcome.result, deploymentId: '', warnings };
}

export function getObject(objects: ConfigObjects, principal: Principal, kind: ObjectKind, name: string, reveal: boolean): ObjectView {
  requirePermission(principal, 'jobs.read', kind);
  if (reveal && kind === 'SECRET') requirePermission(principal, 'secrets.read', name);
  return objects.get(kind, name, reveal);
}

export function listObjects(objects: ConfigObjects, principal: Principal, kind: ObjectKind): ObjectView[] {
  requirePermission(principal, 'jobs.read', kind);
  return objects.list(kind);
}

export async function deleteObject(objects: ConfigObjects, controllers: ControllerRegistry, principal: Principal, kind: ObjectKind, name: string): Promise<void> {
  requirePermission(principal, 'jobs.write', kind);
  objects.get(kind, name); // NOT_FOUND first
  const users = await referencing(controllers, kind, name);
  if (users.length > 0) throw inUse(kind, name, users, 'cannot delete it');
  await objects.delete(kind, name);
}

/**
 * A workload spec's references, as submitted: each Secret named needs the caller's secrets.read,
 * each Config jobs.read on Config, and every key must exist now.
 */
export function authorizeRefs(objects: ConfigObjects | undefined, principal: Principal, kind: WorkloadKind, spec: Loose): void {
  const at = kind === 'SERVICE' ? '' : 'task';
  const template = kind === 'SERVICE' ? spec : asObject(spec['task']);
  if (!template) return;
  const refs = refsOf({ envFrom: parseEnvFrom(template['envFrom'], join(at, 'envFrom'), {}), files: parseFiles(template['files'], join(at, 'files')) }, at);
  if (refs.length === 0) return;
  const served = requireObjects(objects);
  for (const { ref, field } of refs) {
    const { kind: target, name } = targetOf(ref);
    if (target === 'SECRET') requirePermission(principal, 'secrets.read', name);
    else requirePermission(principal, 'jobs.read', 'CONFIG');
    const keys = served.keys(target, name);
    const what = `${objectNames(target).document.toLowerCase()} '${name}'`;
    if (keys === undefined) throw new FailedPreconditionError(`${field}: ${what} does not exist: create it first`, { field });
    if (!keys.includes(ref.key)) throw new FailedPreconditionError(`${field}: ${what} has no key '${ref.key}' (it has ${keys.length === 0 ? 'none' : keys.join(', ')})`, { field });
  }
}

interface Use {
  readonly workload: string;
  readonly kind: WorkloadKind;
  readonly key: string;
}

/** Every workload (of the kinds served) that references a key of this object. */
async function referencing(controllers: ControllerRegistry, kind: ObjectKind, name: string): Promise<Use[]> {
  const out: Use[] = [];
  for (const k of controllers.kinds()) {
    for (const w of await controllers.get(k).list()) {
      for (const ref of refsOfWorkload(w)) {
        const target = targetOf(ref);
        if (target.kind === kind && target.name === name) out.push({ workload: w.name ?? '', kind: k, key: ref.key });
      }
    }
  }
  return out;
}

function refsOfWorkload(w: Workload): ValueRefDoc[] {
  const template = (w.service ?? w.cronjob?.task ?? w.job?.task) as { envFrom?: Record<string, Loose>; files?: Loose[] } | null | undefined;
  if (!template) return [];
  const env = Object.values(template.envFrom ?? {});
  return [...env, ...(template.files ?? [])].flatMap((r): ValueRefDoc[] => {
    const key = String(r['key'] ?? '');
    if (r['secret']) return [{ secret: String(r['secret']), key }];
    if (r['config']) return [{ config: String(r['config']), key }];
    return [];
  });
}

/** Restart every Service using one of `keys`; a failure is a warning (the value is stored). */
async function rollServices(controllers: ControllerRegistry, kind: ObjectKind, name: string, keys: readonly string[]): Promise<string[]> {
  if (!controllers.has('SERVICE')) return [];
  const services = [...new Set((await referencing(controllers, kind, name)).filter((u) => u.kind === 'SERVICE' && keys.includes(u.key)).map((u) => u.workload))].sort();
  const warnings: string[] = [];
  for (const service of services) {
    try {
      const d = await controllers.service().restart(service);
      warnings.push(`service/${service} rolls to pick up the change (deployment ${d.id ?? ''})`);
    } catch (err) {
      warnings.push(`service/${service} uses it but could not be rolled: ${(err as Error).message}; roll it with agora rollout restart`);
    }
  }
  return warnings;
}

function inUse(kind: ObjectKind, name: string, users: readonly Use[], what: string): FailedPreconditionError {
  const list = [...new Set(users.map((u) => `${u.kind.toLowerCase()}/${u.workload}`))].sort().join(', ');
  return new FailedPreconditionError(`${objectNames(kind).document.toLowerCase()} '${name}' is used by ${list}: ${what} (change them first)`, { field: 'name' });
}

function asObject(value: unknown): Loose | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : undefined;
}

export function objectKindFromPath(value: string): ObjectKind {
  const kind = objectKindOf(value);
  if (!kind) throw new InvalidArgumentError('kind', `'${value}' is not Secret or Config`);
  return kind;
}
