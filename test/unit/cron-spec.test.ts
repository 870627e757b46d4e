// CronJob specs: validation with field paths, defaults, frozen result.
import { describe, expect, it } from 'vitest';
import { CRON_DEFAULTS, validateCronJobSpec } from '../../frameworks/cron/spec.js';

const TASK = { command: 'echo hi', resources: { cpus: 0.1, mem: 32 } };
const MIN = { name: 'report', schedule: '*/5 * * * *', task: TASK };

function errorOf(doc: Record<string, unknown>): { field: string | undefined; message: string } {
  try {
    validateCronJobSpec(doc);
  } catch (err) {
    return { field: (err as { field?: string }).field, message: (err as Error).message };
  }
  throw new Error('expected an error');
}

describe('validateCronJobSpec', () => {
  it('fills the defaults and freezes the result', () => {
    const spec = validateCronJobSpec(MIN);
    expect(spec).toMatchObject({
      name: 'report', schedule: '*/5 * * * *', timeZone: 'UTC', concurrencyPolicy: 'ALLOW', retries: 0, suspend: false,
      successfulJobsHistoryLimit: CRON_DEFAULTS.successfulJobsHistoryLimit, failedJobsHistoryLimit: 1, after: [],
      backoff: { seconds: 10, factor: 2, maxLaunchDelaySeconds: 360 },
    });
    expect(spec.startingDeadlineSeconds).toBeUndefined();
    expect(spec.task.command).toBe('echo hi');
    expect(spec.task.resources).toEqual({ cpus: 0.1, mem: 32, disk: 0, gpus: 0 });
    expect(Object.isFrozen(spec)).toBe(true);
    expect(Object.isFrozen(spec.task.resources)).toBe(true);
  });

  it('accepts every documented field', () => {
    const spec = validateCronJobSpec({
      kind: 'CronJob', name: 'nightly', schedule: '0 30 2 * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'forbid',
      startingDeadlineSeconds: 0, retries: 3, backoff: { seconds: 1, factor: 1.5, maxLaunchDelaySeconds: 60 },
      activeDeadlineSeconds: 600, successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: 5, suspend: true,
      task: { container: { image: 'busybox' }, command: 'date', resources: { cpus: 1, mem: 64 }, env: { A: '1' } }, labels: { team: 'x' },
    });
    expect(spec).toMatchObject({ concurrencyPolicy: 'FORBID', startingDeadlineSeconds: 0, retries: 3, suspend: true, timeZone: 'Europe/Berlin' });
    expect(spec.task.container?.image).toBe('busybox');
    expect(spec.task.env).toEqual({ A: '1' });
  });

  it.each(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly', '0 0 1 1 *', '*/10 * * * * *', '0 9 * * MON-FRI'])('accepts the schedule %s', (schedule) => {
    expect(validateCronJobSpec({ ...MIN, schedule }).schedule).toBe(schedule);
  });

  it('a dependent job has after and no schedule', () => {
    const spec = validateCronJobSpec({ name: 'load', after: ['extract', 'clean'], task: TASK });
    expect(spec.schedule).toBe('');
    expect(spec.after).toEqual(['clean', 'extract']);
  });

  const bad: [string, Record<string, unknown>, string, RegExp][] = [
    ['a bad cron expression', { ...MIN, schedule: 'every day' }, 'schedule', /fields/],
    ['too many fields', { ...MIN, schedule: '0 0 0 1 1 * 2030' }, 'schedule', /7 fields/],
    ['a minute out of range', { ...MIN, schedule: '61 * * * *' }, 'schedule', /minute/],
    ['an unknown nickname', { ...MIN, schedule: '@fortnightly' }, 'schedule', /unknown nickname/],
    ['a date that never comes', { ...MIN, schedule: '0 0 30 2 *' }, 'schedule', /never/],
    ['no schedule', { name: 'x', task: TASK }, 'schedule', /required/],
    ['schedule and after', { ...MIN, after: ['a'] }, 'schedule', /empty when after/],
    ['an unknown time zone', { ...MIN, timeZone: 'Mars/Olympus' }, 'timeZone', /unknown time zone/],
    ['a bad name', { ...MIN, name: 'Bad_Name' }, 'name', /not a valid name/],
    ['a negative deadline', { ...MIN, startingDeadlineSeconds: -1 }, 'startingDeadlineSeconds', /at least 0/],
    ['negative retries', { ...MIN, retries: -2 }, 'retries', /at least 0/],
    ['fractional retries', { ...MIN, retries: 1.5 }, 'retries', /whole/],
    ['a zero active deadline', { ...MIN, activeDeadlineSeconds: 0 }, 'activeDeadlineSeconds', /greater than 0/],
    ['a negative history limit', { ...MIN, successfulJobsHistoryLimit: -1 }, 'successfulJobsHistoryLimit', /at least 0/],
    ['a negative failed history limit', { ...MIN, failedJobsHistoryLimit: -1 }, 'failedJobsHistoryLimit', /at least 0/],
    ['a backoff factor below 1', { ...MIN, backoff: { factor: 0.5 } }, 'backoff.factor', /at least 1/],
    ['a string for suspend', { ...MIN, suspend: 'yes' }, 'suspend', /true or false/],
    ['a number for schedule', { ...MIN, schedule: 5 }, 'schedule', /string/],
    ['an unknown policy', { ...MIN, concurrencyPolicy: 'Sometimes' }, 'concurrencyPolicy', /Allow, Forbid, Replace/],
    ['an unknown field', { ...MIN, schedul: '* * * * *' }, 'schedul', /unknown field/],
    ['no task', { name: 'x', schedule: '@daily' }, 'task', /required/],
    ['a task with nothing to run', { ...MIN, task: { resources: { cpus: 1, mem: 1 } } }, 'task.command', /command/],
    ['a task without resources', { ...MIN, task: { command: 'x' } }, 'task.resources', /required/],
    ['zero cpus', { ...MIN, task: { command: 'x', resources: { cpus: 0, mem: 1 } } }, 'task.resources.cpus', /at least/],
    ['a string for mem', { ...MIN, task: { command: 'x', resources: { cpus: 1, mem: 'lots' } } }, 'task.resources.mem', /number/],
    ['an unknown task field', { ...MIN, task: { ...TASK, instances: 2 } }, 'task.instances', /unknown field/],
    ['a bad env name', { ...MIN, task: { ...TASK, env: { '1X': 'a' } } }, 'task.env.1X', /environment variable/],
    ['a self-dependency', { name: 'load', after: ['load'], task: TASK }, 'after[0]', /itself/],
    ['a bad parent name', { name: 'load', after: ['ok', 'No!'], task: TASK }, 'after[1]', /not a valid name/],
    ['a parent listed twice', { name: 'load', after: ['a', 'a'], task: TASK }, 'after[1]', /twice/],
    ['after not a list', { name: 'load', after: 'a', task: TASK }, 'after', /list/],
  ];
  it.each(bad)('refuses %s, naming the field', (_what, doc, field, message) => {
    const err = errorOf(doc);
    expect(err.field).toBe(field);
    expect(err.message).toMatch(message);
  });
});
