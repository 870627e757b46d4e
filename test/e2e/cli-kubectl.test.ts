// The kubectl habits of the `agora` CLI, as a user meets them against `agora up`: get -o yaml|json
// applies back unchanged for every kind (and a List of them, from standard input); apply, diff
// and delete take a file, a directory or standard input, and one bad document applies nothing;
// get -o name|jsonpath, --sort-by, -l and --watch; tasks live by default, -a and --state; explain;
// a caller without env.view cannot apply the mask over real values; and bad input is exit 2
// naming the flag or field.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type CliResult, runCli, spawnCli, startUpForCli, stopUpForCli, type UpProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';

let up: UpProcess;
let dataDir: string;
let dir: string;

const WEB = 'kind: Service\nname: web\ninstances: 1\ncommand: sleep 1000\nresources: { cpus: 0.1, mem: 32 }\nenv: { GREETING: hi }\nlabels: { tier: web }\n';
const TICK = 'kind: CronJob\nname: tick\nschedule: "@daily"\nconcurrencyPolicy: Forbid\nlabels: { tier: batch }\ntask: { command: "true", resources: { cpus: 0.05, mem: 16 }, env: { A: b } }\n';
const CRUNCH = 'kind: Job\nname: crunch\ntask: { command: "true", resources: { cpus: 0.05, mem: 16 } }\n';

beforeAll(async () => {
  dataDir = await tempDir('cli-kubectl-up');
  dir = await tempDir('cli-kubectl-specs');
  up = await startUpForCli(dataDir);
});

afterAll(async () => {
  await stopUpForCli(up, dataDir);
});

function agora(args: string[], stdin?: string): Promise<CliResult> {
  return runCli([...args, '--master', up.masterUrl], stdin === undefined ? {} : { stdin });
}

function ok(r: CliResult): string {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r.stdout;
}

function file(name: string, text: string, under = dir): string {
  mkdirSync(under, { recursive: true });
  const f = path.join(under, name);
  writeFileSync(f, text);
  return f;
}

