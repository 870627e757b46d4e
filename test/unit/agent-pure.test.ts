// The agent's pure parts: flags, resource detection arithmetic, a task's environment and ports,
// and which terminal status an ending becomes.
import { describe, expect, it } from 'vitest';
import { thrown } from '../support/thrown.js';
import { Resources } from '../../core/resources.js';
import { resourcesToWire } from '../../core/wire.js';
import type { TaskInfo__Output } from '../../proto/index.js';
import { compileAgentOptions, DEFAULT_TASK_PIDS_LIMIT, parseMasterLocation, parseMemReserve } from '../../agent/options.js';
import { MAX_ARG_STRLEN, spawnFailureMessage } from '../../agent/executors/failed-launch.js';
import { detectResources, memReserveMib } from '../../agent/resources-detect.js';
import { safeName } from '../../agent/checkpoint.js';
import { buildSpec, HEALTH_CHECK_FAILED, KILLED_BY_FRAMEWORK, launchFailure, maxCompletionCause, taskPorts, terminalStatus } from '../../agent/task-spec.js';
import { NOBODY } from '../support/users.js';

function task(extra: Partial<TaskInfo__Output> = {}, resources = 'cpus:0.5;mem:128;ports:[31002-31003,31000-31000]'): TaskInfo__Output {
  return { name: 't', taskId: 't1', resources: resourcesToWire(Resources.parse(resources)), command: { value: 'true' }, ...extra } as unknown as TaskInfo__Output;
}

describe('agent options', () => {
  it('parses masters, reserves and timeouts, and names bad flags', () => {
    expect(parseMasterLocation('a:1, b:2', '--master')).toEqual({ kind: 'addresses', addresses: ['a:1', 'b:2'] });
    expect(parseMasterLocation(':5051', '--master')).toEqual({ kind: 'addresses', addresses: ['127.0.0.1:5051'] });
    expect(parseMasterLocation('zk://h1:2181,h2:2181/agora', '--master')).toEqual({ kind: 'zk', url: 'zk://h1:2181,h2:2181/agora' });
    expect(parseMemReserve('10%', '--mem-reserve')).toEqual({ percent: 10 });
    expect(parseMemReserve('512', '--mem-reserve')).toEqual({ mib: 512 });
    expect(thrown(() => parseMemReserve('lots', '--mem-reserve')).field).toBe('--mem-reserve');
    const options = compileAgentOptions({ master: 'm:5051', statusUpdateRetry: '2s', attributes: 'rack:r1;zone:a' });
    expect(options.statusUpdateRetry).toBe(2000);
    expect(options.statusUpdateRetryMax).toBe(600_000);
    expect(options.killGracePeriod).toBe(5000);
    expect(options.httpPort).toBe(5052);
    expect(options.executor).toBe('process');
    expect(options.attributes).toEqual({ rack: 'r1', zone: 'a' });
    expect([options.allowRootTasks, options.allowPrivileged]).toEqual([false, false]);
    expect(compileAgentOptions({ master: 'm:1', allowRootTasks: 'true', allowPrivileged: true })).toMatchObject({ allowRootTasks: true, allowPrivileged: true });
    expect(thrown(() => compileAgentOptions({ master: 'm:1', allowRootTasks: 'maybe' })).field).toBe('--allow-root-tasks');
    expect(Object.isFrozen(options)).toBe(true);
    expect(thrown(() => compileAgentOptions({})).field).toBe('--master');
    expect(thrown(() => compileAgentOptions({ master: 'm:1', executor: 'vm' })).field).toBe('--executor');
    expect(thrown(() => compileAgentOptions({ master: 'm:1', resources: 'cpus:x' })).field).toBe('--resources');
    expect(thrown(() => compileAgentOptions({ master: 'm:1', statusUpdateRetry: '1m', statusUpdateRetryMax: '10s' })).field).toBe('--status-update-retry-max');
  });

  it('limits the pids of a task by default, takes 0 for no limit, and names a bad --task-pids-limit', () => {
    expect(compileAgentOptions({ master: 'm:1' }).taskPidsLimit).toBe(DEFAULT_TASK_PIDS_LIMIT);
    expect(DEFAULT_TASK_PIDS_LIMIT).toBe(1024);
    expect(compileAgentOptions({ master: 'm:1', taskPidsLimit: '64' }).taskPidsLimit).toBe(64);
    expect(compileAgentOptions({ master: 'm:1', taskPidsLimit: '0' }).taskPidsLimit).toBe(0);
    for (const bad of ['-1', 'lots', '1.5', '', '4194305']) {
      const err = thrown(() => compileAgentOptions({ master: 'm:1', taskPidsLimit: bad }));
      expect(err.code, bad).toBe('AGORA_INVALID_ARGUMENT');
      expect(err.field, bad).toBe('--task-pids-limit');
    }
    expect(thrown(() => compileAgentOptions({ master: 'm:1', taskPidsLimit: '-1' })).message).toMatch(/--task-pids-limit.*at least 0/);
  });
});

