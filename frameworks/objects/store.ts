// Secrets and Configs in the store, and in memory for launches. One node per object under the
// host's own namespace (/<cluster>/frameworks/agora-objects/state/{secrets,configs}/<name>):
//
//   { name, labels, version, updatedAtMs, data: { key: value } }   a Config's values in the clear
//                                                                  a Secret's sealed (secret-box.ts)
//   key-check: a known text sealed under the key in use, so a host started with another key
//              (or none, while secrets exist) refuses to start instead of failing at a launch.
//
// The frameworks host opens it when elected (before the frameworks, which read values at each
// launch through `value()`), and writes go through it: only the leader writes, so its memory is
// the truth while it leads. Services that use a changed key are rolled by the API (objects-api.ts).
import { AgoraError, FailedPreconditionError, NotFoundError } from '../../core/errors.js';
import type { Clock } from '../../core/clock.js';
import { SecretKey, SecretOpenError } from '../../core/security/secret-box.js';
import type { Store } from '../../core/store/index.js';
import { FrameworkState } from '../../sdk/state.js';
import { objectNames, objectView, type ObjectDoc, type ObjectKind, type ObjectView } from './spec.js';

export const OBJECTS_NAMESPACE = 'agora-objects';
const KEY_CHECK = 'key-check';
const KEY_CHECK_TEXT = 'agora secrets key';

interface StoredObject {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly version: string;
  readonly updatedAtMs: number;
  readonly data: Record<string, string>;
}

interface Held {
  readonly doc: ObjectDoc;
  readonly version: string;
  readonly updatedAtMs: number;
}

function folder(kind: ObjectKind): string {
  return objectNames(kind).plural;
}

function context(kind: ObjectKind, name: string, key: string): string {
  return `${objectNames(kind).document}/${name}/${key}`;
}

export class ConfigObjects {
  readonly #held = new Map<string, Held>();

  private constructor(
    private readonly state: FrameworkState,
    private readonly key: SecretKey | undefined,
    private readonly clock: Clock,
  ) {}

  static namespace(store: Store, cluster: string): FrameworkState {
    return new FrameworkState(store, cluster, OBJECTS_NAMESPACE);
  }

  /**
   * Check `key` against the store: refused (FailedPreconditionError, saying what to do) when
   * secrets are stored and no key was given, or the key is not the one they were sealed with.
   * A key seen for the first time is recorded (its key-check).
   */
  static async checkKey(state: FrameworkState, key: SecretKey | undefined): Promise<void> {
    const check = await state.get<string>(KEY_CHECK);
    if (key === undefined) {
      const secrets = await state.list(folder('SECRET'));
      if (check !== undefined || secrets.length > 0) {
        throw new FailedPreconditionError(`the store holds secrets (${secrets.length}) sealed with a secrets key, and none was given: pass --secrets-key-file with the key they were sealed with`, { field: '--secrets-key-file' });
      }
      return;
    }
    if (check === undefined) {
      await state.set(KEY_CHECK, key.seal(KEY_CHECK_TEXT, KEY_CHECK));
      return;
    }
    try {
      key.open(check.value, KEY_CHECK);
    } catch (err) {
      if (!(err instanceof SecretOpenError)) throw err;
      throw new FailedPreconditionError('--secrets-key-file is not the key the stored secrets were sealed with: give the original key file', { field: '--secrets-key-file' });
    }
  }

  /** Load every object (opening the secrets); the key is checked first. */
  static async open(store: Store, cluster: string, key: SecretKey | undefined, clock: Clock): Promise<ConfigObjects> {
    const state = ConfigObjects.namespace(store, cluster);
    await store.mkdirp(state.root);
    await ConfigObjects.checkKey(state, key);
    const objects = new ConfigObjects(state, key, clock);
    for (const kind of ['SECRET', 'CONFIG'] as const) {
      for (const name of await state.list(folder(kind))) {
        const node = await state.get<StoredObject>(`${folder(kind)}/${name}`);
        if (node) objects.#held.set(`${kind}/${name}`, objects.#fromStored(kind, name, node.value));
      }
    }
    return objects;
  }

