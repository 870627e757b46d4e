// What a new version of a service record changes (pure), so the book writes only what must survive
// a restart. A plan after every burst of status updates moves the active deployment's progress
// ("412 of 1000 instance(s) … available"); every plan works that out again from the tasks, so it is
// kept in memory and written with the next change that matters, rather than rewriting a record of a
// thousand tasks for each burst. Anything else — tasks, versions, a deployment's phase or failures,
// instances waiting out their backoff — is durable.
//
// Cheap on purpose: parts the plan left alone are the same objects (a record of a thousand tasks
// is not serialised to find that they did not change); the others are compared as JSON, as the
// store would hold them.
import type { DeploymentRecord, ServiceRecord } from './model.js';

export type RecordChange = 'none' | 'progress' | 'durable';

/** How `after` differs from `before` (none; only the active deployment's progress; anything else). */
export function recordChange(before: ServiceRecord | undefined, after: ServiceRecord): RecordChange {
  if (before === undefined) return 'durable';
  if (before === after) return 'none';
  let change: RecordChange = 'none';
  const keys = new Set([...Object.keys(before), ...Object.keys(after)] as (keyof ServiceRecord)[]);
  for (const key of keys) {
    const a = before[key];
    const b = after[key];
    if (a === b) continue;
    if (key === 'deployments') {
      const d = deploymentsChange(before.deployments, after.deployments);
      if (d === 'durable') return d;
      if (d === 'progress') change = d;
    } else if (!sameJson(a, b)) {
      return 'durable';
    }
  }
  return change;
}

function deploymentsChange(before: readonly DeploymentRecord[], after: readonly DeploymentRecord[]): RecordChange {
  if (before.length !== after.length) return 'durable';
  let change: RecordChange = 'none';
  for (let i = 0; i < before.length; i++) {
    const a = before[i]!;
    const b = after[i]!;
    if (a === b || sameJson(a, b)) continue;
    if (!progressOnly(a, b)) return 'durable';
    change = 'progress';
  }
  return change;
}

/** The same deployment, still in progress, with only its progress and message moved. */
function progressOnly(a: DeploymentRecord, b: DeploymentRecord): boolean {
  if (a.phase !== 'DEPLOYMENT_IN_PROGRESS' || b.phase !== 'DEPLOYMENT_IN_PROGRESS') return false;
  return sameJson({ ...a, progress: 0, message: '' }, { ...b, progress: 0, message: '' });
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
