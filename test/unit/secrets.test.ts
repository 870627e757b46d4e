// Secrets and Configs, the pure and in-memory halves: the sealed box (AES-256-GCM), the key file,
// template references, and the objects store over a real embedded store read back raw.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { AgoraError } from '../../core/errors.js';
import { grantsOf, parsePolicy } from '../../core/security/policy.js';
import { may } from '../../core/security/principal.js';
import { SecretKey, SecretOpenError } from '../../core/security/secret-box.js';
import { openStore } from '../../core/store/index.js';
import { parseTaskTemplate } from '../../frameworks/common/task-template.js';
import { templateTaskInfo } from '../../frameworks/common/task-info.js';
import { currentTemplate, validateJobSpec } from '../../frameworks/batch/spec.js';
import { jobSpecToWire } from '../../frameworks/batch/views.js';
import { Resources } from '../../core/resources.js';
import { resolveRefs, sandboxPath } from '../../frameworks/common/value-refs.js';
import { parseObjectDoc } from '../../frameworks/objects/spec.js';
import { ConfigObjects } from '../../frameworks/objects/store.js';
import { thrown } from '../support/thrown.js';

async function rejection(p: Promise<unknown>): Promise<AgoraError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AgoraError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('the sealed box', () => {
  const key = SecretKey.generate();

  it('opens what it sealed, with a fresh nonce each time, and never holds the value in clear', () => {
    const a = key.seal('hunter2', 'Secret/db/password');
    const b = key.seal('hunter2', 'Secret/db/password');
    expect(a).not.toBe(b);
    expect(a).not.toContain('hunter2');
    expect(Buffer.from(a.split('.')[2]!, 'base64url').toString()).not.toContain('hunter2');
    expect(key.open(a, 'Secret/db/password')).toBe('hunter2');
    expect(JSON.stringify({ key })).not.toMatch(/[A-Za-z0-9+/]{40}/);
  });

  it('detects tampering: a flipped bit of the ciphertext, the tag or the nonce', () => {
    const sealed = key.seal('hunter2', 'ctx');
    const parts = sealed.split('.');
    for (const i of [1, 2, 3]) {
      const bytes = Buffer.from(parts[i]!, 'base64url');
      bytes[0] = bytes[0]! ^ 1;
      const forged = parts.map((p, j) => (j === i ? bytes.toString('base64url') : p)).join('.');
      expect(() => key.open(forged, 'ctx')).toThrow(SecretOpenError);
    }
    expect(() => key.open('v1.garbage', 'ctx')).toThrow(SecretOpenError);
  });

  it('refuses a value moved to another name or key (associated data), and another key', () => {
    const sealed = key.seal('hunter2', 'Secret/db/password');
    expect(() => key.open(sealed, 'Secret/other/password')).toThrow(SecretOpenError);
    expect(() => SecretKey.generate().open(sealed, 'Secret/db/password')).toThrow(SecretOpenError);
    const err = thrown(() => SecretKey.generate().open(sealed, 'Secret/db/password'));
    expect(err.message).not.toContain('hunter2');
  });

  it('key files: made 0600 and never replaced; a wrong length names the flag', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agora-key-'));
    const file = path.join(dir, 'secrets-key');
    const made = await SecretKey.createFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const read = await SecretKey.readFile(file);
    expect(read.open(made.seal('x', 'c'), 'c')).toBe('x');
    await expect(SecretKey.createFile(file)).rejects.toThrow(/EEXIST/);
    writeFileSync(path.join(dir, 'short'), Buffer.alloc(16).toString('base64'));
    const err = await rejection(SecretKey.readFile(path.join(dir, 'short')));
    expect(err.message).toMatch(/^--secrets-key-file: .* must hold 32 bytes in base64/);
  });
});

