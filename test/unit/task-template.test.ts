// One task template for the three frameworks (frameworks/common/task-template.ts): the same
// fields, rules and messages for a Service (paths at the top) and a CronJob's or Job's task
// (paths under `task.`), and one TaskInfo builder.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/errors.js';
import { Resources } from '../../core/resources.js';
import { changeOf } from '../../frameworks/batch/framework.js';
import type { JobRecord } from '../../frameworks/batch/book.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { taskInfo as jobTaskInfo, jobTasks } from '../../frameworks/batch/tasks.js';
import { templateTaskInfo } from '../../frameworks/common/task-info.js';
import { parseTaskTemplate } from '../../frameworks/common/task-template.js';
import { validateCronJobSpec } from '../../frameworks/cron/spec.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';

type Kind = { kind: string; prefix: string; parse: (template: Record<string, unknown>) => unknown };

const KINDS: Kind[] = [
  { kind: 'Service', prefix: '', parse: (t) => parseServiceSpec({ name: 'web', ...t }) },
  { kind: 'CronJob', prefix: 'task.', parse: (t) => validateCronJobSpec({ name: 'nightly', schedule: '@daily', task: t }) },
  { kind: 'Job', prefix: 'task.', parse: (t) => validateJobSpec({ name: 'crunch', task: t }) },
];

const resources = { cpus: 0.5, mem: 64 };

