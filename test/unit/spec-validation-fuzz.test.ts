// Every malformed workload spec is an INVALID_ARGUMENT naming its field — never a TypeError that
// the Jobs API would answer with INTERNAL / 500. Seeded: each run tries the same documents, built
// from a valid spec with two fields replaced by garbage (types, nulls, numbers at the edges,
// unicode, null-prototype objects, `__proto__` keys). A constraint `["!", {__proto__: null}]` was
// such a TypeError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AgoraError } from '../../core/errors.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { validateCronJobSpec } from '../../frameworks/cron/spec.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';
import { parseConstraints } from '../../sdk/constraint-spec.js';

type Doc = Record<string, unknown>;

const edges = fc.constantFrom<unknown>(1e308, -1e308, Number.NaN, Infinity, -Infinity, -0, -1, 2 ** 31, 2 ** 53 + 1, 86_401, 2_592_000, '💥', '\u0000', 'NaN', '1e309', '', ' ', '-1');
const leaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.constant(Object.create(null) as unknown),
  fc.constant(JSON.parse('{"__proto__": {"x": 1}, "toString": 5}') as unknown),
  edges,
);
const keys = fc.constantFrom('a', '__proto__', 'toString', 'kind', 'name', 'cpus', 'mem', 'type', 'http', 'port', 'value', 'field', 'operator', 'image', 'key', 'seconds');
const garbage = fc.letrec((tie) => ({
  v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(keys, tie('v'), { maxKeys: 3 })),
})).v;

const TASK = { command: 'c', resources: { cpus: 1, mem: 1 } };

/** `fn` on `base` with two fields replaced: it either passes or throws AGORA_INVALID_ARGUMENT. */
function holds(fn: (doc: Doc) => unknown, fields: readonly string[], base: Doc, seed: number): void {
  const field = fc.constantFrom(...fields);
  fc.assert(
    fc.property(field, garbage, field, garbage, (k1, v1, k2, v2) => {
      try {
        fn({ ...base, [k1]: v1, [k2]: v2 });
      } catch (err) {
        expect(err).toBeInstanceOf(AgoraError);
        expect((err as AgoraError).code).toBe('AGORA_INVALID_ARGUMENT');
        expect((err as AgoraError).field).toBeTypeOf('string');
      }
    }),
    { seed, numRuns: 1500 },
  );
}

describe('malformed specs are INVALID_ARGUMENT (seeded)', () => {
  it('services', () => {
    const fields = ['kind', 'name', 'instances', 'command', 'args', 'container', 'resources', 'ports', 'env', 'labels', 'healthCheck', 'readinessCheck', 'constraints', 'role', 'killGracePeriodSeconds', 'backoff', 'upgradeStrategy', 'canary', 'fetch', 'user', 'unreachableStrategy'];
    holds(parseServiceSpec as (d: Doc) => unknown, fields, { name: 'x', ...TASK }, 1);
  });

  it('cron jobs and their task template', () => {
    const fields = ['kind', 'name', 'schedule', 'timeZone', 'concurrencyPolicy', 'startingDeadlineSeconds', 'retries', 'backoff', 'activeDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit', 'suspend', 'after', 'task', 'labels'];
    holds(validateCronJobSpec, fields, { name: 'x', schedule: '@daily', task: TASK }, 2);
    const taskFields = ['command', 'args', 'container', 'resources', 'ports', 'env', 'labels', 'constraints', 'role', 'killGracePeriodSeconds', 'fetch', 'user', 'healthCheck'];
    holds((task) => validateCronJobSpec({ name: 'x', schedule: '@daily', task }), taskFields, TASK, 3);
  });

  it('jobs and their task template', () => {
    const fields = ['kind', 'name', 'completions', 'parallelism', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished', 'completionMode', 'gang', 'priority', 'suspend', 'labels', 'task'];
    holds(validateJobSpec, fields, { name: 'x', task: TASK }, 4);
    const taskFields = ['command', 'args', 'container', 'resources', 'env', 'labels', 'constraints', 'role', 'killGracePeriodSeconds', 'user'];
    holds((task) => validateJobSpec({ name: 'x', task }), taskFields, TASK, 5);
  });

  it('constraints in every form', () => {
    fc.assert(
      fc.property(fc.array(garbage, { maxLength: 3 }), (list) => {
        try {
          parseConstraints(list);
        } catch (err) {
          expect((err as AgoraError).code).toBe('AGORA_INVALID_ARGUMENT');
        }
      }),
      { seed: 6, numRuns: 3000 },
    );
  });

  it('durations past their bounds are refused, naming the field', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => parseServiceSpec({ name: 'x', ...TASK, killGracePeriodSeconds: 2_592_000 }), 'killGracePeriodSeconds'],
      [() => parseServiceSpec({ name: 'x', ...TASK, backoff: { maxLaunchDelaySeconds: 1e308 } }), 'backoff.maxLaunchDelaySeconds'],
      [() => parseServiceSpec({ name: 'x', ...TASK, backoff: { factor: 1e6 } }), 'backoff.factor'],
      [() => parseServiceSpec({ name: 'x', ...TASK, unreachableStrategy: { inactiveAfterSeconds: 1e308 } }), 'unreachableStrategy.inactiveAfterSeconds'],
      [() => parseServiceSpec({ name: 'x', ...TASK, unreachableStrategy: { expungeAfterSeconds: Infinity } }), 'unreachableStrategy.expungeAfterSeconds'],
      [() => parseServiceSpec({ name: 'x', ...TASK, role: 'r'.repeat(100_000) }), 'role'],
      [() => parseServiceSpec({ name: 'x', ...TASK, ports: [{ name: 'p' }], healthCheck: { tcp: { port: 'p' }, intervalSeconds: 172_800 } }), 'healthCheck.intervalSeconds'],
      [() => validateCronJobSpec({ name: 'x', schedule: '@daily', task: TASK, activeDeadlineSeconds: 1e308 }), 'activeDeadlineSeconds'],
      [() => validateCronJobSpec({ name: 'x', schedule: '@daily', task: TASK, startingDeadlineSeconds: -1 }), 'startingDeadlineSeconds'],
      [() => validateCronJobSpec({ name: 'x', schedule: '@daily', task: { ...TASK, killGracePeriodSeconds: 2_592_000 } }), 'task.killGracePeriodSeconds'],
      [() => validateJobSpec({ name: 'x', task: { ...TASK, killGracePeriodSeconds: 2_592_000 } }), 'task.killGracePeriodSeconds'],
      [() => validateJobSpec({ name: 'x', task: TASK, activeDeadlineSeconds: 400 * 24 * 3600 }), 'activeDeadlineSeconds'],
      [() => validateJobSpec({ name: 'x', task: TASK, ttlSecondsAfterFinished: 1e308 }), 'ttlSecondsAfterFinished'],
      [() => validateJobSpec({ name: 'x', task: { ...TASK, role: 'r'.repeat(256) } }), 'task.role'],
    ];
    for (const [call, field] of cases) {
      let err: unknown;
      try {
        call();
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(AgoraError);
      expect((err as AgoraError).field, field).toBe(field);
    }
  });
});
