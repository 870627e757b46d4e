// The pure parts of issue 23's verbs: --tail's line counting and the [TASK_ID] prefixer
// (cli/commands/log-lines.ts), shell completion's candidates (cli/commands/completion.ts, with a fake
// cluster), `describe task|agent` rendering, agent references, and `agora --help`: every verb has
// a description and a group.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/main.js';
import { groupOf, OTHER_GROUP } from '../../cli/help-groups.js';
import { parseAgentRef } from '../../cli/commands/agent-ref.js';
import { candidates, type NameSource } from '../../cli/commands/completion.js';
import { describeAgent } from '../../cli/commands/describe-agent.js';
import { describeTask, type TaskDetail } from '../../cli/commands/describe-task.js';
import type { AgentJson } from '../../cli/commands/cluster-views.js';
import { completeLines, lastLinesStart, LinePrefixer } from '../../cli/commands/log-lines.js';
import { thrown } from '../support/thrown.js';

describe('log lines', () => {
  it('finds where the last N lines start, a final newline ending the last line', () => {
    const text = Buffer.from('a\nbb\nccc\n');
    expect(text.subarray(lastLinesStart(text, 2)).toString()).toBe('bb\nccc\n');
    expect(text.subarray(lastLinesStart(text, 1)).toString()).toBe('ccc\n');
    expect(text.subarray(lastLinesStart(text, 5)).toString()).toBe('a\nbb\nccc\n');
    expect(lastLinesStart(text, 0)).toBe(text.length);
    const partial = Buffer.from('a\nbb\ncc');
    expect(partial.subarray(lastLinesStart(partial, 2)).toString()).toBe('bb\ncc');
    expect(completeLines(text)).toBe(2);
    expect(completeLines(partial)).toBe(2);
  });

  it('prefixes whole lines only, holding a partial line until it ends', () => {
    const out: string[] = [];
    const p = new LinePrefixer('web.1', (b) => out.push(b.toString()));
    p.write(Buffer.from('hello\nwor'));
    expect(out).toEqual(['[web.1] hello\n']);
    p.write(Buffer.from('ld\nx\n'));
    p.write(Buffer.from('tail'));
    p.end();
    expect(out.join('')).toBe('[web.1] hello\n[web.1] world\n[web.1] x\n[web.1] tail\n');
  });
});

describe('agent references', () => {
  it('takes agent/ID, node/ID or a bare id, and names what is wrong', () => {
    expect(parseAgentRef('agent/S1')).toBe('S1');
    expect(parseAgentRef('node/S2')).toBe('S2');
    expect(parseAgentRef('S3')).toBe('S3');
    expect(thrown(() => parseAgentRef('service/web')).message).toContain("expected agent/ID, got 'service/web'");
    expect(thrown(() => parseAgentRef('agent/')).message).toContain('names no agent');
  });
});

describe('completion', () => {
  const program = buildProgram();
  const asked: string[] = [];
  const source: NameSource = {
    names: async (kind) => {
      asked.push(kind);
      return { service: ['web', 'worker'], agent: ['S1', 'S2'], job: ['etl'], cronjob: [], task: ['web.1', 'etl.0'] }[kind] ?? [];
    },
    contexts: () => ['prod', 'up'],
  };
  const complete = (...words: string[]): Promise<string[]> => candidates(program, words, source);

  it('completes verbs, sub-verbs, kinds, flags and flag values', async () => {
    expect(await complete('dr')).toEqual(['drain']);
    expect(await complete('co')).toEqual(['cordon', 'config', 'completion']);
    expect(await complete('rollout', '')).toEqual(['status', 'history', 'undo', 'restart', 'promote', 'abort']);
    expect(await complete('get', '')).toEqual(['agents', 'frameworks', 'tasks', 'services', 'cronjobs', 'jobs', 'secrets', 'configs']);
    expect(await complete('describe', '')).toEqual(['service/', 'cronjob/', 'job/', 'secret/', 'config/', 'task/', 'agent/']);
    expect(await complete('logs', '--t')).toEqual(['--tail', '--token']);
    expect(await complete('get', 'services', '-o', '')).toEqual(['json', 'yaml', 'wide']);
    expect(await complete('get', '--context', '')).toEqual(['prod', 'up']);
    expect(await complete('config', 'use-context', '')).toEqual(['prod', 'up']);
    expect(await complete('completion', '')).toEqual(['bash', 'zsh']);
    expect(await complete('version', '')).toEqual([]);
  });

  it('completes names from the cluster', async () => {
    expect(await complete('describe', 'service/w')).toEqual(['service/web', 'service/worker']);
    expect(await complete('logs', '-f', 'job/')).toEqual(['job/etl']);
    expect(await complete('cordon', 'agent/')).toEqual(['agent/S1', 'agent/S2']);
    expect(await complete('get', 'services', 'wo')).toEqual(['worker']);
    expect(await complete('exec', '-it', 'we')).toEqual(['web.1']);
    expect(await complete('rollout', 'status', 'service/')).toEqual(['service/web', 'service/worker']);
    // A kind the verb does not take asks nothing.
    asked.length = 0;
    expect(await complete('scale', 'job/')).toEqual([]);
    expect(asked).toEqual([]);
  });
});

