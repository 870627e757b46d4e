// A user's journey through the `agora` CLI against `agora up`: apply a 3-instance HTTP service
// (progress to completion), see it in `get` and `describe`, reach its endpoints, scale it, change
// it and undo the change, read a task's logs, delete it; and an invalid spec fails naming the field.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliOf, type CliResult, runCli, startUpForCli, stopUpForCli, type UpProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';

let up: UpProcess;
let dataDir: string;
let specDir: string;

beforeAll(async () => {
  dataDir = await tempDir('cli-up');
  specDir = await tempDir('cli-specs');
  up = await startUpForCli(dataDir);
});

afterAll(async () => {
  await stopUpForCli(up, dataDir, ['/api/v1/services/web']);
});

const agora = cliOf(() => up);

function webSpec(greeting: string, instances = 3): string {
  const server = `require('http').createServer((q, s) => s.end('${greeting} ' + process.env.PORT0)).listen(+process.env.PORT0, () => console.log('listening on ' + process.env.PORT0))`;
  return [
    'kind: Service',
    'name: web',
    `instances: ${instances}`,
    `command: ${JSON.stringify(`${process.execPath} -e "${server}"`)}`,
    'resources: { cpus: 0.1, mem: 32 }',
    'ports: [{ name: http }]',
    `env: { GREETING: ${greeting} }`,
    'healthCheck: { type: HTTP, http: { portName: http, path: / }, delaySeconds: 0, intervalSeconds: 0.5, timeoutSeconds: 1 }',
    '',
  ].join('\n');
}

async function specFile(name: string, text: string): Promise<string> {
  const file = path.join(specDir, name);
  await writeFile(file, text);
  return file;
}

function expectOk(r: CliResult): CliResult {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r;
}

async function endpointsServe(): Promise<string[]> {
  const { endpoints } = (await (await up.fetch(`${up.masterUrl}/api/v1/services/web/endpoints`)).json()) as { endpoints: { host: string; ports: { number: number }[] }[] };
  return Promise.all(endpoints.map(async (e) => (await fetch(`http://${e.host}:${e.ports[0]?.number ?? 0}/`)).text()));
}

describe('agora CLI with services', () => {
  it('applies a service with progress to completion, then gets, describes, scales, rolls back, reads logs and deletes it', async () => {
    const applied = expectOk(await agora('apply', '-f', await specFile('web.yaml', webSpec('hello')), '--timeout', '60s'));
    expect(applied.stdout).toMatch(/^service\/web created \(version \S+\)\n/);
    expect(applied.stdout).toMatch(/service\/web: 100% Succeeded/);
    expect(applied.stdout).toMatch(/deployment \S+ succeeded/);

    const table = expectOk(await agora('get', 'services')).stdout.split('\n');
    expect(table[0]).toMatch(/^NAME\s+READY\s+RUNNING\s+HEALTHY\s+VERSION\s+DEPLOYMENT\s+AGE$/);
    expect(table[1]).toMatch(/^web\s+3\/3\s+3\s+3\s+\S+\s+Succeeded\s+\d+s$/);
    expect((await endpointsServe()).sort()).toEqual(expect.arrayContaining([expect.stringMatching(/^hello \d+$/)]));
    expect(await endpointsServe()).toHaveLength(3);

    const described = expectOk(await agora('describe', 'service/web')).stdout;
    expect(described).toMatch(/^Name:\s+web$/m);
    expect(described).toMatch(/^Instances:\s+3 desired \| 0 staged \| 3 running \| 3 healthy/m);
    expect(described).toMatch(/^Health check:\s+HTTP GET http:\/\/:http\/ /m);
    expect(described.match(/^ {2}\S+\s+Running\s+true\s/gm)).toHaveLength(3);
    // Endpoints: task, host, ip (the agent's --advertise-ip, 127.0.0.1 under `agora up`), ports.
    expect(described.match(/^ {2}web\.\S+\s+127\.0\.0\.1\s+127\.0\.0\.1\s+http=\d+\s/gm)).toHaveLength(3);

    const scaled = expectOk(await agora('scale', 'service/web', '2', '--wait', '--timeout', '60s'));
    expect(scaled.stdout).toMatch(/^service\/web scaled to 2/);
    expect(expectOk(await agora('get', 'services', 'web')).stdout).toMatch(/\nweb\s+2\/2\s/);

    expectOk(await agora('apply', '-f', await specFile('web2.yaml', webSpec('bonjour', 2)), '--timeout', '60s'));
    await eventually(async () => (await endpointsServe()).every((t) => t.startsWith('bonjour')), { timeoutMs: 20_000, what: 'version 2 serving' });
    const history = expectOk(await agora('rollout', 'history', 'service/web')).stdout;
    expect(history.match(/^\d+\s+\S+\s+\S+/gm)?.length).toBeGreaterThanOrEqual(2);
    const undone = expectOk(await agora('rollout', 'undo', 'service/web'));
    expect(undone.stdout).toMatch(/^service\/web rolled back to version \S+/);
    expectOk(await agora('rollout', 'status', 'service/web', '--timeout', '60s'));
    await eventually(async () => (await endpointsServe()).every((t) => t.startsWith('hello')), { timeoutMs: 20_000, what: 'the old version serving again' });

    const tasks = (JSON.parse(expectOk(await agora('get', 'tasks', '-o', 'json')).stdout) as { items: { id: string; state: string }[] }).items;
    const running = tasks.find((t) => t.state === 'TASK_RUNNING');
    expect(running).toBeDefined();
    expect(expectOk(await agora('logs', running?.id ?? '')).stdout).toMatch(/^listening on \d+\n$/);

    expect(expectOk(await agora('get', 'agents')).stdout).toMatch(/^ID\s+HOSTNAME\s+STATE/);
    expect(expectOk(await agora('get', 'frameworks')).stdout).toMatch(/\sagora-services\s+connected\s/);
    expect(expectOk(await agora('top')).stdout).toMatch(/^AGENT\s+ID\s+CPUS/);

    expect(expectOk(await agora('delete', 'service/web')).stdout).toBe('service/web deleted\n');
    expect(expectOk(await agora('get', 'services')).stdout).toBe('No services found.\n');
    const missing = await agora('describe', 'service/web');
    expect([missing.code, missing.stderr]).toEqual([1, "error: service 'web' not found\n"]);
  }, 150_000);

  it('rejects an invalid spec with a clear message naming the field, and bad usage with exit 2', async () => {
    const invalid = await agora('apply', '-f', await specFile('bad.yaml', 'kind: Service\nname: bad\ninstances: lots\ncommand: "true"\n'));
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/^error: \S+bad\.yaml: instances: .+\n$/);
    const noKind = await runCli(['apply', '-f', '-', '--master', up.masterUrl], { stdin: 'name: x\ncommand: "true"\n' });
    expect([noKind.code, noKind.stderr]).toEqual([2, 'error: standard input: kind: is required: Service, CronJob, Job, Secret or Config\n']);
    const noFile = await agora('apply', '-f', path.join(specDir, 'nope.yaml'));
    expect([noFile.code, noFile.stderr]).toEqual([2, `error: -f: cannot read ${path.join(specDir, 'nope.yaml')}: ENOENT\n`]);
    const badRef = await agora('scale', 'web', '3');
    expect([badRef.code, badRef.stderr]).toEqual([2, "error: KIND/NAME: 'web' is not KIND/NAME (e.g. service/web)\n"]);
    expect(expectOk(await agora('get', 'services')).stdout).toBe('No services found.\n');
  });
});