describe('a launch that fails', () => {
  it('is TASK_FAILED naming the step and the cause, the cause cut short', () => {
    const err = Object.assign(new Error(`ENAMETOOLONG: name too long, mkdir '/w/${'x'.repeat(2000)}'`), { code: 'ENAMETOOLONG' });
    const fields = launchFailure("create the task's sandbox and journal", err);
    expect(fields).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED' });
    expect(fields.message).toMatch(/^could not create the task's sandbox and journal: ENAMETOOLONG: name too long/);
    expect(fields.message?.length).toBeLessThan(400);
    expect(launchFailure('start the task', 'no').message).toBe('could not start the task: no');
  });

  it('says why a spawn failed, and for E2BIG how big the environment was and which variable was biggest', () => {
    const e2big = Object.assign(new Error('spawn E2BIG'), { code: 'E2BIG' });
    const message = spawnFailureMessage(e2big, ['-c', 'echo hi'], { PATH: '/bin', BIG: 'x'.repeat(3 * 1024 * 1024) });
    expect(message).toMatch(/^could not start the task: spawn E2BIG: the environment and command line are too big to exec \(3\.0 MiB in all/);
    expect(message).toContain('the largest, environment variable BIG, is 3.0 MiB');
    expect(message).toContain(`at most 128.0 KiB per variable`);
    expect(MAX_ARG_STRLEN).toBe(131072);
    const longName = spawnFailureMessage(e2big, [], { ['N'.repeat(5000)]: 'v' });
    expect(longName.length).toBeLessThan(400);
    expect(spawnFailureMessage(Object.assign(new Error('spawn /bin/sh ENOENT'), { code: 'ENOENT' }), [], {})).toBe('could not start the task: spawn /bin/sh ENOENT');
  });
});

describe('resource detection', () => {
  const machine = { cpus: 8, totalMemMib: 16384, freeDiskMib: 100_000.7, gpus: 2 };

  it('offers the machine less the memory reserve, and --resources wins name by name', async () => {
    expect((await detectResources({ workDir: '/nowhere' }, machine)).format()).toBe('cpus:8;mem:15360;disk:100000;gpus:2;ports:[31000-32000]');
    const given = Resources.parse('cpus:2;ports:[8000-8010];rack_slots:{a,b}');
    expect((await detectResources({ workDir: '/nowhere', flag: given, memReserve: { percent: 25 } }, machine)).format()).toBe(
      'cpus:2;mem:12288;disk:100000;gpus:2;ports:[8000-8010];rack_slots:{a,b}',
    );
    expect((await detectResources({ workDir: '/nowhere' }, { ...machine, gpus: 0 })).names()).not.toContain('gpus');
  });

  it('keeps 1 GiB back, or half of a small machine', () => {
    expect(memReserveMib(4096, undefined)).toBe(1024);
    expect(memReserveMib(1024, undefined)).toBe(512);
    expect(memReserveMib(1000, { mib: 5000 })).toBe(1000);
  });
});

describe('a task\u2019s container spec', () => {
  it('numbers ports in the order of its ranges and names them from discovery', () => {
    const t = task({ discovery: { name: 'd', ports: [{ number: 31000, name: 'http' }, { number: 0, name: 'admin-ui' }], labels: {} } } as Partial<TaskInfo__Output>);
    // core Resources orders ranges, so the wire list is [31000-31000, 31002-31003].
    expect(taskPorts(t)).toEqual([{ number: 31000, name: 'http' }, { number: 31002, name: 'admin-ui' }, { number: 31003 }]);
    const spec = buildSpec(t, { frameworkId: 'fw', agentId: 'ag', hostname: 'h1', sandbox: '/s', runtimeDir: '/r', user: NOBODY, baseEnv: { PATH: '/bin' } });
    expect(spec.env).toMatchObject({
      PATH: '/bin',
      AGORA_TASK_ID: 't1',
      AGORA_FRAMEWORK_ID: 'fw',
      AGORA_AGENT_ID: 'ag',
      AGORA_SANDBOX: '/s',
      HOST: 'h1',
      PORT: '31000',
      PORT0: '31000',
      PORT1: '31002',
      PORT2: '31003',
      PORT_HTTP: '31000',
      PORT_ADMIN_UI: '31002',
    });
    expect(spec.cpus).toBe(0.5);
    expect(spec.memMb).toBe(128);
  });

  it('lets the task\u2019s own variables win, and gives containers none of the agent\u2019s', () => {
    const own = task({ command: { value: 'x', environment: { variables: [{ name: 'PORT', value: '80' }, { name: 'A', value: 'b' }] } } } as Partial<TaskInfo__Output>);
    expect(buildSpec(own, { frameworkId: 'f', agentId: 'a', hostname: 'h', sandbox: '/s', runtimeDir: '/r', user: NOBODY, baseEnv: {} }).env).toMatchObject({ PORT: '80', A: 'b' });
    const docker = task({ container: { type: 'CONTAINER_DOCKER', docker: { image: 'busybox' } } } as Partial<TaskInfo__Output>);
    expect(buildSpec(docker, { frameworkId: 'f', agentId: 'a', hostname: 'h', sandbox: '/s', runtimeDir: '/r', user: NOBODY, baseEnv: { PATH: '/host/bin' } }).env['PATH']).toBeUndefined();
  });

  it('gives a process the USER, LOGNAME and HOME of its user, not the agent’s, unless it sets them itself', () => {
    const agentEnv = { PATH: '/bin', USER: 'root', LOGNAME: 'root', HOME: '/root' };
    const ctx = { frameworkId: 'f', agentId: 'a', hostname: 'h', sandbox: '/s', runtimeDir: '/r', user: NOBODY, baseEnv: agentEnv };
    const spec = buildSpec(task(), ctx);
    expect(spec.env).toMatchObject({ PATH: '/bin', USER: 'nobody', LOGNAME: 'nobody', HOME: NOBODY.home });
    expect(spec).toMatchObject({ user: NOBODY, runtimeDir: '/r', sandbox: '/s' });
    const own = task({ command: { value: 'x', environment: { variables: [{ name: 'HOME', value: '/s' }] } } } as Partial<TaskInfo__Output>);
    expect(buildSpec(own, ctx).env).toMatchObject({ HOME: '/s', USER: 'nobody' });
    const docker = task({ container: { type: 'CONTAINER_DOCKER', docker: { image: 'busybox' } } } as Partial<TaskInfo__Output>);
    expect(buildSpec(docker, ctx).env['USER']).toBeUndefined();
  });
});

describe('terminal status', () => {
  it('maps how a container ended, and why the agent ended it', () => {
    expect(terminalStatus({ exitCode: 0, message: 'ok' }, undefined)).toMatchObject({ state: 'TASK_FINISHED', exitCode: 0 });
    expect(terminalStatus({ exitCode: 2, message: 'no' }, undefined)).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_COMMAND_EXECUTOR_FAILED', exitCode: 2 });
    expect(terminalStatus({ signal: 'SIGTERM', killed: true, message: 'k' }, KILLED_BY_FRAMEWORK)).toMatchObject({ state: 'TASK_KILLED', reason: 'REASON_KILLED_BY_FRAMEWORK', termSignal: 15 });
    expect(terminalStatus({ exitCode: 0, message: 'bye' }, HEALTH_CHECK_FAILED)).toMatchObject({ state: 'TASK_KILLED', reason: 'REASON_HEALTH_CHECK_FAILED', message: 'health check failed' });
    expect(terminalStatus({ signal: 'SIGKILL', killed: true, message: 'k' }, maxCompletionCause(3))).toMatchObject({ state: 'TASK_FAILED', reason: 'REASON_MAX_COMPLETION_TIME_REACHED' });
    expect(terminalStatus({ signal: 'SIGKILL', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', message: 'oom' }, KILLED_BY_FRAMEWORK)).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'REASON_CONTAINER_LIMITATION_MEMORY',
      message: 'oom',
    });
    expect(terminalStatus({ launchFailed: true, reason: 'REASON_CONTAINER_PULL_FAILED', message: 'no image' }, undefined)).toMatchObject({
      state: 'TASK_FAILED',
      reason: 'REASON_CONTAINER_PULL_FAILED',
    });
  });
});

describe('safeName', () => {
  it('keeps plain ids and encodes the rest injectively, never leaving the directory', () => {
    expect(safeName('web-1.a_b')).toBe('web-1.a_b');
    expect(safeName('a:b')).toBe('%a%3ab');
    expect(safeName('a/b')).not.toContain('/');
    expect(safeName('..')).not.toBe('..');
    expect(safeName('a:b')).not.toBe(safeName('a%3ab'));
  });
});