  /** Validate (done by the caller: ObjectDoc), store, then hold. `changed` lists the keys whose value differs. */
  async apply(doc: ObjectDoc, dryRun = false): Promise<{ result: 'CREATED' | 'UPDATED' | 'UNCHANGED'; version: string; changedKeys: string[] }> {
    if (doc.kind === 'SECRET' && this.key === undefined) {
      throw new FailedPreconditionError('secrets cannot be stored: the frameworks host has no secrets key (--secrets-key-file)', { field: 'kind' });
    }
    const prior = this.#held.get(`${doc.kind}/${doc.name}`);
    const keys = new Set([...Object.keys(doc.data), ...Object.keys(prior?.doc.data ?? {})]);
    const changedKeys = [...keys].filter((k) => prior?.doc.data[k] !== doc.data[k]).sort();
    const same = prior !== undefined && changedKeys.length === 0 && JSON.stringify(prior.doc.labels) === JSON.stringify(doc.labels);
    if (same) return { result: 'UNCHANGED', version: prior.version, changedKeys: [] };
    const version = String(Number(prior?.version ?? 0) + 1);
    const result = prior === undefined ? 'CREATED' : 'UPDATED';
    if (dryRun) return { result, version, changedKeys };
    const updatedAtMs = this.clock.now();
    await this.state.set(`${folder(doc.kind)}/${doc.name}`, this.#toStored(doc, version, updatedAtMs));
    this.#held.set(`${doc.kind}/${doc.name}`, { doc, version, updatedAtMs });
    return { result, version, changedKeys };
  }

  /** A view: a Secret's values only with `reveal` (the caller checked secrets.read). */
  get(kind: ObjectKind, name: string, reveal = false): ObjectView {
    const held = this.#held.get(`${kind}/${name}`);
    if (!held) throw new NotFoundError(objectNames(kind).document.toLowerCase(), name);
    return objectView(held.doc, held, reveal);
  }

  list(kind: ObjectKind): ObjectView[] {
    return [...this.#held.values()].filter((h) => h.doc.kind === kind).sort((a, b) => a.doc.name.localeCompare(b.doc.name)).map((h) => objectView(h.doc, h, false));
  }

  has(kind: ObjectKind, name: string): boolean {
    return this.#held.has(`${kind}/${name}`);
  }

  /** The keys of an object (undefined when it does not exist). */
  keys(kind: ObjectKind, name: string): string[] | undefined {
    const held = this.#held.get(`${kind}/${name}`);
    return held ? Object.keys(held.doc.data) : undefined;
  }

  /** One value, for a launch; undefined when the object or the key is absent. */
  value(kind: ObjectKind, name: string, key: string): string | undefined {
    const data = this.#held.get(`${kind}/${name}`)?.doc.data;
    return data && Object.hasOwn(data, key) ? data[key] : undefined;
  }

  async delete(kind: ObjectKind, name: string): Promise<void> {
    if (!this.#held.has(`${kind}/${name}`)) throw new NotFoundError(objectNames(kind).document.toLowerCase(), name);
    await this.state.delete(`${folder(kind)}/${name}`);
    this.#held.delete(`${kind}/${name}`);
  }

  #toStored(doc: ObjectDoc, version: string, updatedAtMs: number): StoredObject {
    const key = this.key;
    const data = doc.kind === 'SECRET' && key ? Object.fromEntries(Object.entries(doc.data).map(([k, v]) => [k, key.seal(v, context(doc.kind, doc.name, k))])) : { ...doc.data };
    return { name: doc.name, labels: { ...doc.labels }, version, updatedAtMs, data };
  }

  /** `name` is the node's, not the stored field: a secret copied to another node must not open there. */
  #fromStored(kind: ObjectKind, name: string, stored: StoredObject): Held {
    const key = this.key;
    if (kind === 'SECRET' && key === undefined) throw new AgoraError('AGORA_FAILED_PRECONDITION', 'secrets are stored but no secrets key was given');
    const data = kind === 'SECRET' ? Object.fromEntries(Object.entries(stored.data).map(([k, v]) => [k, (key as SecretKey).open(v, context(kind, name, k))])) : { ...stored.data };
    return { doc: { kind, name, labels: { ...stored.labels }, data }, version: stored.version, updatedAtMs: stored.updatedAtMs };
  }
}
