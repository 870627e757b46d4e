// Secrets and Configs in `agora get`, `describe` and `delete`: `secret/db`, `configs`, `cm/app`.
// What the Jobs API sends is all that is shown: a Secret's keys and sizes, never its values
// (kubectl describe secret); a Config's values too.
import { InvalidArgumentError } from '../../core/errors.js';
import { objectKindFromAlias, objectNames, type ObjectKind, type ObjectView } from '../../frameworks/objects/spec.js';
import type { AgoraClient } from '../client.js';
import { age, table } from '../table.js';
import { fields, section } from './describe-format.js';
import { printStructured, type OutputFormat } from './shared.js';
import { listDocument } from './workload-documents.js';

export interface ObjectRef {
  readonly kind: ObjectKind;
  readonly name: string;
  readonly label: string;
}

/** `secret/db`, `secret db`, `configs app`; undefined when the kind is not Secret or Config. */
export function objectRef(first: string, second?: string): ObjectRef | undefined {
  const slash = first.indexOf('/');
  const [kindText, name] = second !== undefined ? [first, second] : slash === -1 ? [first, ''] : [first.slice(0, slash), first.slice(slash + 1)];
  const kind = objectKindFromAlias(kindText);
  if (!kind) return undefined;
  if (name === '') throw new InvalidArgumentError('KIND/NAME', `'${first}' names no ${objectNames(kind).document.toLowerCase()} (e.g. ${objectNames(kind).aliases[0]}/NAME)`);
  return { kind, name, label: `${objectNames(kind).document.toLowerCase()}/${name}` };
}

export function objectPath(kind: ObjectKind, name?: string): string {
  return `/api/v1/${objectNames(kind).plural}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}

export async function getObjects(client: AgoraClient, kind: ObjectKind, name: string | undefined, format: OutputFormat, reveal = false): Promise<void> {
  if (reveal && (kind !== 'SECRET' || name === undefined || (format !== 'json' && format !== 'yaml'))) {
    throw new InvalidArgumentError('--reveal', 'goes with one secret and -o yaml or json (agora get secret NAME -o yaml --reveal)');
  }
  const items = name === undefined ? (await client.jobs<{ items: ObjectView[] }>('GET', objectPath(kind))).items : [await client.jobs<ObjectView>('GET', `${objectPath(kind, name)}${reveal ? '?reveal=1' : ''}`)];
  if (format === 'json' || format === 'yaml') return printStructured(format, name === undefined ? listDocument(items.map(objectDocument)) : objectDocument(items[0]!));
  const rows = items.map((o) => [o.name, o.keys.length, ...(format === 'wide' ? [o.keys.map((k) => k.key).join(',') || '<none>', o.version] : []), age(o.updatedAtMs)]);
  const headers = ['NAME', 'KEYS', ...(format === 'wide' ? ['NAMES', 'VERSION'] : []), 'AGE'];
  process.stdout.write(items.length === 0 ? `No ${objectNames(kind).plural} found.\n` : table(headers, rows));
}

/**
 * The document of a Secret or Config, as `apply -f` takes it back: kind, name, labels, data (a
 * Secret's only when revealed), and read-only `status` (version, update time, keys and sizes).
 */
export function objectDocument(o: ObjectView): Record<string, unknown> {
  return {
    kind: o.kind,
    name: o.name,
    ...(Object.keys(o.labels ?? {}).length > 0 ? { labels: { ...o.labels } } : {}),
    ...(o.data !== undefined ? { data: { ...o.data } } : {}),
    status: { version: o.version, updatedAtMs: o.updatedAtMs, keys: o.keys },
  };
}

export async function describeObject(client: AgoraClient, ref: ObjectRef): Promise<void> {
  const o = await client.jobs<ObjectView>('GET', objectPath(ref.kind, ref.name));
  const labels = Object.entries(o.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ');
  const head = fields([
    ['Name', o.name],
    ['Kind', o.kind],
    ['Version', o.version],
    ['Updated', `${new Date(o.updatedAtMs).toISOString()} (${age(o.updatedAtMs)} ago)`],
    ['Labels', labels],
  ]);
  const data = ref.kind === 'SECRET' ? section('Data', ['KEY', 'BYTES'], o.keys.map((k) => [k.key, `${k.bytes} bytes`])) : section('Data', ['KEY', 'VALUE'], o.keys.map((k) => [k.key, o.data?.[k.key] ?? '']));
  process.stdout.write(`${head}${data}`);
}
