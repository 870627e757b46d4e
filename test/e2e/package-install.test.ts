// The package as an author gets it: `npm pack`, then `npm install <tarball>` in an empty folder
// outside the repository, its dependencies from the registry (npm's cache first: --prefer-offline),
// as `npm install agora` will once it is published. Then, from that folder only: the `agora` bin
// through npm's .bin symlink and npx, every `exports` entry from plain ESM, the SDK type-checked
// from TypeScript against the installed .d.ts (no skipLibCheck, none of the repository's
// devDependencies), node-zookeeper-client mended as in the repository, and `agora up` healthy with
// examples/daemon.ts (built against the installed 'agora/sdk') running a task on it.
//
//   repository ──npm pack (dist/, proto/agora)──► agora-0.1.0.tgz
//   <tmp>/consumer ──npm install <tgz> (registry)──► node_modules/{agora, its dependencies}
//
// The tarball is packed from the dist/ the global setup keeps fresh (--ignore-scripts: the prepack
// build would rebuild dist/ under the other tests' feet).
import { spawn } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/build.js';
import { secureFetch } from '../support/security.js';
import { tempDir } from '../support/tmp.js';
import { eventually } from '../support/waits.js';

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, string | { types?: string; default: string }>;
  dependencies: Record<string, string>;
}
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Manifest;