function refusal(parse: () => unknown): InvalidArgumentError {
  try {
    parse();
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe.each(KINDS)('the task template of a $kind', ({ prefix, parse }) => {
  it('accepts command + container.image (the command runs with sh -c in the image)', () => {
    expect(() => parse({ command: 'echo hi', container: { image: 'busybox' }, resources })).not.toThrow();
  });

  it('accepts ports, fetch, a health check and the whole container', () => {
    const template = {
      command: './serve $PORT0',
      resources,
      ports: [{ name: 'http' }],
      fetch: ['https://example.com/serve'],
      healthCheck: { http: { port: 'http', path: '/health' } },
      container: { image: 'busybox', network: 'bridge', volumes: [{ containerPath: '/data', hostPath: 'data' }] },
    };
    expect(() => parse(template)).not.toThrow();
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['no command, args or image', { resources }, 'command', /^a task needs a command, args \(exec form\) or container.image$/],
    ['command and args', { command: 'x', args: ['y'], resources }, 'args', /give either command \(a shell command\) or args \(exec form\), not both/],
    ['command and args with an image', { command: 'x', args: ['y'], container: { image: 'i' }, resources }, 'args', /with an image, give either command/],
    ['no resources', { command: 'x' }, 'resources', /is required/],
    ['zero cpus', { command: 'x', resources: { cpus: 0, mem: 1 } }, 'resources.cpus', /at least 0.001/],
    ['a word for mem', { command: 'x', resources: { cpus: 1, mem: 'lots' } }, 'resources.mem', /must be a number, got 'lots'/],
    ['a duplicate port name', { command: 'x', resources, ports: ['a', 'a'] }, 'ports[1].name', /already the name of ports\[0\]/],
    ['a check on a port it lacks', { command: 'x', resources, healthCheck: { tcp: { port: 'db' } } }, 'healthCheck.tcp.port', /no port named 'db' \(the task names no ports\)/],
    ['a fetch without a value', { command: 'x', resources, fetch: [{ executable: true }] }, 'fetch[0].value', /is required/],
    ['a bad env name', { command: 'x', resources, env: { '1X': 'a' } }, 'env.1X', /environment variable/],
    ['a negative kill grace', { command: 'x', resources, killGracePeriodSeconds: -1 }, 'killGracePeriodSeconds', /at least 0/],
    ['a user network without a name', { command: 'x', resources, container: { image: 'i', network: 'user' } }, 'container.networkName', /required with network user/],
  ])('refuses %s with the same message, at %s under its prefix', (_what, template, field, message) => {
    const err = refusal(() => parse(template));
    expect(err.field).toBe(`${prefix}${field}`);
    expect(err.message.slice(`${prefix}${field}: `.length)).toMatch(message);
  });

  it('takes a numeric string where a number is asked (proto3 JSON)', () => {
    expect(() => parse({ command: 'x', resources: { cpus: '0.5', mem: '64' }, killGracePeriodSeconds: '3' })).not.toThrow();
  });
});

describe('readinessCheck', () => {
  it('is a Service field', () => {
    const spec = parseServiceSpec({ name: 'web', command: 'x', resources, ports: ['http'], readinessCheck: { http: { port: 'http' } } });
    expect(spec.readinessCheck?.type).toBe('HTTP');
  });

  it.each(KINDS.slice(1))('is refused in a $kind, saying why', ({ parse }) => {
    const err = refusal(() => parse({ command: 'x', resources, ports: ['http'], readinessCheck: { http: { port: 'http' } } }));
    expect(err.field).toBe('task.readinessCheck');
    expect(err.message).toMatch(/is for services .* use healthCheck/);
  });
});

describe('templateTaskInfo', () => {
  const template = parseTaskTemplate(
    { command: 'echo hi', resources, container: { image: 'busybox', network: 'bridge' }, ports: [{ name: 'http', containerPort: 80 }], env: { A: '1' }, labels: { team: 'x' }, fetch: ['u'], healthCheck: { tcp: { port: 'http' } } },
    '',
    { readiness: false },
  );

  it('builds one TaskInfo from the template, the framework adding env and labels', () => {
    const info = templateTaskInfo(template, { taskId: 't1', agentId: 'a1', name: 'w', env: { AGORA_X: 'y' }, labels: { 'agora.x': 'y' } }, { resources: Resources.parse('cpus:0.5;mem:64;ports:[31000-31000]'), ports: [31000] });
    expect(info.command).toMatchObject({ shell: true, value: 'echo hi', uris: [{ value: 'u' }], environment: { variables: [{ name: 'A', value: '1' }, { name: 'AGORA_X', value: 'y' }] } });
    expect(info.container?.docker).toMatchObject({ image: 'busybox', network: 'NETWORK_BRIDGE', portMappings: [{ hostPort: 31000, containerPort: 80, protocol: 'tcp', name: 'http' }] });
    expect(info.labels).toEqual({ team: 'x', 'agora.x': 'y' });
    expect(info.healthCheck).toMatchObject({ type: 'TCP', tcp: { portName: 'http' } });
    expect(info.discovery).toMatchObject({ name: 'w', ports: [{ number: 31000, name: 'http' }] });
    expect(info.killPolicy).toEqual({ gracePeriodSeconds: 5 });
  });

  it("reads a job template stored before jobs had ports, fetch and the whole container", () => {
    const spec = validateJobSpec({ name: 'old', task: { command: 'x', container: { image: 'busybox' }, resources } });
    const { ports: _p, fetch: _f, ...task } = spec.task;
    const old = { ...spec, task: { ...task, container: { image: 'busybox', forcePull: false } } } as unknown as typeof spec;
    const [pending] = jobTasks(old, [{ attempt: 0, env: {} }], '*');
    const info = jobTaskInfo(old, 1, 'old.r1.a0.x', 'a1', { task: pending!, resources: Resources.parse('cpus:0.5;mem:64'), ports: [] } as never);
    expect(info.command?.uris).toEqual([]);
    expect(info.container?.docker).toMatchObject({ image: 'busybox', network: 'NETWORK_HOST', portMappings: [], parameters: [], privileged: false });
    expect(info.container?.volumes).toEqual([]);
  });
});

describe('a job stored before jobs shared the template', () => {
  const doc = { name: 'old', completions: 4, task: { command: 'x', container: { image: 'busybox' }, resources, env: { A: '1' } } };
  const spec = validateJobSpec(doc);
  const t = spec.task;
  // As batch wrote it before: its own key order, no ports or fetch, a container of two fields.
  const storedTask = { command: t.command, args: t.args, container: { image: 'busybox', forcePull: false }, resources: t.resources, env: t.env, labels: t.labels, constraints: t.constraints, role: t.role, killGracePeriodSeconds: t.killGracePeriodSeconds, user: t.user };
  const active = { name: 'old', version: 3, spec: { ...spec, task: storedTask }, createdAtMs: 0, updatedAtMs: 0, runs: 1, run: { submittedAtMs: 0, tasks: [] } } as unknown as JobRecord;

  it('is unchanged when applied again as it was (not refused as a change of task while active)', () => {
    expect(changeOf(active, spec, 1).result).toBe('UNCHANGED');
  });

  it('still sees a real change of its task', () => {
    expect(() => changeOf(active, validateJobSpec({ ...doc, task: { ...doc.task, env: { A: '2' } } }), 1)).toThrow(/cannot change task of job old while it is active/);
    expect(changeOf(active, validateJobSpec({ ...doc, completions: 4, parallelism: 2 }), 1).result).toBe('UPDATED');
  });
});