describe('agora --help', () => {
  it('describes every command in one line, and puts every top-level verb in a named group', () => {
    const program = buildProgram();
    const missing: string[] = [];
    const visit = (cmd: Command, path: string): void => {
      for (const sub of cmd.commands) {
        const name = `${path} ${sub.name()}`.trim();
        const text = sub.description();
        if (!text || text.includes('\n')) missing.push(name);
        visit(sub, name);
      }
    };
    visit(program, '');
    expect(missing).toEqual([]);
    expect(program.commands.filter((c) => groupOf(c.name()) === OTHER_GROUP).map((c) => c.name())).toEqual([]);
    const help = program.helpInformation();
    for (const verb of ['version', 'completion', 'drain', 'undrain', 'cordon', 'uncordon', 'describe', 'logs']) expect(help).toMatch(new RegExp(`^  ${verb} `, 'm'));
    expect(help.indexOf('Workload Commands:')).toBeLessThan(help.indexOf('Run a Cluster:'));
  });
});

describe('describe task and agent', () => {
  it('shows a task’s agent, ports, health, reason and history, and its sandbox', () => {
    const task: TaskDetail = {
      id: 'web.1',
      name: 'web',
      frameworkId: 'F1',
      agentId: 'S1',
      state: 'TASK_FAILED',
      role: '*',
      resources: { cpus: 0.5, mem: 64, disk: 0, gpus: 0, ports: '31000', text: '' },
      status: { message: 'exited 3', healthy: false, reason: 'REASON_COMMAND_EXECUTOR_FAILED', exitCode: 3 },
      labels: { 'agora.service': 'web' },
      launchedAtMs: Date.now() - 5000,
      updatedAtMs: Date.now(),
      statuses: [
        { state: 'TASK_RUNNING', reason: 'REASON_UNSPECIFIED', message: '', source: 'SOURCE_EXECUTOR', timestampMs: Date.now() - 4000 },
        { state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', message: 'exited 3', source: 'SOURCE_EXECUTOR', timestampMs: Date.now() },
      ],
      statusesDropped: 0,
    };
    const text = describeTask(task, { sandbox: { sandbox: '/var/agora/sandbox/web.1', files: [{ name: 'stdout', type: 'file', size: 2048 }] } });
    expect(text).toMatch(/^State: +Failed$/m);
    expect(text).toMatch(/^Ports: +31000$/m);
    expect(text).toMatch(/^Healthy: +false$/m);
    expect(text).toMatch(/^Reason: +CommandExecutorFailed$/m);
    expect(text).toMatch(/^Exit code: +3$/m);
    expect(text).toMatch(/^Sandbox: +\/var\/agora\/sandbox\/web\.1$/m);
    expect(text).toMatch(/Status history:\n.*\n.*Running.*\n.*Failed.*exited 3/);
    expect(text).toMatch(/stdout +file +2Ki/);
    expect(describeTask(task, { sandbox: { error: 'agent gone' } })).toMatch(/^Sandbox: +<unavailable: agent gone>$/m);
  });

  it('shows an agent’s cordon, drain, resources and tasks', () => {
    const r = (cpus: number, mem: number) => ({ cpus, mem, disk: 0, gpus: 0, ports: '', text: '' });
    const agent: AgentJson = {
      id: 'S1',
      hostname: 'a1',
      ip: '10.0.0.1',
      httpAddress: 'a1:5051',
      state: 'connected',
      drain: null,
      cordon: { cordonedAtMs: Date.now(), principal: 'ops' },
      active: false,
      version: '1.0.0',
      attributes: { rack: 'r1' },
      resources: { total: r(4, 4096), allocated: r(1, 128), used: r(1, 128), offered: r(0, 0), available: r(3, 3968) },
      used: { cpus: 0.25, memBytes: 64 * 1024 * 1024 },
      activeTasks: 1,
      registeredAtMs: Date.now(),
    };
    const text = describeAgent(agent, [{ id: 'web.1', name: 'web', frameworkId: 'F1', agentId: 'S1', state: 'TASK_RUNNING', role: '*', resources: r(1, 128), status: { message: '', reason: '' }, launchedAtMs: Date.now() }]);
    expect(text).toMatch(/^Scheduling: +cordoned$/m);
    expect(text).toMatch(/^Cordoned: +by ops/m);
    expect(text).toMatch(/^Attributes: +rack=r1$/m);
    expect(text).toMatch(/cpus +4 +1 +0\.25 +0 +3/);
    expect(text).toMatch(/web\.1 +web +Running/);
  });
});