/** The environment of every child: nothing from the npm that may run this suite (its prefix is the repository), no NODE_PATH. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig']);
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) || keep.has(k.toLowerCase())));
  delete env['NODE_PATH'];
  return { ...env, npm_config_update_notifier: 'false', ...extra };
}

const children = new Set<ReturnType<typeof spawn>>();

function run(command: string, args: readonly string[], options: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const child = spawn(command, args, { cwd: options.cwd, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

let outside = '';
let consumer = '';
let packed: Packed;
let installed: Manifest;
const bin = (): string => path.join(consumer, 'node_modules', '.bin', 'agora');

beforeAll(async () => {
  outside = await tempDir('package');
  expect(path.relative(REPO, outside).startsWith('..'), `${outside} is outside ${REPO}`).toBe(true);
  const packDir = path.join(outside, 'pack');
  consumer = path.join(outside, 'consumer');
  mkdirSync(packDir);
  mkdirSync(consumer);

  const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], { cwd: REPO });
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as Packed[])[0] as Packed;

  writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'agora-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  const started = Date.now();
  const install = await run('npm', ['install', path.join(packDir, packed.filename), '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: consumer, timeoutMs: 280_000 });
  expect(install.code, install.stderr).toBe(0);
  process.stdout.write(`package-install: npm install of ${packed.filename} took ${Date.now() - started} ms\n`);
  installed = JSON.parse(readFileSync(path.join(consumer, 'node_modules', 'agora', 'package.json'), 'utf8')) as Manifest;
}, 300_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('the packed tarball, installed outside the repository', () => {
  it('holds the build and the .proto files the runtime loads, and no tests, sources or source maps', () => {
    const paths = packed.files.map((f) => f.path);
    for (const needed of ['package.json', 'README.md', 'dist/cli/main.js', 'dist/sdk/index.js', 'dist/sdk/index.d.ts', 'dist/core/store/zookeeper-framing.js', 'proto/agora/v1/common.proto', 'proto/agora/v1/scheduler.proto', 'dist/web/index.html', 'dist/web/app.js', 'dist/web/app.css']) {
      expect(paths, needed).toContain(needed);
    }
    const stray = paths.filter((p) => !/^(package\.json|README\.md|proto\/agora\/v1\/[a-z]+\.proto|dist\/(proto|core|master|agent|sdk|frameworks|cli)\/.+\.(js|d\.ts)|dist\/web\/(index\.html|app\.js|app\.css|favicon\.svg))$/.test(p));
    expect(stray).toEqual([]);
    expect(packed.size).toBeLessThan(1_000_000);
    expect(installed.version).toBe(manifest.version);
  });

  it('runs the agora bin through npm\u2019s .bin symlink and through npx', async () => {
    expect(lstatSync(bin()).isSymbolicLink()).toBe(true);
    const help = await run(bin(), ['--help'], { cwd: consumer });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: agora');
    expect(help.stdout).toMatch(/^\s+up \[options\]/m);
    const version = await run(bin(), ['--version'], { cwd: consumer });
    expect(version.stdout.trim()).toBe(manifest.version);
    const npx = await run('npx', ['--no', '--', 'agora', '--version'], { cwd: consumer });
    expect(npx.code, npx.stderr).toBe(0);
    expect(npx.stdout.trim()).toBe(manifest.version);
  });

  it('imports every exports entry from plain ESM, and the SDK\u2019s classes and functions work', async () => {
    const script = `
      import { readFileSync } from 'node:fs';
      const manifest = JSON.parse(readFileSync('node_modules/agora/package.json', 'utf8'));
      const loaded = {};
      for (const subpath of Object.keys(manifest.exports)) {
        const specifier = 'agora' + subpath.slice(1);
        const m = subpath.endsWith('.json') ? await import(specifier, { with: { type: 'json' } }) : await import(specifier);
        loaded[subpath] = Object.keys(m).length;
      }
      const sdk = await import('agora/sdk');
      const clock = new sdk.FakeClock(1000);
      clock.advance(500);
      let deep = 'resolved';
      try { await import('agora/dist/core/errors.js'); } catch (err) { deep = err.code; }
      console.log(JSON.stringify({
        loaded,
        driver: typeof sdk.FrameworkDriver, start: typeof sdk.FrameworkDriver.start,
        matchOffers: typeof sdk.matchOffers,
        cpus: sdk.Resources.parse('cpus:1.5;mem:64').scalar('cpus'),
        finished: sdk.isTerminal('TASK_FINISHED'), running: sdk.isTerminal('TASK_RUNNING'),
        now: clock.now(),
        invalid: new sdk.InvalidArgumentError('field', 'bad') instanceof sdk.AgoraError,
        deep,
      }));`;
    writeFileSync(path.join(consumer, 'check.mjs'), script);
    const r = await run(process.execPath, ['check.mjs'], { cwd: consumer });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out['loaded'] as object).sort()).toEqual(Object.keys(installed.exports).sort());
    for (const [subpath, count] of Object.entries(out['loaded'] as Record<string, number>)) expect(count, subpath).toBeGreaterThan(0);
    expect(out).toMatchObject({ driver: 'function', start: 'function', matchOffers: 'function', cpus: 1.5, finished: true, running: false, now: 1500, invalid: true, deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  });

  it('type-checks TypeScript against the installed types, strict and without skipLibCheck', async () => {
    // An author brings TypeScript and @types/node (a dependency of protobufjs brings the latter
    // today); agora's own devDependencies (@types/dockerode …) are not there.
    const typesNode = path.join(consumer, 'node_modules', '@types', 'node');
    if (!existsSync(typesNode)) {
      mkdirSync(path.dirname(typesNode), { recursive: true });
      symlinkSync(path.join(REPO, 'node_modules', '@types', 'node'), typesNode, 'dir');
    }
    expect(existsSync(path.join(consumer, 'node_modules', '@types', 'dockerode'))).toBe(false);
    writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['framework.ts'] }),
    );
    writeFileSync(
      path.join(consumer, 'framework.ts'),
      [
        "import { FrameworkDriver, Resources, isTerminal, matchOffers, type DriverOptions, type FrameworkHandlers, type TaskState } from 'agora/sdk';",
        "import { FakeDriver, offer, startTestCluster } from 'agora/sdk/testing';",
        '// The kit\u2019s FakeDriver is what handlers take, and its builders make what they get.',
        'const handlers: FrameworkHandlers = { offers: (d, offers) => d.decline(offers) };',
        'export const delivered: Promise<void> = new FakeDriver().deliverOffers(handlers, [offer({ resources: \'cpus:1;mem:64\' })]);',
        'export const cluster = startTestCluster;',
        "const state: TaskState = 'TASK_FINISHED';",
        'const done: boolean = isTerminal(state);',
        "const wanted: Resources = Resources.parse('cpus:0.5;mem:64');",
        "const options: Pick<DriverOptions, 'master'> = { master: '127.0.0.1:5051' };",
        'export const used = [FrameworkDriver.start, done, wanted, options, matchOffers];',
        '// The types are real, not `any`: a number is no resources text.',
        '// @ts-expect-error',
        'Resources.parse(42);',
        '',
      ].join('\n'),
    );
    const tsc = await run(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], { cwd: consumer, timeoutMs: 120_000 });
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, 150_000);

  it('runs a framework against agora/sdk/testing\u2019s in-process cluster, from the installed package', async () => {
    const script = `
      import { FrameworkDriver } from 'agora/sdk';
      import { eventually, startTestCluster, taskSpec } from 'agora/sdk/testing';
      const cluster = await startTestCluster({ agents: [{ resources: 'cpus:1;mem:128', attributes: { rack: 'r1' } }] });
      const ends = [];
      const driver = await FrameworkDriver.start(cluster.driverOptions('installed'), {
        offers: async (d, offers) => { if (cluster.runningTasks().length === 0 && ends.length === 0) await d.launch([offers[0]], [taskSpec({ offer: offers[0], taskId: 'one', resources: 'cpus:0.5;mem:32' })]); },
        update: (d, s) => { if (s.state === 'TASK_FINISHED') ends.push(s.taskId); },
      });
      await eventually(() => cluster.runningTasks().includes('one'), { timeoutMs: 10000 });
      cluster.finish('one');
      await eventually(() => ends.length === 1, { timeoutMs: 10000 });
      await driver.stop();
      await cluster.stop();
      console.log(JSON.stringify({ ends }));`;
    writeFileSync(path.join(consumer, 'kit.mjs'), script);
    const r = await run(process.execPath, ['kit.mjs'], { cwd: consumer, timeoutMs: 45_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ends: ['one'] });
  });

  it('gets node-zookeeper-client at the version its runtime mend is written for, and mends it on load', async () => {
    const zk = JSON.parse(readFileSync(path.join(consumer, 'node_modules', 'node-zookeeper-client', 'package.json'), 'utf8')) as { version: string };
    expect(zk.version).toBe(manifest.dependencies['node-zookeeper-client']);
    const script = `
      import { createRequire } from 'node:module';
      await import('agora/sdk');
      const require = createRequire(new URL('./node_modules/agora/dist/core/store/zookeeper-client.js', import.meta.url));
      console.log(require('node-zookeeper-client/lib/ConnectionManager.js').prototype.agoraFraming === true);`;
    writeFileSync(path.join(consumer, 'zk.mjs'), script);
    const r = await run(process.execPath, ['zk.mjs'], { cwd: consumer });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('true');
  });

  it('starts agora up from the installed package, healthy with its agent\u2019s attributes, runs the daemon example against it, and stops it on SIGTERM', async () => {
    const dataDir = path.join(outside, 'up');
    const args = ['up', '--http-port', '0', '--grpc-port', '0', '--agent-http-port', '0', '--dns-port', '0', '--data-dir', dataDir, '--resources', 'cpus:1;mem:512;disk:512', '--attributes', 'rack:r1;zone:a', '--log-level', 'warn'];
    const child = spawn(bin(), args, { cwd: consumer, env: cleanEnv({ AGORA_CONFIG: path.join(outside, 'cli-config.yaml') }), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const master = await eventually(
      () => {
        if (child.exitCode !== null) throw new Error(`agora up exited ${child.exitCode}:\n${out}`);
        const address = /master http: https:\/\/(\S+)/.exec(out)?.[1];
        if (address === undefined || !/cli context: up/.test(out)) throw new Error(`agora up printed no addresses yet:\n${out}`);
        return address;
      },
      { timeoutMs: 45_000, intervalMs: 50, what: 'agora up to print its addresses' },
    );
    const tls = { ca: readFileSync(path.join(dataDir, 'tls', 'ca.pem')) };
    const token = readFileSync(path.join(dataDir, 'admin-token'), 'utf8').trim();
    expect((await secureFetch(`https://${master}/health`, { tls, token: null })).status).toBe(200);
    // The dashboard ships built: its page and bundle are served from the installed package.
    for (const [file, type] of [['/', 'text/html'], ['/ui/app.js', 'text/javascript']] as const) {
      const res = await secureFetch(`https://${master}${file}`, { tls, token: null });
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type'), file).toContain(type);
    }
    const agents = (await (await secureFetch(`https://${master}/api/v1/agents`, { tls, token })).json()) as { agents: { attributes: Record<string, string> }[] };
    expect(agents.agents.map((a) => a.attributes)).toEqual([{ rack: 'r1', zone: 'a' }]);

    // The tutorial's example, built against the installed package (its one import is 'agora/sdk'),
    // runs against this agora up: a copy on the rack:r1 agent, then --teardown removes it.
    const grpc = /master grpc: (\S+)/.exec(out)?.[1] as string;
    const source = readFileSync(path.join(REPO, 'examples', 'daemon.ts'), 'utf8');
    expect(source).toContain("from '../sdk/index.js'");
    const js = ts.transpileModule(source.replace("from '../sdk/index.js'", "from 'agora/sdk'"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(path.join(consumer, 'daemon.mjs'), js);
    const exampleEnv = { AGORA_CA: path.join(dataDir, 'tls', 'ca.pem'), AGORA_TOKEN: token };
    const state = path.join(outside, 'daemon-state');
    const example = spawn(process.execPath, ['daemon.mjs', '--master', grpc, '--selector', 'rack:r1', '--state', state, 'sleep 600'], { cwd: consumer, env: cleanEnv(exampleEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(example);
    let exampleOut = '';
    example.stdout.on('data', (d: Buffer) => (exampleOut += d.toString()));
    example.stderr.on('data', (d: Buffer) => (exampleOut += d.toString()));
    const exampleExited = new Promise<number | null>((resolve) => example.once('exit', (code) => resolve(code)));
    type Tasks = { tasks: { id: string; state: string; frameworkId: string }[] };
    const liveCopies = async (): Promise<string[]> =>
      ((await (await secureFetch(`https://${master}/api/v1/tasks`, { tls, token })).json()) as Tasks).tasks.filter((t) => t.id.startsWith('daemon.') && t.state === 'TASK_RUNNING').map((t) => t.id);
    await eventually(async () => expect(await liveCopies(), exampleOut).toHaveLength(1), { timeoutMs: 30_000, what: 'the example to run its copy' });
    example.kill('SIGINT');
    expect(await exampleExited, exampleOut).toBe(0);
    children.delete(example);
    const teardown = await run(process.execPath, ['daemon.mjs', '--master', grpc, '--state', state, '--teardown'], { cwd: consumer, env: exampleEnv, timeoutMs: 30_000 });
    expect(teardown.code, teardown.stdout + teardown.stderr).toBe(0);
    await eventually(async () => expect(await liveCopies()).toEqual([]), { timeoutMs: 15_000, what: 'the copy killed by --teardown' });

    child.kill('SIGTERM');
    expect(await exited, out).toBe(0);
    children.delete(child);
  });
});
