// Secrets and Configs as documents: `kind: Secret` / `kind: Config`, a name, `data` (key → text)
// and labels — Kubernetes' Secret and ConfigMap with `stringData` only. Pure: parsing and the
// views that go out (a Secret's values never; its keys and their sizes, as `kubectl describe`).
import { InvalidArgumentError } from '../../core/errors.js';
import { objectAt, onlyKeys, stringMapAt, type Doc } from '../common/spec-fields.js';

export type ObjectKind = 'SECRET' | 'CONFIG';

/** `kind:` in a document, HTTP plural, and what people type. */
export const OBJECT_KINDS = Object.freeze([
  { kind: 'SECRET', document: 'Secret', plural: 'secrets', aliases: ['secret', 'secrets'] },
  { kind: 'CONFIG', document: 'Config', plural: 'configs', aliases: ['config', 'configs', 'configmap', 'configmaps', 'cm'] },
] as const);

export function objectKindOf(documentKind: unknown): ObjectKind | undefined {
  if (typeof documentKind !== 'string') return undefined;
  const text = documentKind.toLowerCase();
  return OBJECT_KINDS.find((k) => k.document.toLowerCase() === text || k.kind.toLowerCase() === text)?.kind;
}

export function objectKindFromAlias(value: string): ObjectKind | undefined {
  const text = value.toLowerCase();
  return OBJECT_KINDS.find((k) => (k.aliases as readonly string[]).includes(text))?.kind;
}

export function objectNames(kind: ObjectKind): (typeof OBJECT_KINDS)[number] {
  return OBJECT_KINDS.find((k) => k.kind === kind)!;
}

/** Object names: a DNS label, as services' (and Kubernetes'). */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Keys: Kubernetes' rule for Secret and ConfigMap keys (they become file names). */
const KEY = /^[-._a-zA-Z0-9]{1,253}$/;
/** All values of one object together; sealed, they fit a ZooKeeper node (1 MB) with room to spare. */
export const MAX_OBJECT_BYTES = 256 * 1024;

export interface ObjectDoc {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Key → value, in the clear (sealed only in the store). */
  readonly data: Readonly<Record<string, string>>;
}

export function validateObjectName(value: unknown, field = 'name'): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidArgumentError(field, `${JSON.stringify(value) ?? 'nothing'} is not a valid name: lower-case letters, digits and '-', starting and ending with a letter or digit, up to 63 characters`);
  }
  return value;
}

export function validateObjectKey(value: unknown, field: string): string {
  if (typeof value !== 'string' || !KEY.test(value) || value === '.' || value === '..') {
    throw new InvalidArgumentError(field, `${JSON.stringify(value) ?? 'nothing'} is not a valid key: letters, digits, '-', '_' and '.', not '.' or '..'`);
  }
  return value;
}

/** A parsed document (its `kind` already known to be Secret or Config). Errors name the field, never a value. */
export function parseObjectDoc(kind: ObjectKind, value: Doc): ObjectDoc {
  // `status` is what `agora get -o yaml` prints beside the document: read-only, ignored here.
  onlyKeys(value, ['kind', 'name', 'labels', 'data', 'status'], '');
  const status = value['status'];
  if (status !== undefined && (status === null || typeof status !== 'object' || Array.isArray(status))) {
    throw new InvalidArgumentError('status', 'is read-only and ignored, but must be a mapping when given (as `agora get -o yaml` prints it)');
  }
  // A Secret printed without its values (get -o yaml without --reveal) must not apply back as
  // a Secret with none: that would wipe them.
  if (kind === 'SECRET' && value['data'] === undefined) {
    throw new InvalidArgumentError('data', 'is required in a Secret (`agora get secret NAME -o yaml` leaves the values out unless given --reveal)');
  }
  const name = validateObjectName(value['name']);
  const raw = objectAt(value['data'], 'data') ?? {};
  for (const key of Object.keys(raw)) validateObjectKey(key, `data.${key}`);
  // stringMapAt names the key at fault (`data.password: must be a string, got an object`), not its value.
  const data = stringMapAt(raw, 'data');
  const bytes = Object.entries(data).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_OBJECT_BYTES) throw new InvalidArgumentError('data', `holds ${bytes} bytes; at most ${MAX_OBJECT_BYTES} are allowed in one ${objectNames(kind).document}`);
  return { kind, name, labels: stringMapAt(value['labels'], 'labels'), data };
}

/** What `get` and `describe` show: a Config's values; a Secret's keys and sizes only (unless `reveal`). */
export interface ObjectView {
  readonly kind: 'Secret' | 'Config';
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly version: string;
  readonly updatedAtMs: number;
  /** Every key with its value's size in bytes, sorted. */
  readonly keys: { key: string; bytes: number }[];
  /** Configs always; Secrets only for callers with secrets.read who ask (`?reveal=1`). */
  readonly data?: Record<string, string>;
}

export function objectView(doc: ObjectDoc, meta: { version: string; updatedAtMs: number }, reveal: boolean): ObjectView {
  const keys = Object.keys(doc.data).sort().map((key) => ({ key, bytes: Buffer.byteLength(doc.data[key] ?? '') }));
  const show = doc.kind === 'CONFIG' || reveal;
  return { kind: objectNames(doc.kind).document, name: doc.name, labels: { ...doc.labels }, version: meta.version, updatedAtMs: meta.updatedAtMs, keys, ...(show ? { data: { ...doc.data } } : {}) };
}
