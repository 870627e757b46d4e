// A cron job spec (kind: CronJob, camelCase as workload.proto's CronJobSpec), validated into a
// frozen domain object with defaults filled in. Every error names the field path at fault. The
// task template is common/task-template.ts (the fields and rules of every kind) under `task.`.
import { InvalidArgumentError } from '../../core/errors.js';
import { validateName } from '../../core/ids.js';
import { MAX_BACKOFF_SECONDS, MAX_LIFETIME_SECONDS } from '../../core/limits.js';
import {
  boolAt, compact, deepFreeze, describe, enumAt, join, listAt, MAX_BACKOFF_FACTOR, numberAt, objectAt, onlyKeys, stringAt, stringMapAt, type Doc,
} from '../common/spec-fields.js';
import { parseTaskTemplate, TEMPLATE_KEYS, type TaskTemplateDoc } from '../common/task-template.js';
import { CronSchedule, validateTimeZone } from './schedule.js';

export type ConcurrencyPolicy = 'ALLOW' | 'FORBID' | 'REPLACE';

/** What one run's task runs: workload.proto's TaskTemplate, normalized (no readinessCheck). */
export type TaskTemplate = Omit<TaskTemplateDoc, 'readinessCheck'>;

export interface RetryBackoff {
  readonly seconds: number;
  readonly factor: number;
  readonly maxLaunchDelaySeconds: number;
}

export interface CronJobSpec {
  readonly name: string;
  /** '' for a dependency-driven job (then `after` is not empty). */
  readonly schedule: string;
  readonly timeZone: string;
  readonly concurrencyPolicy: ConcurrencyPolicy;
  readonly startingDeadlineSeconds?: number;
  readonly retries: number;
  readonly backoff: RetryBackoff;
  readonly activeDeadlineSeconds?: number;
  readonly successfulJobsHistoryLimit: number;
  readonly failedJobsHistoryLimit: number;
  readonly suspend: boolean;
  readonly after: readonly string[];
  readonly task: TaskTemplate;
  readonly labels: Readonly<Record<string, string>>;
}

/** Kubernetes' defaults for CronJob and Job (backoff: 10 s doubling, up to 6 min). */
export const CRON_DEFAULTS = Object.freeze({
  timeZone: 'UTC',
  concurrencyPolicy: 'ALLOW' as ConcurrencyPolicy,
  retries: 0,
  backoff: Object.freeze({ seconds: 10, factor: 2, maxLaunchDelaySeconds: 360 }),
  successfulJobsHistoryLimit: 3,
  failedJobsHistoryLimit: 1,
  suspend: false,
});

const SPEC_KEYS = [
  'kind', 'name', 'schedule', 'timeZone', 'concurrencyPolicy', 'startingDeadlineSeconds', 'retries', 'backoff', 'activeDeadlineSeconds',
  'successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'suspend', 'after', 'task', 'labels',
];