describe('agora CLI, kubectl habits', () => {
  it('applies what get -o yaml and -o json print back unchanged, for every kind, from a file and from stdin', async () => {
    expect(ok(await agora(['apply', '-f', '-', '--timeout', '60s'], WEB))).toMatch(/^service\/web created \(version v1\)\n/);
    expect(ok(await agora(['apply', '-f', file('tick.yaml', TICK)]))).toBe('cronjob/tick created (version v1)\n');
    expect(ok(await agora(['apply', '-f', file('crunch.yaml', CRUNCH)]))).toBe('job/crunch created (version v1)\n');

    const yaml = ok(await agora(['get', 'service', 'web', '-o', 'yaml']));
    const doc = parseYaml(yaml) as Record<string, unknown> & { status: Record<string, unknown> };
    expect(doc).toMatchObject({ kind: 'Service', name: 'web', instances: 1, env: { GREETING: 'hi' }, status: { version: 'v1', instances: 1 } });
    for (const [kind, name] of [['service', 'web'], ['cronjob', 'tick'], ['job', 'crunch']] as const) {
      const asYaml = ok(await agora(['get', kind, name, '-o', 'yaml']));
      expect(ok(await agora(['apply', '-f', file(`${name}.got.yaml`, asYaml)]))).toBe(`${kind}/${name} unchanged (version v1)\n`);
      const asJson = ok(await agora(['get', kind, name, '-o', 'json']));
      expect(JSON.parse(asJson)).toMatchObject({ kind: { service: 'Service', cronjob: 'CronJob', job: 'Job' }[kind], name });
      expect(ok(await agora(['apply', '-f', '-'], asJson))).toBe(`${kind}/${name} unchanged (version v1)\n`);
    }
    // Several print as a List, which apply takes back too.
    const all = ok(await agora(['get', 'cronjobs', '-o', 'yaml']));
    expect(parseYaml(all)).toMatchObject({ kind: 'List', items: [{ kind: 'CronJob', name: 'tick' }] });
    expect(ok(await agora(['apply', '-f', '-'], all))).toBe('cronjob/tick unchanged (version v1)\n');
    // A read-only field changed by hand is still ignored; a typo beside it is not.
    expect(ok(await agora(['apply', '-f', '-'], yaml.replace(/^ {2}version: v1$/m, '  version: v9')))).toBe('service/web unchanged (version v1)\n');
    const typo = await agora(['apply', '-f', '-'], `${yaml}instance: 3\n`);
    expect([typo.code, typo.stderr]).toEqual([2, expect.stringMatching(/^error: standard input: instance: unknown field 'instance'/)]);
  }, 120_000);

  it('refuses to apply the env mask a caller without env.view sees, leaving the real value', async () => {
    ok(await agora(['acl', 'policy', 'apply', '-f', '-'], 'kind: Policy\nname: deployer\nrules:\n  - allow: [jobs.read, jobs.write, tasks.run_as]\n'));
    const created = await agora(['acl', 'token', 'create', '--principal', 'dev', '--policy', 'deployer']);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    const masked = ok(await agora(['get', 'service', 'web', '-o', 'yaml', '--token', token]));
    expect(masked).toMatch(/^ {2}GREETING: <hidden>$/m);
    const refused = await agora(['apply', '-f', '-', '--token', token], masked);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringMatching(/^error: standard input: env\.GREETING: is '<hidden>', the mask shown to callers without env\.view/)]);
    const cron = await agora(['apply', '-f', '-', '--token', token], ok(await agora(['get', 'cronjob', 'tick', '-o', 'json', '--token', token])));
    expect([cron.code, cron.stderr]).toEqual([2, expect.stringMatching(/task\.env\.A: is '<hidden>'/)]);
    expect(parseYaml(ok(await agora(['get', 'service', 'web', '-o', 'yaml'])))).toMatchObject({ env: { GREETING: 'hi' }, status: { version: 'v1' } });
  });

  it('applies, diffs and deletes a directory and standard input; one bad document applies nothing', async () => {
    const specs = path.join(dir, 'specs');
    file('1-api.yaml', 'kind: Service\nname: api\ninstances: 0\ncommand: sleep 1000\nresources: { cpus: 0.1, mem: 32 }\n', specs);
    file('2-nightly.json', JSON.stringify({ kind: 'Job', name: 'nightly', suspend: true, task: { command: 'true', resources: { cpus: 0.05, mem: 16 } } }), specs);
    file('notes.txt', 'not a spec', specs);
    expect(ok(await agora(['apply', '-f', specs, '--no-wait']))).toBe('service/api created (version v1)\njob/nightly created (version v1)\n');
    expect(await agora(['diff', '-f', specs])).toEqual({ code: 0, stdout: '', stderr: '' });

    file('1-api.yaml', 'kind: Service\nname: api\ninstances: 0\ncommand: sleep 2000\nresources: { cpus: 0.1, mem: 32 }\n', specs);
    file('3-extra.yaml', 'kind: CronJob\nname: extra\nschedule: "@weekly"\ntask: { command: "true", resources: { cpus: 0.05, mem: 16 } }\n', specs);
    const diff = await agora(['diff', '-f', specs]);
    expect([diff.code, diff.stderr]).toEqual([1, '']);
    expect(diff.stdout).toContain('--- live/service/api\n+++ applied/service/api');
    expect(diff.stdout).toMatch(/^-command: sleep 1000\n\+command: sleep 2000$/m);
    expect(diff.stdout).toContain('--- live/cronjob/extra\n+++ applied/cronjob/extra');
    expect(diff.stdout).toMatch(/^\+name: extra$/m);
    expect(diff.stdout).not.toContain('job/nightly'); // unchanged: no diff, though the file leaves defaults out
    expect(ok(await agora(['get', 'service', 'api', '-o', 'jsonpath={.command}']))).toBe('sleep 1000'); // diff changed nothing
    rmSync(path.join(specs, '3-extra.yaml'));

    const bad = path.join(dir, 'bad');
    file('1-fine.yaml', 'kind: Service\nname: fine\ninstances: 0\ncommand: sleep 1\nresources: { cpus: 0.1, mem: 32 }\n', bad);
    file('2-broken.yaml', 'kind: Service\nname: broken\ninstances: lots\ncommand: sleep 1\nresources: { cpus: 0.1, mem: 32 }\n', bad);
    const refused = await agora(['apply', '-f', bad]);
    expect([refused.code, refused.stdout, refused.stderr]).toEqual([2, '', expect.stringMatching(/^error: \S+2-broken\.yaml: instances: /)]);
    expect((await agora(['get', 'service', 'fine'])).code).toBe(1);
    expect((await agora(['diff', '-f', bad])).code).toBe(2);
    const unparsable = await agora(['apply', '-f', '-'], 'kind: Service\nname: [\n');
    expect([unparsable.code, unparsable.stderr]).toEqual([2, expect.stringMatching(/^error: standard input: line \d+: not valid YAML or JSON/)]);

    const two = 'kind: Service\nname: s1\ninstances: 0\ncommand: sleep 1\nresources: { cpus: 0.1, mem: 32 }\n---\nkind: Job\nname: j1\nsuspend: true\ntask: { command: "true", resources: { cpus: 0.05, mem: 16 } }\n';
    expect(ok(await agora(['apply', '-f', '-', '--no-wait'], two))).toBe('service/s1 created (version v1)\njob/j1 created (version v1)\n');
    expect(ok(await agora(['delete', '-f', '-'], two))).toBe('service/s1 deleted\njob/j1 deleted\n');

    expect(ok(await agora(['delete', '-f', specs]))).toBe('service/api deleted\njob/nightly deleted\n');
    const again = await agora(['delete', '-f', specs]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("error: service 'api' not found\n");
    expect(ok(await agora(['delete', '-f', specs, '--ignore-not-found']))).toBe('');
    expect((await agora(['delete', 'service/web', '-f', specs])).code).toBe(2);
  }, 120_000);

  it('gets names, JSONPath, sorted and selected rows; tasks live by default, -a and --state', async () => {
    expect(ok(await agora(['get', 'services', '-o', 'name']))).toBe('service/web\n');
    expect(ok(await agora(['get', 'services', '-o', 'jsonpath={.items[*].name} {.items[0].status.version}']))).toBe('web v1');
    expect(ok(await agora(['get', 'services', '-l', 'tier=web', '-o', 'name']))).toBe('service/web\n');
    expect(ok(await agora(['get', 'services', '-l', 'tier!=web', '-o', 'name']))).toBe('');
    expect(ok(await agora(['get', 'services', '-l', 'tier in (api,web)', '-o', 'name']))).toBe('service/web\n');
    expect(ok(await agora(['get', 'services', '-l', 'tier notin (web)', '-o', 'name']))).toBe('');
    expect(ok(await agora(['get', 'cronjobs', '-l', 'tier,!legacy', '-o', 'name']))).toBe('cronjob/tick\n');
    expect(ok(await agora(['get', 'services', '-l', 'tier=batch']))).toBe('No services found.\n');

    // The job's one task finishes; the service's keeps running.
    await eventually(async () => /crunch\s+1\/1\s+Succeeded/.test(ok(await agora(['get', 'jobs']))), { timeoutMs: 30_000, what: 'crunch to succeed' });
    const live = ok(await agora(['get', 'tasks', '-o', 'jsonpath={.items[*].name}']));
    expect(live).toBe('web');
    expect(ok(await agora(['get', 'tasks', '-a', '--sort-by', '.name', '-o', 'jsonpath={.items[*].name}']))).toBe('crunch web');
    expect(ok(await agora(['get', 'tasks', '-a', '--sort-by', '{.launchedAtMs}', '-o', 'jsonpath={.items[*].name}']))).toBe('web crunch');
    expect(ok(await agora(['get', 'tasks', '--state', 'finished', '-o', 'jsonpath={.items[*].name}']))).toBe('crunch');
    expect(ok(await agora(['get', 'tasks', '-a', '-l', 'agora.job=crunch', '-o', 'name']))).toMatch(/^task\/crunch\.\S+\n$/);
    expect(ok(await agora(['get', 'tasks', '-o', 'name']))).toMatch(/^task\/web\.\S+\n$/);
    expect(ok(await agora(['get', 'tasks', '-a']))).toMatch(/^crunch\.\S+\s+crunch\s+Finished\s/m);
  }, 60_000);

  it('watches services and tasks: the table, then a row per change, until Ctrl-C', async () => {
    const services = spawnCli(['get', 'services', '--watch', '--master', up.masterUrl]);
    const tasks = spawnCli(['get', 'tasks', '-w', '--master', up.masterUrl]);
    await eventually(async () => /^web\s+1\/1\s/m.test(services.stdout()) && /^web\.\S+\s+web\s+Running\s/m.test(tasks.stdout()), { timeoutMs: 20_000, what: 'the first tables' });
    expect(ok(await agora(['scale', 'service/web', '2']))).toMatch(/^service\/web scaled to 2/);
    await eventually(async () => /^web\s+\d\/2\s/m.test(services.stdout()), { timeoutMs: 20_000, what: 'a row for the scaled service' });
    await eventually(async () => (tasks.stdout().match(/^web\.\S+\s+web\s/gm) ?? []).length >= 2 && /^web\.\S+\s+web\s+(Staging|Starting|Running)\s/m.test(tasks.stdout().split('\n').slice(2).join('\n')), {
      timeoutMs: 20_000,
      what: 'a row for the new task',
    });
    for (const watch of [services, tasks]) {
      const end = await watch.stop('SIGINT');
      expect([end.code, end.stderr]).toEqual([0, '']);
      expect(end.stdout.split('\n')[0]).toMatch(/^(NAME|ID)\s/);
      expect(end.stdout.split('\n').slice(1).join('\n')).not.toMatch(/^(NAME|ID)\s/m); // one header, then rows
    }
  }, 60_000);

  it('explains a kind and its fields from the proto comments', async () => {
    // explain reads the proto comments shipped with the CLI: no cluster needed.
    const explain = async (what: string): Promise<string> => ok(await runCli(['explain', what]));
    expect(await explain('service')).toMatch(/^ {3}command +<string> +a shell command \(\/bin\/sh -c\)$/m);
    expect(await explain('cronjob.concurrencyPolicy')).toMatch(/^ {3}FORBID +skip a run while the previous one is still active$/m);
    expect(await explain('service.ports')).toMatch(/^FIELD: +ports <\[\]PortSpec>$/m);
  });

  it('refuses bad input with exit 2, naming the flag or field', async () => {
    const cases: [string[], RegExp][] = [
      [['get', 'services', '-l', 'tier=web,a b'], /^error: -l: 'a b' is not a requirement/],
      [['get', 'frameworks', '-l', 'a=b'], /^error: -l: frameworks have no labels/],
      [['get', 'services', '-o', 'jsonpath={.items[}'], /^error: -o jsonpath: '\{\.items\[\}' has unbalanced brackets/],
      [['get', 'services', '-o', 'jsonpath={range .items[*]}{.name}{end}'], /^error: -o jsonpath: \{range/],
      [['get', 'services', '-o', 'xml'], /^error: -o: expected wide, json, yaml, name or jsonpath=TEMPLATE/],
      [['get', 'services', '--sort-by', '.a['], /^error: --sort-by: /],
      [['get', 'tasks', '--state', 'sleepy'], /^error: --state: unknown task state 'sleepy'/],
      [['get', 'services', '-a'], /^error: --all: is for tasks only/],
      [['explain', 'service.nope'], /^error: FIELD: Service has no field 'nope'/],
      [['explain', 'agents'], /^error: KIND: cannot explain 'agents'/],
      [['apply', '-f', path.join(dir, 'missing-dir')], /^error: -f: cannot read \S+missing-dir: ENOENT/],
    ];
    for (const [args, message] of cases) {
      const r = args[0] === 'explain' ? await runCli(args) : await agora(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
  });
});
