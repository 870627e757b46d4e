// Workloads as documents, as kubectl prints objects: what `get -o yaml|json` prints is what
// `apply -f` takes back. A document is `kind:` (Service, CronJob, Job), the spec's fields at the
// top level (as a hand-written spec has them) and `status:` — version, times and the framework's
// status — which is read-only: the Jobs API ignores it on apply (frameworks/api/document.ts).
//
//   kind: Service            ◄── spec: what apply compares; unchanged when nothing here moved
//   name: web
//   instances: 3
//   ...
//   status: { version: …, createdAtMs: …, updatedAtMs: …, ready: 3, … }   ◄── ignored by apply
//
// Several objects print as `kind: List` with `items:` (kubectl's form); apply takes a List back.
// Env values a caller may not see print as the mask, and the Jobs API refuses to apply the mask.
import { InvalidArgumentError } from '../../core/errors.js';
import { kindFromDocument, kindFromWire, namesOf } from '../../frameworks/api/kinds.js';
import { objectKindOf, objectNames, type ObjectKind } from '../../frameworks/objects/spec.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import type { Workload } from '../../proto/index.js';
import { FileInputError } from '../errors.js';
import type { SourceDocument } from './spec-files.js';

export type Doc = Record<string, unknown>;

/** The document of a workload: kind, the spec's fields, and read-only `status`. */
export function workloadDocument(w: Workload): Doc {
  const kind = kindFromWire(w.kind);
  const [spec, status] = kind === 'SERVICE' ? [w.service, w.serviceStatus] : kind === 'CRONJOB' ? [w.cronjob, w.cronjobStatus] : [w.job, w.jobStatus];
  return {
    kind: namesOf(kind).document,
    ...(pruned(spec ?? {}) as Doc),
    status: pruned({ version: w.version, createdAtMs: w.createdAtMs, updatedAtMs: w.updatedAtMs, ...(status ?? {}) }),
  };
}

/** Several objects as one document, as kubectl prints them. */
export function listDocument(items: readonly unknown[]): Doc {
  return { kind: 'List', items: [...items] };
}

/**
 * A copy without what means "not set" on the wire: null and undefined, empty lists and empty
 * maps (a spec's `labels: {}` is no labels). Zero, false and '' stay: they are values.
 */
export function pruned(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruned);
  if (typeof value !== 'object' || value === null) return value;
  const out: Doc = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    const p = pruned(v);
    if (typeof p === 'object' && p !== null && !Array.isArray(p) && Object.keys(p).length === 0) continue;
    out[k] = p;
  }
  return out;
}

/** The same value with every map's keys in order, for diffs that show changes, not reorderings. */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortedKeys((value as Doc)[k])]),
  );
}

/** The spec part of a document: without `status`, pruned, keys in order (what `diff` compares). */
export function specPart(doc: Doc): Doc {
  const { status: _status, ...spec } = doc;
  return sortedKeys(pruned(spec)) as Doc;
}

/** One workload document read from a file, with its kind and name checked. */
export interface WorkloadSource {
  readonly origin: string;
  readonly where: string;
  /** A workload, or a Secret or Config (frameworks/objects/), which apply and delete take too. */
  readonly kind: WorkloadKind | ObjectKind;
  readonly name: string;
  /** `service/web`, for messages. */
  readonly label: string;
  readonly doc: Doc;
}

/** Documents → workload documents: `kind: List` is opened into its items; each needs kind and name. */
export function workloadSources(docs: readonly SourceDocument[]): WorkloadSource[] {
  const out: WorkloadSource[] = [];
  for (const d of docs) {
    const value = d.value;
    if (isDoc(value) && value['kind'] === 'List') {
      const items = value['items'];
      if (!Array.isArray(items)) throw new FileInputError(d.origin, `${d.where}items`, 'a List needs items: a list of documents');
      items.forEach((item, i) => out.push(checked(item, d.origin, `${d.where}items[${i}].`)));
    } else {
      out.push(checked(value, d.origin, d.where));
    }
  }
  return out;
}

function checked(value: unknown, origin: string, where: string): WorkloadSource {
  if (!isDoc(value)) throw new FileInputError(origin, where.replace(/[.:] ?$/, '') || '(document)', 'must be a mapping with kind, name and the fields of its spec');
  let kind: WorkloadKind | ObjectKind | undefined = objectKindOf(value['kind']);
  try {
    kind ??= kindFromDocument(value['kind']);
  } catch (err) {
    if (err instanceof InvalidArgumentError) throw new FileInputError(origin, `${where}kind`, `${err.message.replace(/^kind: /, '')}, Secret or Config`.replace(/ or Job, Secret/, ', Job, Secret'));
    throw err;
  }
  const name = value['name'];
  if (typeof name !== 'string' || name === '') throw new FileInputError(origin, `${where}name`, 'is required');
  return { origin, where, kind, name, label: `${documentName(kind).toLowerCase()}/${name}`, doc: value };
}

/** `Service`, `Secret`: a kind as documents spell it. */
export function documentName(kind: WorkloadKind | ObjectKind): string {
  return isObjectKind(kind) ? objectNames(kind).document : namesOf(kind).document;
}

export function isObjectKind(kind: string): kind is ObjectKind {
  return kind === 'SECRET' || kind === 'CONFIG';
}

function isDoc(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
