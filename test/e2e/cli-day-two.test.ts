// Issue 23's day-two verbs through the `agora` binary against `agora up`, as an operator uses them:
// version (with and without a cluster), logs of every instance of a service and a job (prefixed,
// --tail in lines, -f picking up a new instance), describe task/ID and agent/ID, cordon (a new
// instance stays pending until uncordon), drain and undrain, errors (unknown agent or task, a bad
// --tail or --grace), a principal without agents.drain refused, and the bash completion script
// driven through its completion function in a real bash.
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cliOf, type CliResult, runCli, startUpForCli, stopUpForCli, type UpProcess } from '../support/cli.js';
import { eventually } from '../support/master-harness.js';
import { tempDir } from '../support/tmp.js';
import { pace } from '../support/waits.js';
import { VERSION } from '../../core/version.js';

let up: UpProcess;
let dataDir: string;
let specDir: string;
let agentId: string;

beforeAll(async () => {
  dataDir = await tempDir('cli-day-two');
  specDir = await tempDir('cli-day-two-specs');
  up = await startUpForCli(dataDir);
  const { agents } = (await (await up.fetch(`${up.masterUrl}/api/v1/agents`)).json()) as { agents: { id: string }[] };
  agentId = agents[0]?.id ?? '';
});

afterAll(async () => {
  await stopUpForCli(up, dataDir, ['/api/v1/services/talk']);
});

const agora = cliOf(() => up);

function expectOk(r: CliResult): CliResult {
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return r;
}

async function apply(name: string, text: string): Promise<void> {
  const file = path.join(specDir, name);
  await writeFile(file, text);
  expectOk(await agora('apply', '-f', file, '--timeout', '60s'));
}

const TALK = [
  'kind: Service',
  'name: talk',
  'instances: 2',
  `command: 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.2; done'`,
  'resources: { cpus: 0.1, mem: 32 }',
  '',
].join('\n');

interface ServiceJson {
  serviceStatus: { running?: number; tasks?: { taskId: string; agentId?: string; state: string }[] };
}

async function service(): Promise<ServiceJson> {
  return (await (await up.fetch(`${up.masterUrl}/api/v1/services/talk`)).json()) as ServiceJson;
}

/** Lines of `text` by the task id in their prefix. */
function byTask(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n').filter(Boolean)) {
    const m = /^\[(\S+)\] (.*)$/.exec(line);
    expect(m, `unprefixed line: ${line}`).not.toBeNull();
    map.set(m![1]!, [...(map.get(m![1]!) ?? []), m![2]!]);
  }
  return map;
}