describe('references in a task template', () => {
  const base = { command: 'run', resources: { cpus: 0.1, mem: 32 } };

  it('parses envFrom and files, with default modes and normalised paths', () => {
    const t = parseTaskTemplate(
      { ...base, envFrom: { DB_PASSWORD: { secret: 'db', key: 'password' }, LEVEL: { config: 'app', key: 'level' } }, files: [{ path: './conf//app.ini', config: 'app', key: 'ini' }, { path: 'tls/key.pem', secret: 'tls', key: 'key', mode: '440' }] },
      '',
      { readiness: true },
    );
    expect(t.envFrom).toEqual({ DB_PASSWORD: { secret: 'db', key: 'password' }, LEVEL: { config: 'app', key: 'level' } });
    expect(t.files).toEqual([
      { path: 'conf/app.ini', config: 'app', key: 'ini', mode: '0440' },
      { path: 'tls/key.pem', secret: 'tls', key: 'key', mode: '0440' },
    ]);
    expect(parseTaskTemplate(base, '', { readiness: true })).not.toHaveProperty('envFrom');
  });

  it('refuses what is ambiguous or leaves the sandbox, naming the field', () => {
    const bad = (doc: Record<string, unknown>): string => thrown(() => parseTaskTemplate({ ...base, ...doc }, 'task', { readiness: false })).message;
    expect(bad({ envFrom: { X: { secret: 'a', config: 'b', key: 'k' } } })).toBe('task.envFrom.X: give exactly one of secret or config');
    expect(bad({ envFrom: { X: { secret: 'a' } } })).toMatch(/^task\.envFrom\.X\.key: is required/);
    expect(bad({ env: { X: '1' }, envFrom: { X: { secret: 'a', key: 'k' } } })).toMatch(/^task\.envFrom\.X: 'X' is also in env/);
    expect(bad({ envFrom: { 'A-B': { secret: 'a', key: 'k' } } })).toMatch(/not a valid environment variable name/);
    expect(bad({ files: [{ path: '../etc/passwd', secret: 'a', key: 'k' }] })).toMatch(/^task\.files\[0\]\.path: '\.\.\/etc\/passwd' leaves the sandbox/);
    expect(bad({ files: [{ path: '/etc/passwd', secret: 'a', key: 'k' }] })).toMatch(/is absolute/);
    expect(bad({ files: [{ path: 'a/../../b', secret: 'a', key: 'k' }] })).toMatch(/leaves the sandbox/);
    expect(bad({ files: [{ path: 'a', secret: 's', key: 'k' }, { path: './a', config: 'c', key: 'k' }] })).toMatch(/^task\.files\[1\]\.path: 'a' is already written by task\.files\[0\]/);
    expect(bad({ files: [{ path: 'a', secret: 's', key: 'k', mode: '4755' }] })).toMatch(/mode: must be octal permission bits/);
    expect(bad({ files: [{ path: 'a', secret: 's', key: 'k', mode: 400 }] })).toMatch(/a YAML number 0400 would read as decimal 400/);
    expect(() => sandboxPath('a/b/', 'p')).toThrow(/names no file/);
  });

  it('resolves values at launch, and names a reference that does not resolve', () => {
    const t = parseTaskTemplate({ ...base, envFrom: { P: { secret: 'db', key: 'password' } }, files: [{ path: 'app.ini', config: 'app', key: 'ini' }] }, '', { readiness: true });
    const values: Record<string, string> = { 'SECRET/db/password': 'hunter2', 'CONFIG/app/ini': '[app]' };
    const secrets = resolveRefs(t, (kind, name, key) => values[`${kind}/${name}/${key}`]);
    expect(secrets?.env).toEqual([{ name: 'P', value: 'hunter2' }]);
    expect(secrets?.files?.map((f) => [f.path, Buffer.from(f.data as Uint8Array).toString(), f.mode])).toEqual([['app.ini', '[app]', 0o440]]);
    expect(() => resolveRefs(t, () => undefined)).toThrow("envFrom.P: secret 'db' has no key 'password' (or does not exist): create it first");
    expect(resolveRefs(parseTaskTemplate(base, '', { readiness: true }), undefined)).toBeUndefined();
  });
});

describe('references through a kind', () => {
  const task = { command: 'run', resources: { cpus: 0.1, mem: 32 }, envFrom: { P: { secret: 'db', key: 'password' } }, files: [{ path: 'a.ini', config: 'app', key: 'ini' }] };

  it('a Job keeps them in its stored template and its view, and its TaskInfo carries the values apart from env', () => {
    const spec = validateJobSpec({ name: 'crunch', task });
    expect(currentTemplate(spec.task)).toMatchObject({ envFrom: task.envFrom, files: [{ path: 'a.ini', config: 'app', key: 'ini', mode: '0440' }] });
    expect(jobSpecToWire(spec).task).toMatchObject({ envFrom: task.envFrom, files: [{ path: 'a.ini', config: 'app', key: 'ini' }] });
    const values: Record<string, string> = { 'SECRET/db/password': 'hunter2', 'CONFIG/app/ini': 'x=1' };
    const info = templateTaskInfo(spec.task, { taskId: 't', agentId: 'a', name: 'crunch', env: {}, labels: {}, values: (k, n, key) => values[`${k}/${n}/${key}`] }, { resources: Resources.fromScalars({ cpus: 0.1, mem: 32 }), ports: [] });
    expect(info.secrets?.env).toEqual([{ name: 'P', value: 'hunter2' }]);
    expect(JSON.stringify(info.command)).not.toContain('hunter2');
  });
});

