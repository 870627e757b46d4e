// Secrets and Configs through the CLI against `agora up`: a service given a secret as a variable
// and as a file (and a config as a file) sees the values; rotating the secret rolls the service
// and its new task sees the new value, as does a Job launched after. The value shows nowhere
// else: not in `get`, `describe`, `-o yaml|json`, the master's tasks and events, the Jobs API's
// workload views, nor — in clear — in the store or the agent's checkpoint on disk. A principal
// without secrets.read gets 403 on reading it and cannot reference it in a workload. Started
// again with another key, `agora up` refuses, naming the flag.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOf, type CliResult, startUpForCli, startUpProcess, stopUpForCli, type UpProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';
import { within } from '../support/waits.js';

let up: UpProcess;
let dataDir: string;
let specDir: string;

const FIRST = 'first-Pa55w0rd-7f3a';
const SECOND = 'second-Pa55w0rd-91c2';

beforeAll(async () => {
  dataDir = await tempDir('cli-secrets');
  specDir = await tempDir('cli-secrets-specs');
  up = await startUpForCli(dataDir);
});

afterAll(async () => {
  await stopUpForCli(up, dataDir, ['/api/v1/services/vault']);
});

const agora = cliOf(() => up);

function ok(r: CliResult): CliResult {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r;
}

async function specFile(name: string, text: string): Promise<string> {
  const file = path.join(specDir, name);
  await writeFile(file, text);
  return file;
}

const secretDoc = (value: string): string => `kind: Secret\nname: db\nlabels: { team: a }\ndata:\n  password: ${value}\n  user: app\n`;
const CONFIG = 'kind: Config\nname: app\ndata:\n  ini: "[app]\\nlevel=debug"\n';
const SERVICE = [
  'kind: Service',
  'name: vault',
  'instances: 1',
  `command: 'echo "env=$DB_PASSWORD"; echo "file=$(cat secret/password)"; cat conf/app.ini; echo; exec sleep 1000'`,
  'resources: { cpus: 0.1, mem: 32 }',
  'envFrom: { DB_PASSWORD: { secret: db, key: password } }',
  'files:',
  '  - { path: secret/password, secret: db, key: password }',
  '  - { path: conf/app.ini, config: app, key: ini }',
  '',
].join('\n');

interface TaskJson {
  id: string;
  name: string;
  state: string;
  agentId: string;
  frameworkId: string;
}

async function runningTask(): Promise<TaskJson | undefined> {
  const { tasks } = (await (await up.fetch(`${up.masterUrl}/api/v1/tasks`)).json()) as { tasks: TaskJson[] };
  return tasks.find((t) => t.name === 'vault' && t.state === 'TASK_RUNNING');
}

async function logsOf(taskId: string): Promise<string> {
  return (await agora('logs', taskId)).stdout;
}

/**
 * Every file under `dir` that holds `text`: in its bytes, or in any base64 run in them (the
 * embedded store keeps node data, and JSON keeps bytes fields, as base64).
 */
async function filesHolding(dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = await readFile(file);
    const decoded = (bytes.toString('latin1').match(/[A-Za-z0-9+/]{8,}={0,2}/g) ?? []).map((run) => Buffer.from(run, 'base64').toString('latin1'));
    if (bytes.includes(text) || decoded.some((d) => d.includes(text))) found.push(path.relative(dir, file));
  }
  return found;
}