describe('agora day-two verbs', () => {
  it('prints the client version without a cluster, and the servers’ with one', async () => {
    const alone = await runCli(['version', '--client', '--master', 'https://127.0.0.1:1']);
    expect([alone.code, alone.stdout]).toEqual([0, `Client Version: ${VERSION}\n`]);
    const text = expectOk(await agora('version')).stdout;
    expect(text).toBe(`Client Version: ${VERSION}\nMaster Version: ${VERSION} (${up.masterUrl})\nJobs API Version: ${VERSION} (served by the master)\n`);
    const json = JSON.parse(expectOk(await agora('version', '-o', 'json')).stdout) as Record<string, any>;
    expect(json).toMatchObject({ client: { version: VERSION }, master: { version: VERSION, url: up.masterUrl }, jobsApi: { version: VERSION, sameAsMaster: true } });
    const down = await runCli(['version', '--master', 'https://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stdout).toBe(`Client Version: ${VERSION}\n`);
    expect(down.stderr).toMatch(/cannot reach 127\.0\.0\.1:1/);
    expect((await agora('version', '-o', 'xml')).code).toBe(2);
  });

  it('prints every instance’s output prefixed, --tail in lines, and -f follows a new instance', async () => {
    await apply('talk.yaml', TALK);
    await eventually(async () => (await service()).serviceStatus.running === 2, { timeoutMs: 20_000, what: 'two instances' });
    const ids = (await service()).serviceStatus.tasks!.map((t) => t.taskId).sort();
    await pace(1000, 'a few ticks from each instance');

    const all = byTask(expectOk(await agora('logs', 'service/talk')).stdout);
    expect([...all.keys()].sort()).toEqual(ids);
    for (const lines of all.values()) expect(lines.slice(0, 3)).toEqual(['tick 0', 'tick 1', 'tick 2']);
    const tail = byTask(expectOk(await agora('logs', 'service/talk', '--tail', '2')).stdout);
    for (const [id, lines] of tail) {
      expect(lines, id).toHaveLength(2);
      expect(lines[0], id).toMatch(/^tick \d+$/);
      expect(Number(lines[1]!.slice(5))).toBe(Number(lines[0]!.slice(5)) + 1);
    }
    // One task: no prefix; --tail counts lines; --limit-bytes the last bytes.
    const one = expectOk(await agora('logs', ids[0]!, '--tail', '1')).stdout;
    expect(one).toMatch(/^tick \d+\n$/);
    expect(expectOk(await agora('logs', ids[0]!, '--limit-bytes', '3')).stdout).toHaveLength(3);

    const bad = await agora('logs', 'service/talk', '--tail', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--tail: expected a number of lines, got 'x'");
    const missing = await agora('logs', 'service/nope');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/not found/i);

    // Follow: a third instance, started after the follow began, joins.
    const following = runCli(['logs', '-f', 'service/talk', '--tail', '1', '--refresh', '200ms', '--master', up.masterUrl], { timeoutMs: 12_000 });
    await pace(1500, 'the follow is under way before the third instance starts');
    expectOk(await agora('scale', 'service/talk', '3', '--wait', '--timeout', '60s'));
    const third = (await service()).serviceStatus.tasks!.map((t) => t.taskId).find((id) => !ids.includes(id))!;
    const followed = await following; // killed at its timeout: a service's logs never end
    const seen = byTask(followed.stdout);
    expect([...seen.keys()].sort()).toEqual([...ids, third].sort());
    expect(seen.get(ids[0]!)!.length).toBeGreaterThan(5); // kept following
    expect(seen.get(ids[0]!)![0]).not.toBe('tick 0'); // --tail 1: from its last line on
    expect(seen.get(third)![0]).toBe('tick 0'); // joined later: from its first line
  });

  it('prints a job’s tasks, prefixed, and -f ends when the job has', async () => {
    await apply('count.yaml', ['kind: Job', 'name: count', 'completions: 2', 'parallelism: 2', 'completionMode: Indexed', 'task:', `  command: 'echo "index $AGORA_TASK_INDEX a"; echo "index $AGORA_TASK_INDEX b"'`, '  resources: { cpus: 0.1, mem: 16 }', ''].join('\n'));
    const followed = await runCli(['logs', '-f', 'job/count', '--refresh', '200ms', '--master', up.masterUrl], { timeoutMs: 30_000 });
    expect(followed.code).toBe(0);
    const seen = byTask(followed.stdout);
    expect([...seen.values()].map((l) => l.join(',')).sort()).toEqual(['index 0 a,index 0 b', 'index 1 a,index 1 b']);
    const again = byTask(expectOk(await agora('logs', 'job/count', '--tail', '1')).stdout);
    expect([...again.values()].map((l) => l.join(',')).sort()).toEqual(['index 0 b', 'index 1 b']);
  });

  it('describes a task and an agent; unknown ones are not found', async () => {
    const id = (await service()).serviceStatus.tasks![0]!.taskId;
    const task = expectOk(await agora('describe', `task/${id}`)).stdout;
    expect(task).toMatch(new RegExp(`^Task: +${id.replace(/\./g, '\\.')}$`, 'm'));
    expect(task).toMatch(/^State: +Running$/m);
    expect(task).toMatch(new RegExp(`^Agent: +${agentId} \\(\\S+, 127\\.0\\.0\\.1\\)$`, 'm'));
    expect(task).toMatch(/^Framework: +agora-services /m);
    expect(task).toMatch(/^Resources: +cpus 0\.1, mem 32Mi$/m);
    expect(task).toMatch(/^Sandbox: +\/\S+$/m);
    expect(task).toMatch(/Status history:\n(.*\n)*.*Running/);
    expect(task).toMatch(/^ {2}stdout +file /m);
    const agent = expectOk(await agora('describe', 'agent', agentId)).stdout;
    expect(agent).toMatch(/^State: +connected$/m);
    expect(agent).toMatch(/^Scheduling: +schedulable$/m);
    expect(agent).toMatch(/^IP: +127\.0\.0\.1$/m);
    expect(agent).toMatch(/^ {2}cpus +2 +\d+(\.\d+)? /m); // total, then allocated (what else runs varies)
    expect(agent).toContain(id);

    const noTask = await agora('describe', 'task/nope');
    expect([noTask.code, noTask.stdout]).toEqual([1, '']);
    expect(noTask.stderr).toContain("task 'nope' not found");
    const noAgent = await agora('describe', 'agent/nope');
    expect(noAgent.code).toBe(1);
    expect(noAgent.stderr).toContain("agent 'nope' not found");
    expect((await agora('describe', 'task/')).code).toBe(2);
    const kind = await agora('describe', 'pod/x');
    expect([kind.code, kind.stderr]).toEqual([2, "error: KIND/NAME: unknown kind 'pod': expected service, cronjob, job, secret, config, task or agent (e.g. service/web, task/ID)\n"]);
  });

  it('cordons an agent (a new instance waits) and uncordons it; refuses one without agents.drain', async () => {
    const made = await agora('acl', 'token', 'create', '--principal', 'vera', '--policy', 'viewer');
    expect(made.code, made.stderr).toBe(0);
    const viewer = made.stdout.trim();
    const refused = await runCli(['cordon', `agent/${agentId}`, '--master', up.masterUrl, '--token', viewer]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("principal 'vera' lacks permission 'agents.drain'");

    await eventually(async () => (await service()).serviceStatus.running === 3, { timeoutMs: 20_000, what: 'three instances running before the cordon' });
    expect(expectOk(await agora('cordon', `agent/${agentId}`)).stdout).toMatch(new RegExp(`^agent/${agentId} \\(\\S+\\) cordoned\\n$`));
    expect(expectOk(await agora('get', 'agents')).stdout).toMatch(/\sconnected,cordoned\s/);
    expect(expectOk(await agora('describe', `agent/${agentId}`)).stdout).toMatch(/^Cordoned: +by admin/m);
    expectOk(await agora('scale', 'service/talk', '4'));
    await pace(1500, 'an agent offered would have had the new instance placed by now');
    const s = (await service()).serviceStatus;
    expect(s.running).toBe(3); // running tasks untouched, the new instance not placed
    expect(s.tasks).toHaveLength(3);
    expect(expectOk(await agora('describe', 'service/talk')).stdout).toMatch(/^Pending: +1 instance\(s\) waiting/m);

    expect(expectOk(await agora('uncordon', agentId)).stdout).toMatch(/ uncordoned\n$/);
    await eventually(async () => (await service()).serviceStatus.running === 4, { timeoutMs: 20_000, what: 'the fourth instance placed' });
    const unknown = await agora('cordon', 'agent/nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("agent 'nope' not found");
    expect((await agora('cordon', 'service/talk')).code).toBe(2);
  });

  it('drains an agent (its tasks killed) and undrains it', async () => {
    const bad = await agora('drain', `agent/${agentId}`, '--grace', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--grace');
    expect(expectOk(await agora('drain', `agent/${agentId}`, '--grace', '1s')).stdout).toMatch(/ (draining|drained)\n$/);
    await eventually(async () => /^Scheduling: +drained/m.test(expectOk(await agora('describe', `agent/${agentId}`)).stdout), { timeoutMs: 20_000, what: 'drained' });
    expect((await service()).serviceStatus.running ?? 0).toBe(0);
    expectOk(await agora('undrain', `agent/${agentId}`));
    await eventually(async () => (await service()).serviceStatus.running === 4, { timeoutMs: 60_000, what: 'instances back' }).catch(async (err: unknown) => {
      throw new Error(`${(err as Error).message}\n${(await agora('describe', 'service/talk')).stdout}\n${(await agora('describe', `agent/${agentId}`)).stdout}`);
    });
  });

  it('completes verbs, kinds and names in bash and zsh through the completion scripts', async () => {
    const bin = await tempDir('cli-day-two-bin');
    await writeFile(path.join(bin, 'agora'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${CLI.map((a) => JSON.stringify(a)).join(' ')} "$@"\n`);
    await chmod(path.join(bin, 'agora'), 0o755);
    const script = expectOk(await runCli(['completion', 'bash'])).stdout;
    await writeFile(path.join(bin, 'agora.bash'), script);
    const complete = async (...words: string[]): Promise<string[]> => {
      const shell = `source ${JSON.stringify(path.join(bin, 'agora.bash'))}\nCOMP_WORDS=(agora ${words.map((w) => `'${w}'`).join(' ')})\nCOMP_CWORD=${words.length}\n_agora_complete\nprintf '%s\\n' "\${COMPREPLY[@]}"\n`;
      const { stdout } = await promisify(execFile)('bash', ['-c', shell], { env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, AGORA_CONFIG: up.config }, cwd: bin });
      return stdout.split('\n').filter(Boolean);
    };
    expect(await complete('dr')).toEqual(['drain']);
    expect(await complete('describe', '')).toEqual(['service/', 'cronjob/', 'job/', 'secret/', 'config/', 'task/', 'agent/']);
    expect(await complete('describe', 'service/t')).toEqual(['service/talk']);
    expect(await complete('cordon', 'agent/')).toEqual([`agent/${agentId}`]);
    expect(await complete('logs', 'job/')).toEqual(['job/count']);
    expect(await complete('get', 'services', '-o', 'y')).toEqual(['yaml']);
    // `complete -F` is registered for agora.
    const { stdout } = await promisify(execFile)('bash', ['-c', `source ${JSON.stringify(path.join(bin, 'agora.bash'))}; complete -p agora`]);
    expect(stdout.trim()).toBe('complete -F _agora_complete agora');

    // zsh: the script registers _agora through compinit's compdef, and _agora hands the words
    // to compadd (a function here standing in for the builtin, to record what it is given).
    await writeFile(path.join(bin, '_agora.zsh'), expectOk(await runCli(['completion', 'zsh'])).stdout);
    const zsh = async (...words: string[]): Promise<string> => {
      const shell = [
        'autoload -U compinit && compinit -u -D',
        `source ${JSON.stringify(path.join(bin, '_agora.zsh'))}`,
        'print -r -- "registered: $_comps[agora]"',
        'compadd() { print -r -- "compadd $*" }',
        `words=(agora ${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length + 1}`,
        '_agora',
      ].join('\n');
      return (await promisify(execFile)('zsh', ['-f', '-c', shell], { env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, AGORA_CONFIG: up.config }, cwd: bin })).stdout;
    };
    expect(await zsh('dr')).toBe('registered: _agora\ncompadd -Q -- drain\n');
    expect(await zsh('describe', 'service/t')).toBe('registered: _agora\ncompadd -Q -- service/talk\n');
    expect(await zsh('cordon', '')).toBe('registered: _agora\ncompadd -Q -S  -- agent/\n');
  });
});
