// A client in another language, as proto/CLIENTS.md tells one to write it: protoc (the version
// the document names, Debian 12's 3.21) compiles every .proto of ours, and the Python example
// (examples/clients/python/list_services.py, Debian's python3-grpcio) lists the services of a
// secured `agora up` over TLS with the cluster CA and a bearer token — and is refused without one.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startUp, type Up } from '../../cli/up-command.js';
import { REPO_ROOT } from '../support/agent-harness.js';
import { secureFetch } from '../support/security.js';
import { tempDir } from '../support/tmp.js';
import { until } from './services-harness.js';

const ups: Up[] = [];
afterEach(async () => {
  for (const u of ups.splice(0)) await u.stop();
});

const PROTO_DIR = path.join(REPO_ROOT, 'proto');
const EXAMPLE = path.join(REPO_ROOT, 'examples/clients/python/list_services.py');
/** The oldest protoc that takes proto3 `optional` without a flag (proto/CLIENTS.md). */
const MIN_PROTOC = [3, 15];

function protoFiles(): string[] {
  const dir = path.join(PROTO_DIR, 'agora/v1');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.proto')).sort().map((f) => path.join(dir, f));
}

/** A python3 that has grpc (Debian's python3-grpcio is in /usr/lib/python3, for /usr/bin/python3). */
function python(): string {
  const found = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import grpc, google.protobuf'], { encoding: 'utf8' }).status === 0);
  if (found === undefined) throw new Error('no python3 with grpc here: install python3-grpcio (node scripts/test-services.mjs ensure does)');
  return found;
}

/** Run without blocking: the cluster answering the client lives in this process. */
function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ status: err ? (typeof code === 'number' ? code : null) : 0, stdout, stderr });
    });
  });
}

async function compiled(): Promise<string> {
  const out = await tempDir('pyproto');
  const run = spawnSync('protoc', ['-I', PROTO_DIR, `--python_out=${out}`, ...protoFiles()], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return out;
}

describe('clients in other languages', () => {
  it(`protoc ${MIN_PROTOC.join('.')} or later compiles every proto`, async () => {
    const version = spawnSync('protoc', ['--version'], { encoding: 'utf8' });
    const [major, minor] = (/libprotoc (\d+)\.(\d+)/.exec(version.stdout)?.slice(1) ?? []).map(Number) as [number, number];
    expect(major * 1000 + minor, version.stdout).toBeGreaterThanOrEqual(MIN_PROTOC[0]! * 1000 + MIN_PROTOC[1]!);
    const out = await compiled();
    const names = protoFiles().map((f) => `${path.basename(f, '.proto')}_pb2.py`);
    expect(fs.readdirSync(path.join(out, 'agora/v1')).sort()).toEqual(names);
    // The document's claim about old compilers holds: the protos do use proto3 optional.
    expect(fs.readFileSync(path.join(PROTO_DIR, 'agora/v1/common.proto'), 'utf8')).toMatch(/^\s+optional \w+ \w+ = \d+;/m);
  });

  it('the Python example lists the services of a secured agora up, and is refused without a token', async () => {
    const gen = await compiled();
    const u = await startUp({ httpPort: 0, grpcPort: 0, agentHttpPort: 0, dataDir: await tempDir('pyup'), executor: 'process', resources: 'cpus:2;mem:2048;disk:2048', hostname: '127.0.0.1', logLevel: 'silent', insecure: false, writeContext: false, allowRootTasks: false, allowPrivileged: false });
    ups.push(u);
    await u.frameworks.waitLeading(10_000);
    const auth = { token: u.security!.adminToken, tls: { ca: u.security!.masterTls.ca } };
    const body = 'kind: Service\nname: hello\ninstances: 1\ncommand: exec sleep 600\nresources: { cpus: 0.05, mem: 16 }\nkillGracePeriodSeconds: 0.5\n';
    const applied = await secureFetch(`https://${u.master.httpAddress}/api/v1/services`, { method: 'POST', headers: { 'content-type': 'application/yaml' }, body, ...auth });
    expect(applied.status, await applied.text()).toBeLessThan(300);
    await until(async () => {
      const res = await secureFetch(`https://${u.master.httpAddress}/api/v1/services/hello`, auth);
      return ((await res.json()) as { serviceStatus?: { running?: number } }).serviceStatus?.running === 1;
    }, 'the service running');
    const env = { ...process.env, PYTHONPATH: gen };
    const args = [EXAMPLE, '--master', u.master.grpcAddress, '--ca', u.security!.files.ca];
    const py = python();
    const listed = await run(py, [...args, '--token-file', u.security!.files.adminToken], env);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+DESIRED\s+RUNNING\s+PENDING$/);
    expect(listed.stdout).toMatch(/^hello\s+v1\s+1\s+1\s*$/m);
    const refused = await run(py, [...args, '--token', 'not-a-token'], env);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^error: UNAUTHENTICATED: /);
  });
});