describe('secrets and configs', () => {
  it('reach a service as a variable and files, never shown elsewhere, and a rotation rolls it', async () => {
    expect(ok(await agora('apply', '-f', await specFile('secret.yaml', secretDoc(FIRST)))).stdout).toBe('secret/db created (version 1)\n');
    expect(ok(await agora('apply', '-f', await specFile('config.yaml', CONFIG))).stdout).toBe('config/app created (version 1)\n');
    ok(await agora('apply', '-f', await specFile('vault.yaml', SERVICE), '--timeout', '60s'));

    let task: TaskJson | undefined;
    await eventually(async () => (task = await runningTask()) !== undefined && (await logsOf(task.id)).includes('level=debug'), { timeoutMs: 30_000, what: 'the task printing its values' });
    const first = task as TaskJson;
    expect(await logsOf(first.id)).toBe(`env=${FIRST}\nfile=${FIRST}\n[app]\nlevel=debug\n`);

    // The file, through the master's sandbox API: the value, mode 0400.
    const files = `${up.masterUrl}/api/v1/agents/${first.agentId}/tasks/${first.id}/files`;
    const listing = (await (await up.fetch(`${files}?frameworkId=${first.frameworkId}&path=secret`)).json()) as { files: { name: string; mode: string }[] };
    expect(listing.files).toEqual([expect.objectContaining({ name: 'password', mode: '0400' })]);
    expect(await (await up.fetch(`${files}/download?frameworkId=${first.frameworkId}&path=secret/password`)).text()).toBe(FIRST);

    // Never printed: get, describe, -o yaml and json show keys and sizes.
    expect(ok(await agora('get', 'secrets')).stdout).toMatch(/^NAME\s+KEYS\s+AGE\ndb\s+2\s+\d+s\n$/);
    const described = ok(await agora('describe', 'secret/db')).stdout;
    expect(described).toMatch(/^Kind:\s+Secret$/m);
    expect(described).toMatch(/^ {2}password\s+19 bytes$/m);
    for (const format of ['yaml', 'json']) expect(ok(await agora('get', 'secret', 'db', '-o', format)).stdout).not.toContain(FIRST);
    expect(ok(await agora('describe', 'config/app')).stdout).toMatch(/^ {2}ini\s+\[app\]/m);

    // Nor in the master's task views and events, nor the Jobs API's workload views and watch.
    const views = [
      '/api/v1/tasks',
      '/api/v1/events/recent?limit=200',
      '/api/v1/services/vault',
      '/api/v1/services',
      '/api/v1/secrets',
      '/api/v1/secrets/db',
      '/api/v1/frameworks',
    ];
    for (const view of views) {
      const res = await up.fetch(`${up.masterUrl}${view}`);
      expect([view, res.status]).toEqual([view, 200]);
      expect(await res.text()).not.toContain(FIRST);
    }
    // The Jobs API's watch stream: the service's initial event, references but no value.
    const watch = new AbortController();
    const stream = await up.fetch(`${up.masterUrl}/api/v1/watch?initial=1&kinds=service`, { signal: watch.signal });
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    let events = '';
    while (!events.includes('"name":"vault"')) {
      const chunk = await reader.read();
      if (chunk.done) break;
      events += Buffer.from(chunk.value).toString();
    }
    watch.abort();
    expect(events).toContain('"envFrom"');
    expect(events).not.toContain(FIRST);
    // At rest: the store holds it sealed, under the key `agora up` made (0600); the agent's
    // checkpoint (meta/) holds none of it.
    expect((await stat(path.join(dataDir, 'secrets-key'))).mode & 0o777).toBe(0o600);
    expect(await filesHolding(path.join(dataDir, 'store'), FIRST)).toEqual([]);
    expect(await filesHolding(path.join(dataDir, 'agent', 'meta'), FIRST)).toEqual([]);
    expect(await filesHolding(path.join(dataDir, 'store'), 'level=debug')).not.toEqual([]);
    // The admin may read the values on purpose.
    expect(((await (await up.fetch(`${up.masterUrl}/api/v1/secrets/db?reveal=1`)).json()) as { data: Record<string, string> }).data).toEqual({ password: FIRST, user: 'app' });

    // In use: not deleted, nor its key dropped.
    const deleting = await agora('delete', 'secret/db');
    expect([deleting.code, deleting.stderr]).toEqual([1, "error: secret 'db' is used by service/vault: cannot delete it (change them first)\n"]);

    // Rotation: the service rolls; its new task sees the new value.
    const rotated = ok(await agora('apply', '-f', await specFile('secret2.yaml', secretDoc(SECOND)))).stdout;
    expect(rotated).toMatch(/^secret\/db configured \(version 2\)\n {2}service\/vault rolls to pick up the change/);
    await eventually(async () => (task = await runningTask()) !== undefined && task.id !== first.id && (await logsOf(task.id)).includes('level=debug'), { timeoutMs: 30_000, what: 'the rolled task' });
    expect(await logsOf((task as TaskJson).id)).toBe(`env=${SECOND}\nfile=${SECOND}\n[app]\nlevel=debug\n`);
    expect(await filesHolding(path.join(dataDir, 'store'), SECOND)).toEqual([]);

    // A Job's task reads the value at its launch, as a service's does.
    const job = 'kind: Job\nname: reader\ntask:\n  command: \'echo "job=$DB_PASSWORD"\'\n  resources: { cpus: 0.1, mem: 32 }\n  envFrom: { DB_PASSWORD: { secret: db, key: password } }\n';
    expect(ok(await agora('apply', '-f', await specFile('reader.yaml', job))).stdout).toMatch(/^job\/reader created/);
    let jobTask: string | undefined;
    await eventually(async () => {
      const { tasks } = (await (await up.fetch(`${up.masterUrl}/api/v1/tasks`)).json()) as { tasks: TaskJson[] };
      jobTask = tasks.find((t) => t.name === 'reader' && t.state === 'TASK_FINISHED')?.id;
      return jobTask !== undefined;
    }, { timeoutMs: 30_000, what: 'the job finishing' });
    expect(await logsOf(jobTask as string)).toBe(`job=${SECOND}\n`);
    // Nor in what agora up itself logged (master, agent and frameworks in one process).
    expect(up.output()).not.toContain(FIRST);
    expect(up.output()).not.toContain(SECOND);
  }, 150_000);

  it('print as documents apply takes back: a config unchanged, a secret only with --reveal', async () => {
    const configYaml = ok(await agora('get', 'config', 'app', '-o', 'yaml')).stdout;
    expect(configYaml).toMatch(/^kind: Config\nname: app\n/);
    expect(ok(await agora('apply', '-f', await specFile('app-back.yaml', configYaml))).stdout).toMatch(/^config\/app unchanged/);

    // Without --reveal a Secret prints without its values, and that does not apply back as an
    // empty Secret.
    const hidden = ok(await agora('get', 'secret', 'db', '-o', 'yaml')).stdout;
    expect(hidden).toMatch(/^kind: Secret\n/);
    expect(hidden).not.toContain(SECOND);
    const refused = await agora('apply', '-f', await specFile('db-hidden.yaml', hidden));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('data: is required in a Secret');
    const revealed = ok(await agora('get', 'secret', 'db', '-o', 'json', '--reveal')).stdout;
    expect((JSON.parse(revealed) as { data: Record<string, string> }).data.password).toBe(SECOND);
    expect(ok(await agora('apply', '-f', await specFile('db-back.json', revealed))).stdout).toMatch(/^secret\/db unchanged/);
    expect((await agora('get', 'secrets', '--reveal', '-o', 'yaml')).code).toBe(2);
  }, 60_000);

  it('without secrets.read: 403 on the values, and no workload may reference the secret', async () => {
    const policy = await specFile('deployer.yaml', 'kind: Policy\nname: deployer\nrules:\n  - allow: [jobs.read, jobs.write, tasks.run_as, env.view]\n');
    ok(await agora('acl', 'policy', 'apply', '-f', policy));
    const created = await agora('acl', 'token', 'create', '--principal', 'deployer', '--policy', 'deployer');
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    const as = (url: string, init: RequestInit & { body?: string } = {}): ReturnType<UpProcess['fetch']> => up.fetch(`${up.masterUrl}${url}`, { ...init, token } as Parameters<UpProcess['fetch']>[1]);

    const reveal = await as('/api/v1/secrets/db?reveal=1');
    expect(reveal.status).toBe(403);
    expect(await reveal.text()).toMatch(/lacks permission 'secrets\.read' on 'db'/);
    const meta = await as('/api/v1/secrets/db');
    expect(meta.status).toBe(200);
    expect(await meta.text()).not.toContain(SECOND);

    const thief = SERVICE.replace('name: vault', 'name: thief');
    const applied = await as('/api/v1/apply', { method: 'POST', body: thief, headers: { 'content-type': 'application/yaml' } });
    expect(applied.status).toBe(403);
    expect(await applied.text()).toMatch(/lacks permission 'secrets\.read' on 'db'/);
    expect((await up.fetch(`${up.masterUrl}/api/v1/services/thief`)).status).toBe(404);
    // A config it may read, a secret it may not: the config alone is fine.
    const configOnly = thief.replace(/envFrom:.*\n/, '').replace(/ {2}- \{ path: secret\/password.*\n/, '');
    const allowed = await as('/api/v1/apply?dryRun=1', { method: 'POST', body: configOnly, headers: { 'content-type': 'application/yaml' } });
    expect(allowed.status).toBe(201);
  }, 60_000);

  it('refuses to start again with another secrets key, naming the flag', async () => {
    up.kill('SIGTERM');
    await within(up.exited, 10_000, undefined);
    await writeFile(path.join(dataDir, 'secrets-key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const refused = await startUpProcess(dataDir).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refused?.message).toMatch(/--secrets-key-file is not the key the stored secrets were sealed with/);
  }, 60_000);
});