describe('Secret and Config documents', () => {
  it('validate names, keys and types without echoing a value', () => {
    expect(parseObjectDoc('SECRET', { kind: 'Secret', name: 'db', data: { password: 'p', port: 5432 } }).data).toEqual({ password: 'p', port: '5432' });
    expect(thrown(() => parseObjectDoc('SECRET', { name: 'DB', data: {} })).field).toBe('name');
    expect(thrown(() => parseObjectDoc('SECRET', { name: 'db', data: { '../x': 'v' } })).field).toBe('data.../x');
    const err = thrown(() => parseObjectDoc('SECRET', { name: 'db', data: { password: { nested: 'hunter2' } } }));
    expect(err.field).toBe('data.password');
    expect(err.message).not.toContain('hunter2');
    expect(thrown(() => parseObjectDoc('CONFIG', { name: 'a', value: 1 })).field).toBe('value');
  });

  it('policies grant secrets.read over secret names', () => {
    const grants = grantsOf(parsePolicy({ name: 'p', rules: [{ allow: ['secrets.read'], secrets: ['team-a-*'] }, { allow: ['jobs.read'], kinds: ['Secret', 'config'] }] }));
    const p = { name: 'alice', via: 'token' as const, grants };
    expect(may(p, 'secrets.read', 'team-a-db')).toBe(true);
    expect(may(p, 'secrets.read', 'team-b-db')).toBe(false);
    expect(may(p, 'jobs.read', 'CONFIG')).toBe(true);
    expect(thrown(() => parsePolicy({ name: 'p', rules: [{ allow: ['jobs.read'], secrets: ['x'] }] })).message).toMatch(/does not range over secrets/);
  });
});

describe('the objects store', () => {
  it('seals secret values at rest (the raw bytes hold no value), keeps configs in clear, and reloads', async () => {
    const store = await openStore('memory:');
    const key = SecretKey.generate();
    const clock = new FakeClock(1_000);
    const objects = await ConfigObjects.open(store, 'c1', key, clock);
    expect((await objects.apply({ kind: 'SECRET', name: 'db', labels: {}, data: { password: 'hunter2-at-rest' } })).result).toBe('CREATED');
    await objects.apply({ kind: 'CONFIG', name: 'app', labels: {}, data: { level: 'debug-in-clear' } });
    const raw = async (p: string): Promise<string> => Buffer.from((await store.get(p)).data).toString();
    const root = ConfigObjects.namespace(store, 'c1').root;
    expect(await raw(`${root}/secrets/db`)).not.toContain('hunter2-at-rest');
    expect(await raw(`${root}/configs/app`)).toContain('debug-in-clear');
    expect(objects.get('SECRET', 'db')).toEqual({ kind: 'Secret', name: 'db', labels: {}, version: '1', updatedAtMs: 1_000, keys: [{ key: 'password', bytes: 15 }] });
    expect(objects.get('SECRET', 'db', true).data).toEqual({ password: 'hunter2-at-rest' });
    const again = await ConfigObjects.open(store, 'c1', key, clock);
    expect(again.value('SECRET', 'db', 'password')).toBe('hunter2-at-rest');
    const update = await again.apply({ kind: 'SECRET', name: 'db', labels: {}, data: { password: 'rotated' } });
    expect(update).toEqual({ result: 'UPDATED', version: '2', changedKeys: ['password'] });
    expect((await again.apply({ kind: 'SECRET', name: 'db', labels: {}, data: { password: 'rotated' } })).result).toBe('UNCHANGED');
    await store.close();
  });

  it('refuses a sealed secret copied to another name in the store (the name it is held under is the one it must open for)', async () => {
    const store = await openStore('memory:');
    const key = SecretKey.generate();
    const objects = await ConfigObjects.open(store, 'c1', key, new FakeClock(0));
    await objects.apply({ kind: 'SECRET', name: 'db', labels: {}, data: { password: 'hunter2' } });
    const state = ConfigObjects.namespace(store, 'c1');
    await state.set('secrets/other', (await state.get('secrets/db'))!.value);
    expect(await rejection(ConfigObjects.open(store, 'c1', key, new FakeClock(0)))).toBeInstanceOf(SecretOpenError);
    await store.close();
  });

  it('refuses to open with secrets stored and no key, or another key, saying what to do', async () => {
    const store = await openStore('memory:');
    const objects = await ConfigObjects.open(store, 'c1', SecretKey.generate(), new FakeClock(0));
    await objects.apply({ kind: 'SECRET', name: 'db', labels: {}, data: { password: 'x' } });
    expect((await rejection(ConfigObjects.open(store, 'c1', undefined, new FakeClock(0)))).message).toMatch(/holds secrets \(1\) .* pass --secrets-key-file/);
    expect((await rejection(ConfigObjects.open(store, 'c1', SecretKey.generate(), new FakeClock(0)))).message).toMatch(/--secrets-key-file is not the key the stored secrets were sealed with/);
    const keyless = await ConfigObjects.open(store, 'c2', undefined, new FakeClock(0));
    expect((await rejection(keyless.apply({ kind: 'SECRET', name: 'a', labels: {}, data: {} }))).message).toMatch(/no secrets key/);
    await store.close();
  });
});
