import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../core/errors.js';
import { resourcesText, taskShape, validateJobSpec } from '../../frameworks/batch/spec.js';

const task = { command: './work.sh', resources: { cpus: 1, mem: 128 } };
const base = { kind: 'Job', name: 'crunch', task };

function error(doc: unknown): InvalidArgumentError {
  try {
    validateJobSpec(doc);
  } catch (err) {
    if (err instanceof InvalidArgumentError) return err;
    throw err;
  }
  throw new Error('expected an InvalidArgumentError');
}

describe('validateJobSpec', () => {
  it('fills Kubernetes defaults and freezes the result', () => {
    const spec = validateJobSpec(base);
    expect(spec).toMatchObject({ name: 'crunch', completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NON_INDEXED', gang: false, priority: 0, suspend: false });
    expect(spec.activeDeadlineSeconds).toBeUndefined();
    expect(spec.task).toMatchObject({ command: './work.sh', resources: { cpus: 1, mem: 128, disk: 0, gpus: 0 }, killGracePeriodSeconds: 5 });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.task.resources)).toBe(true);
  });

  it('reads every field', () => {
    const spec = validateJobSpec({
      ...base,
      completions: 8,
      parallelism: 4,
      backoffLimit: 0,
      activeDeadlineSeconds: 600,
      ttlSecondsAfterFinished: 0,
      completionMode: 'Indexed',
      gang: true,
      priority: -3,
      task: { container: { image: 'busybox' }, args: ['echo', 'hi'], resources: { cpus: 0.5, mem: 64, gpus: 1 }, env: { A: 1 }, constraints: [['hostname', 'UNIQUE']] },
    });
    expect(spec).toMatchObject({ completions: 8, parallelism: 4, backoffLimit: 0, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 0, completionMode: 'INDEXED', gang: true, priority: -3 });
    expect(spec.task.env).toEqual({ A: '1' });
    expect(spec.task.constraints).toEqual([{ field: 'hostname', operator: 'UNIQUE' }]);
    expect(resourcesText(spec.task.resources)).toBe('cpus:0.5;mem:64;gpus:1');
    expect(taskShape(spec)).toEqual({ resources: 'cpus:0.5;mem:64;gpus:1', constraints: [{ field: 'hostname', operator: 'UNIQUE' }], group: 'job:crunch', capabilities: ['DOCKER'] });
  });

  it.each([
    ['NonIndexed', 'NON_INDEXED'],
    ['non_indexed', 'NON_INDEXED'],
    ['INDEXED', 'INDEXED'],
    [1, 'INDEXED'],
    [0, 'NON_INDEXED'],
  ])('completionMode %j → %s', (mode, want) => {
    expect(validateJobSpec({ ...base, completions: 2, completionMode: mode }).completionMode).toBe(want);
  });

  it('trims parallelism to completions (NonIndexed and Indexed without gang)', () => {
    expect(validateJobSpec({ ...base, completions: 2, parallelism: 5 }).parallelism).toBe(2);
    expect(validateJobSpec({ ...base, completions: 2, parallelism: 5, completionMode: 'Indexed' }).parallelism).toBe(2);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['negative completions', { completions: -1 }, 'completions', /at least 1/],
    ['zero completions', { completions: 0 }, 'completions', /at least 1/],
    ['fractional completions', { completions: 1.5 }, 'completions', /whole number/],
    ['string completions', { completions: '5' }, 'completions', /must be a number, got '5'/],
    ['zero parallelism', { parallelism: 0 }, 'parallelism', /at least 1/],
    ['boolean parallelism', { parallelism: true }, 'parallelism', /must be a number/],
    ['negative backoffLimit', { backoffLimit: -1 }, 'backoffLimit', /at least 0/],
    ['zero activeDeadlineSeconds', { activeDeadlineSeconds: 0 }, 'activeDeadlineSeconds', /greater than 0/],
    ['negative ttl', { ttlSecondsAfterFinished: -5 }, 'ttlSecondsAfterFinished', /at least 0/],
    ['unknown mode', { completionMode: 'Sometimes' }, 'completionMode', /NonIndexed or Indexed/],
    ['string gang', { gang: 'yes' }, 'gang', /true or false/],
    ['fractional priority', { priority: 1.5 }, 'priority', /whole number/],
    ['gang with completions < parallelism', { gang: true, completions: 2, parallelism: 4 }, 'completions', /must be ≥ parallelism when gang is true/],
    ['Indexed without completions', { completionMode: 'Indexed' }, 'completions', /required with completionMode Indexed/],
    ['bad name', { name: 'Not_A_Name' }, 'name', /not a valid name/],
    ['missing name', { name: undefined }, 'name', /required/],
    ['unknown field', { completion: 3 }, 'completion', /unknown field/],
    ['wrong kind', { kind: 'Service' }, 'kind', /must be Job/],
    ['missing task', { task: undefined }, 'task', /is required/],
    ['task without command or image', { task: { resources: task.resources } }, 'task.command', /needs a command/],
    ['task with command and args', { task: { ...task, args: ['x'] } }, 'task.args', /either command .* or args .*, not both/],
    ['task with a readinessCheck', { task: { ...task, readinessCheck: { tcp: { port: 80 } } } }, 'task.readinessCheck', /is for services/],
    ['task without resources', { task: { command: 'x' } }, 'task.resources', /is required/],
    ['task with negative cpus', { task: { command: 'x', resources: { cpus: -1, mem: 1 } } }, 'task.resources.cpus', /at least/],
    ['task with string mem', { task: { command: 'x', resources: { cpus: 1, mem: 'lots' } } }, 'task.resources.mem', /must be a number/],
    ['task with a bad constraint', { task: { ...task, constraints: [['rack', 'NEAR']] } }, 'task.constraints[0].operator', /./],
    ['task with a bad env name', { task: { ...task, env: { '1X': 'a' } } }, 'task.env.1X', /environment variable/],
    ['task with a bad role', { task: { ...task, role: 'eng//batch' } }, 'task.role', /not a valid role name/],
  ])('rejects %s', (_what, patch, field, message) => {
    const err = error({ ...base, ...patch });
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`${field}: `)).toBe(true);
  });

  it('reads a role name, or none', () => {
    expect(validateJobSpec({ ...base, task: { ...task, role: 'eng/batch' } }).task.role).toBe('eng/batch');
    expect(validateJobSpec(base).task.role).toBe('');
  });

  it('rejects a document that is not an object', () => {
    expect(error(null).field).toBe('spec');
    expect(error([]).field).toBe('');
  });
});
