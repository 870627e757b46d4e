// The workload commands through a secured master, as in `agora up`: the Jobs API served on the
// master's own HTTPS port, behind its authentication. The real CLI sends the context's token and
// trusts its CA on every call (apply, get, describe, scale, rollout, delete), and a missing token
// gets the same helpful 401 from the Jobs API as from the master. An in-memory service controller
// stands in for the services framework (its own tests run it for real).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { openStore, type Store } from '../../core/store/index.js';
import { FrameworksHost } from '../../frameworks/host.js';
import { Master } from '../../master/master.js';
import { runCli, stopCliProcesses, type CliResult } from '../support/cli.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { TEST_MASTER_OPTIONS } from '../support/master-harness.js';
import { testMasterSecurity, testPki } from '../support/security.js';
import { tempDir } from '../support/tmp.js';

let store: Store;
let host: FrameworksHost;
let master: Master;
let config: string;
const fake = new FakeServiceController();

beforeAll(async () => {
  store = await openStore('memory:', { chroot: '/agora' });
  host = FrameworksHost.create({ logger: silentLogger(), modules: [fakeServicesModule(fake)] });
  master = await Master.start(TEST_MASTER_OPTIONS, { store, security: testMasterSecurity(), ...host.masterHooks });
  await host.startEmbedded(master, { token: testPki().frameworksToken, tls: testPki().clientTls }, { logLevel: 'silent', dnsPort: 0 });
  await host.waitLeading(10_000);
  const dir = await tempDir('cli-workloads');
  config = path.join(dir, 'config.yaml');
  const pki = testPki();
  writeFileSync(config, `currentContext: local\ncontexts:\n  local:\n    master: https://127.0.0.1:${master.httpPort}\n    tokenFile: ${pki.files.adminToken}\n    ca: ${pki.files.ca}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await stopCliProcesses();
  await host.stop();
  await master.stop();
  await store.close();
});

function agora(args: string[], stdin?: string): Promise<CliResult> {
  const env = { AGORA_CONFIG: config, AGORA_MASTER: undefined, AGORA_API: undefined, AGORA_TOKEN: undefined, AGORA_CA: undefined, AGORA_CONTEXT: undefined };
  return runCli(args, { env, ...(stdin === undefined ? {} : { stdin }) });
}

function ok(r: CliResult): CliResult {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r;
}

const WEB = 'kind: Service\nname: web\ninstances: 2\ncommand: sleep 1000\nresources: { cpus: 0.1, mem: 32 }\n';

describe('workload commands on a secured cluster', () => {
  it('apply, get, describe, scale, rollout, logs and delete carry the context’s credentials to the Jobs API', async () => {
    expect(ok(await agora(['apply', '-f', '-', '--no-wait'], WEB)).stdout).toMatch(/^service\/web created \(version \S+\)$/m);
    expect(fake.entries.has('web')).toBe(true);
    expect(ok(await agora(['get', 'services'])).stdout).toMatch(/^web +\d+\/2 /m);
    expect(ok(await agora(['describe', 'service/web'])).stdout).toMatch(/^Name: +web$/m);
    expect(ok(await agora(['scale', 'service/web', '3'])).stdout).toContain('service/web scaled to 3');
    expect(ok(await agora(['rollout', 'history', 'service/web'])).stdout).toContain('service/web');
    expect(ok(await agora(['get', 'frameworks'])).stdout).toBe('No frameworks found.\n');
    // logs asks the master where the task ran, with the same credentials: a 404, not a 401.
    const logs = await agora(['logs', 'no-such-task']);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain("task 'no-such-task' not found");
    expect(ok(await agora(['delete', 'service/web'])).stdout).toBe('service/web deleted\n');
    expect(fake.entries.has('web')).toBe(false);
  });

  it('without a token, the Jobs API refuses with the same helpful 401', async () => {
    const r = await runCli(['get', 'services', '--master', `https://127.0.0.1:${master.httpPort}`, '--api', `https://127.0.0.1:${master.httpPort}`, '--ca', testPki().files.ca], {
      env: { AGORA_CONFIG: path.join(path.dirname(config), 'none.yaml'), AGORA_TOKEN: undefined, AGORA_CONTEXT: undefined },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('did not accept the credentials: no credentials');
    expect(r.stderr).toContain('agora acl token create');
  });
});