/** Validate a parsed CronJob document into a frozen spec; throws InvalidArgumentError naming the field. */
export function validateCronJobSpec(input: Record<string, unknown>): CronJobSpec {
  const doc = objectAt(input, '');
  if (doc === undefined) throw new InvalidArgumentError('spec', 'a cron job spec is required');
  onlyKeys(doc, SPEC_KEYS, '');
  if (doc['kind'] !== undefined && !(typeof doc['kind'] === 'string' && /^cronjob$/i.test(doc['kind']))) throw new InvalidArgumentError('kind', `must be CronJob, got ${describe(doc['kind'])}`);
  const name = validateName(doc['name'], 'name');
  const timeZone = validateTimeZone(stringAt(doc['timeZone'], 'timeZone') ?? '');
  const after = parseAfter(doc['after'], name);
  const schedule = parseSchedule(doc['schedule'], timeZone, after);
  return deepFreeze(compact({
    name,
    schedule,
    timeZone,
    concurrencyPolicy: enumAt(doc['concurrencyPolicy'], 'concurrencyPolicy', ['ALLOW', 'FORBID', 'REPLACE'] as const, '', ['Allow', 'Forbid', 'Replace']) ?? CRON_DEFAULTS.concurrencyPolicy,
    startingDeadlineSeconds: numberAt(doc['startingDeadlineSeconds'], 'startingDeadlineSeconds', { min: 0, max: MAX_LIFETIME_SECONDS }),
    retries: numberAt(doc['retries'], 'retries', { min: 0, integer: true, max: 1000 }) ?? CRON_DEFAULTS.retries,
    backoff: parseBackoff(doc['backoff']),
    activeDeadlineSeconds: numberAt(doc['activeDeadlineSeconds'], 'activeDeadlineSeconds', { min: 0, exclusive: true, max: MAX_LIFETIME_SECONDS }),
    successfulJobsHistoryLimit: limitAt(doc, 'successfulJobsHistoryLimit') ?? CRON_DEFAULTS.successfulJobsHistoryLimit,
    failedJobsHistoryLimit: limitAt(doc, 'failedJobsHistoryLimit') ?? CRON_DEFAULTS.failedJobsHistoryLimit,
    suspend: boolAt(doc['suspend'], 'suspend') ?? CRON_DEFAULTS.suspend,
    after,
    task: parseTask(doc['task']),
    labels: stringMapAt(doc['labels'], 'labels'),
  }));
}

/** The spec's schedule compiled (undefined for a dependency-driven job). */
export function scheduleOf(spec: CronJobSpec): CronSchedule | undefined {
  return spec.schedule === '' ? undefined : CronSchedule.parse(spec.schedule, spec.timeZone);
}

function parseSchedule(value: unknown, timeZone: string, after: readonly string[]): string {
  const text = stringAt(value, 'schedule');
  if (after.length > 0) {
    if (text !== undefined) throw new InvalidArgumentError('schedule', 'must be empty when after is given: a dependent job runs when its parents succeed, not on a schedule');
    return '';
  }
  if (text === undefined) throw new InvalidArgumentError('schedule', "is required, e.g. '*/5 * * * *' or @daily (or give after: [parents])");
  return CronSchedule.parse(text, timeZone).pattern;
}

function parseAfter(value: unknown, self: string): string[] {
  const names = listAt(value, 'after').map((v, i) => validateName(v, join('after', i)));
  names.forEach((n, i) => {
    if (n === self) throw new InvalidArgumentError(join('after', i), `a cron job cannot depend on itself ('${n}')`);
    if (names.indexOf(n) !== i) throw new InvalidArgumentError(join('after', i), `'${n}' is listed twice`);
  });
  return [...names].sort();
}

function limitAt(doc: Doc, key: string): number | undefined {
  return numberAt(doc[key], key, { min: 0, integer: true, max: 1000 });
}

function parseBackoff(value: unknown): RetryBackoff {
  const doc = objectAt(value, 'backoff') ?? {};
  onlyKeys(doc, ['seconds', 'factor', 'maxLaunchDelaySeconds'], 'backoff');
  const d = CRON_DEFAULTS.backoff;
  return {
    seconds: numberAt(doc['seconds'], 'backoff.seconds', { min: 0, max: MAX_BACKOFF_SECONDS }) ?? d.seconds,
    factor: numberAt(doc['factor'], 'backoff.factor', { min: 1, max: MAX_BACKOFF_FACTOR }) ?? d.factor,
    maxLaunchDelaySeconds: numberAt(doc['maxLaunchDelaySeconds'], 'backoff.maxLaunchDelaySeconds', { min: 0, max: MAX_BACKOFF_SECONDS }) ?? d.maxLaunchDelaySeconds,
  };
}

function parseTask(value: unknown): TaskTemplate {
  const doc = objectAt(value, 'task');
  if (doc === undefined) throw new InvalidArgumentError('task', 'is required: { command or container.image, resources: { cpus, mem } }');
  onlyKeys(doc, TEMPLATE_KEYS, 'task');
  return parseTaskTemplate(doc, 'task', { readiness: false });
}
