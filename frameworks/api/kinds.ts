// The three kinds of workload under their four spellings: the contract's WorkloadKind and the
// proto enum ('SERVICE'), a document's `kind:` ('Service'), and the HTTP path ('services').
// One table, so every edge (gRPC, HTTP, CLI) agrees.
import { InvalidArgumentError } from '../../core/errors.js';
import type { WorkloadKind } from '../workload.js';

export interface KindNames {
  readonly kind: WorkloadKind;
  /** `kind:` in a document. */
  readonly document: 'Service' | 'CronJob' | 'Job';
  /** The HTTP collection: /api/v1/<plural>. */
  readonly plural: 'services' | 'cronjobs' | 'jobs';
  /** What people type: `service/web`, `svc/web`. */
  readonly aliases: readonly string[];
}

export const KINDS: readonly KindNames[] = Object.freeze([
  { kind: 'SERVICE', document: 'Service', plural: 'services', aliases: ['service', 'services', 'svc'] },
  { kind: 'CRONJOB', document: 'CronJob', plural: 'cronjobs', aliases: ['cronjob', 'cronjobs', 'cj'] },
  { kind: 'JOB', document: 'Job', plural: 'jobs', aliases: ['job', 'jobs'] },
]);

export const WORKLOAD_KINDS: readonly WorkloadKind[] = KINDS.map((k) => k.kind);

export function namesOf(kind: WorkloadKind): KindNames {
  const names = KINDS.find((k) => k.kind === kind);
  if (!names) throw new InvalidArgumentError('kind', `unknown kind '${String(kind)}'`);
  return names;
}

/** `kind:` of a document (case-insensitive: Service, service, SERVICE) → WorkloadKind. */
export function kindFromDocument(value: unknown, field = 'kind'): WorkloadKind {
  if (value === undefined || value === null || value === '') throw new InvalidArgumentError(field, 'is required: Service, CronJob or Job');
  const text = String(value).toLowerCase();
  const names = KINDS.find((k) => k.document.toLowerCase() === text || k.kind.toLowerCase() === text);
  if (!names) throw new InvalidArgumentError(field, `unknown kind '${String(value)}': expected Service, CronJob or Job`);
  return names.kind;
}

/** A proto Kind as received (enum name, or number from a lenient client) → WorkloadKind. */
export function kindFromWire(value: unknown, field = 'kind'): WorkloadKind {
  const byNumber: Record<number, WorkloadKind> = { 1: 'SERVICE', 2: 'CRONJOB', 3: 'JOB' };
  if (typeof value === 'number' && byNumber[value]) return byNumber[value];
  if (value === 'SERVICE' || value === 'CRONJOB' || value === 'JOB') return value;
  throw new InvalidArgumentError(field, `must be SERVICE, CRONJOB or JOB, got '${String(value ?? '')}'`);
}

/** What people type (`service`, `svc`, `cronjobs`, `job`) → WorkloadKind, or undefined. */
export function kindFromAlias(value: string): WorkloadKind | undefined {
  const text = value.toLowerCase();
  return KINDS.find((k) => k.aliases.includes(text))?.kind;
}

export function kindFromPlural(plural: string): WorkloadKind | undefined {
  return KINDS.find((k) => k.plural === plural)?.kind;
}
