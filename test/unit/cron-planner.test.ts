// The cron planner on plain data and a FakeClock: due times, deadlines and catch-up, concurrency
// policies, suspend, retries, active deadlines, history, dependencies, deterministic ids.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import { dependentRunId, initialState, plan, runId, type CronRun, type CronState, type ParentOutcome, type PlanInput } from '../../frameworks/cron/planner.js';
import { scheduleOf, validateCronJobSpec } from '../../frameworks/cron/spec.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const TASK = { command: 'true', resources: { cpus: 0.1, mem: 16 } };

function input(doc: Record<string, unknown>, state: CronState, now: number, parents?: PlanInput['parents']): PlanInput {
  const spec = validateCronJobSpec({ name: 'job', schedule: '*/5 * * * *', task: TASK, ...doc });
  return { spec, schedule: scheduleOf(spec), state, now, ...(parents ? { parents } : {}) };
}

function run(minute: number, state: CronRun['state'], extra: Partial<CronRun> = {}): CronRun {
  const t = T0 + minute * MIN;
  return { id: runId('job', t), scheduledTime: t, state, attempts: 1, startedAt: t, ...extra };
}

/** Apply a plan the way the scheduler will: persist the new runs and lastScheduleTime. */
function apply(state: CronState, p: ReturnType<typeof plan>, now: number): CronState {
  const started = p.start.map((s): CronRun => ({ id: s.runId, scheduledTime: s.scheduledTime, state: 'pending', attempts: 1, startedAt: now }));
  const deleted = new Set(p.delete.map((d) => d.runId));
  return { lastScheduleTime: p.lastScheduleTime, runs: [...state.runs.filter((r) => !deleted.has(r.id)), ...started] };
}

describe('scheduled times', () => {
  it('starts each scheduled time once, with a deterministic id, and wakes for the next', () => {
    const clock = new FakeClock(T0);
    let state = initialState(clock.now());
    let p = plan(input({}, state, clock.now()));
    expect(p.start).toEqual([]);
    expect(p.wakeAt).toBe(T0 + 5 * MIN);
    clock.setTime(p.wakeAt!);
    p = plan(input({}, state, clock.now()));
    expect(p.start).toEqual([{ runId: 'job-1767225900', scheduledTime: T0 + 5 * MIN, trigger: 'schedule' }]);
    expect(p.lastScheduleTime).toBe(T0 + 5 * MIN);
    expect(p.wakeAt).toBe(T0 + 10 * MIN);
    expect(plan(input({}, state, clock.now()))).toEqual(p); // the same input, the same decisions
    state = apply(state, p, clock.now());
    expect(plan(input({}, state, clock.now())).start).toEqual([]); // persisted: not again
  });

  it('a restarted planner given a planned-but-not-launched run does not plan it twice', () => {
    // The run record was persisted, lastScheduleTime was not (e.g. an older writer): the record wins.
    const state: CronState = { lastScheduleTime: T0, runs: [run(5, 'pending')] };
    const p = plan(input({}, state, T0 + 6 * MIN));
    expect(p.start).toEqual([]);
    expect(p.lastScheduleTime).toBe(T0 + 5 * MIN);
  });

  it('after an outage without a deadline, only the latest missed time runs; the rest are skipped', () => {
    const p = plan(input({}, initialState(T0), T0 + 60 * MIN + 30_000));
    expect(p.start.map((s) => s.scheduledTime)).toEqual([T0 + 60 * MIN]);
    expect(p.skip).toEqual([expect.objectContaining({ reason: 'superseded', count: 11, first: T0 + 5 * MIN, last: T0 + 55 * MIN })]);
  });

  it('a missed time within startingDeadlineSeconds starts; earlier ones beyond it are skipped', () => {
    const p = plan(input({ startingDeadlineSeconds: 120 }, initialState(T0), T0 + 11 * MIN));
    expect(p.start.map((s) => s.scheduledTime)).toEqual([T0 + 10 * MIN]);
    expect(p.skip).toEqual([expect.objectContaining({ reason: 'deadline', count: 1, first: T0 + 5 * MIN })]);
  });

  it('a missed time beyond startingDeadlineSeconds is skipped with a reason, and not reconsidered', () => {
    const p = plan(input({ startingDeadlineSeconds: 30 }, initialState(T0), T0 + 11 * MIN));
    expect(p.start).toEqual([]);
    expect(p.skip).toEqual([expect.objectContaining({ reason: 'deadline', count: 2, first: T0 + 5 * MIN, last: T0 + 10 * MIN })]);
    expect(p.skip[0]!.message).toMatch(/startingDeadlineSeconds \(30 s\)/);
    expect(p.lastScheduleTime).toBe(T0 + 10 * MIN);
    expect(p.wakeAt).toBe(T0 + 15 * MIN);
  });

  it('a year-long outage of an every-second job neither floods nor walks every second', () => {
    const now = T0 + 365 * 24 * 60 * MIN;
    const p = plan(input({ schedule: '* * * * * *', startingDeadlineSeconds: 10 }, initialState(T0), now));
    expect(p.start.map((s) => s.scheduledTime)).toEqual([now]);
    expect(p.skip.find((s) => s.reason === 'deadline')).toMatchObject({ truncated: true, count: 100 });
  });
});

describe('concurrency', () => {
  const longRunning: CronState = { lastScheduleTime: T0 + 5 * MIN, runs: [run(5, 'running')] };

  it('Allow starts the new run alongside the active one', () => {
    const p = plan(input({}, longRunning, T0 + 10 * MIN));
    expect(p.start).toHaveLength(1);
    expect(p.kill).toEqual([]);
  });

  it('Forbid skips (and counts) the time while a run is active', () => {
    const p = plan(input({ concurrencyPolicy: 'Forbid' }, longRunning, T0 + 10 * MIN));
    expect(p.start).toEqual([]);
    expect(p.skip).toEqual([expect.objectContaining({ reason: 'forbid', count: 1, first: T0 + 10 * MIN })]);
    expect(p.lastScheduleTime).toBe(T0 + 10 * MIN);
    // Once it has finished, the next time runs.
    const later = { lastScheduleTime: p.lastScheduleTime, runs: [run(5, 'succeeded', { finishedAt: T0 + 12 * MIN })] };
    expect(plan(input({ concurrencyPolicy: 'Forbid' }, later, T0 + 15 * MIN)).start).toHaveLength(1);
  });

  it('Replace kills the active run and starts the new one', () => {
    const p = plan(input({ concurrencyPolicy: 'Replace' }, longRunning, T0 + 10 * MIN));
    expect(p.kill).toEqual([expect.objectContaining({ runId: runId('job', T0 + 5 * MIN), reason: 'replace' })]);
    expect(p.start.map((s) => s.runId)).toEqual([runId('job', T0 + 10 * MIN)]);
  });
});

describe('suspend', () => {
  it('starts nothing while suspended; on resume only a time within the deadline runs', () => {
    const state = initialState(T0);
    const suspended = plan(input({ suspend: true, startingDeadlineSeconds: 120 }, state, T0 + 30 * MIN));
    expect(suspended).toMatchObject({ start: [], skip: [], lastScheduleTime: T0, wakeAt: undefined });
    const resumedLate = plan(input({ startingDeadlineSeconds: 120 }, state, T0 + 33 * MIN));
    expect(resumedLate.start).toEqual([]);
    expect(resumedLate.skip[0]).toMatchObject({ reason: 'deadline', count: 6 });
    const resumedInTime = plan(input({ startingDeadlineSeconds: 120 }, state, T0 + 31 * MIN));
    expect(resumedInTime.start.map((s) => s.scheduledTime)).toEqual([T0 + 30 * MIN]);
  });

  it('without a deadline, resuming runs the most recent missed time once', () => {
    const p = plan(input({}, initialState(T0), T0 + 33 * MIN));
    expect(p.start.map((s) => s.scheduledTime)).toEqual([T0 + 30 * MIN]);
  });
});

describe('retries and deadlines', () => {
  const spec = { retries: 2, backoff: { seconds: 10, factor: 3, maxLaunchDelaySeconds: 60 } };

  it('retries a failed run with backoff, up to retries times', () => {
    const failed = (attempts: number, finishedAt: number): CronState => ({ lastScheduleTime: T0 + 5 * MIN, runs: [run(5, 'failed', { attempts, finishedAt })] });
    const f1 = T0 + 6 * MIN;
    expect(plan(input(spec, failed(1, f1), f1 + 5_000))).toMatchObject({ retry: [], wakeAt: f1 + 10_000 });
    expect(plan(input(spec, failed(1, f1), f1 + 10_000)).retry).toEqual([{ runId: runId('job', T0 + 5 * MIN), attempt: 2, at: f1 + 10_000 }]);
    expect(plan(input(spec, failed(2, f1), f1 + 29_000)).retry).toEqual([]);
    expect(plan(input(spec, failed(2, f1), f1 + 30_000)).retry).toEqual([expect.objectContaining({ attempt: 3 })]);
    const exhausted = plan(input(spec, failed(3, f1), f1 + 10 * MIN));
    expect(exhausted.retry).toEqual([]);
  });

  it('kills a run active longer than activeDeadlineSeconds, and does not retry past it', () => {
    const active: CronState = { lastScheduleTime: T0 + 5 * MIN, runs: [run(5, 'running')] };
    const before = plan(input({ ...spec, activeDeadlineSeconds: 90 }, active, T0 + 6 * MIN));
    expect(before.kill).toEqual([]);
    expect(before.wakeAt).toBe(T0 + 5 * MIN + 90_000);
    const p = plan(input({ ...spec, activeDeadlineSeconds: 90 }, active, T0 + 5 * MIN + 90_000));
    expect(p.kill).toEqual([expect.objectContaining({ reason: 'active-deadline' })]);
    const late: CronState = { lastScheduleTime: T0 + 5 * MIN, runs: [run(5, 'failed', { finishedAt: T0 + 5 * MIN + 85_000 })] };
    expect(plan(input({ ...spec, activeDeadlineSeconds: 90 }, late, T0 + 7 * MIN)).retry).toEqual([]);
  });
});

describe('history', () => {
  it('deletes finished runs beyond the limits, never active ones', () => {
    const runs = [run(5, 'succeeded'), run(10, 'succeeded'), run(15, 'failed'), run(20, 'failed'), run(25, 'succeeded'), run(30, 'running')];
    const p = plan(input({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }, { lastScheduleTime: T0 + 30 * MIN, runs }, T0 + 31 * MIN));
    expect(p.delete.map((d) => d.runId)).toEqual([run(5, 'succeeded').id, run(10, 'succeeded').id, run(15, 'failed').id]);
  });
});

describe('dependencies', () => {
  const doc = { schedule: undefined, after: ['a', 'b'] };
  const ok = (id: string, finishedAt: number): ParentOutcome => ({ runId: id, state: 'succeeded', finishedAt });

  it('runs once when all parents succeeded, after the latest of them finished', () => {
    const parents = { a: ok('a-1', T0 + MIN), b: ok('b-1', T0 + 2 * MIN) };
    const p = plan(input(doc, initialState(T0), T0 + 3 * MIN, parents));
    expect(p.start).toEqual([{ runId: dependentRunId('job', ['a-1', 'b-1']), scheduledTime: T0 + 2 * MIN, trigger: 'after', parents: ['a-1', 'b-1'] }]);
    expect(p.wakeAt).toBeUndefined();
    const state = apply(initialState(T0), p, T0 + 3 * MIN);
    expect(plan(input(doc, state, T0 + 4 * MIN, parents)).start).toEqual([]);
  });

  it('does not run when a parent failed or has not run', () => {
    expect(plan(input(doc, initialState(T0), T0 + 3 * MIN, { a: ok('a-1', T0 + MIN), b: { runId: 'b-1', state: 'failed', finishedAt: T0 + MIN } })).start).toEqual([]);
    expect(plan(input(doc, initialState(T0), T0 + 3 * MIN, { a: ok('a-1', T0 + MIN) })).start).toEqual([]);
  });

  it('runs again once every parent has run again', () => {
    let state = apply(initialState(T0), plan(input(doc, initialState(T0), T0 + 3 * MIN, { a: ok('a-1', T0 + MIN), b: ok('b-1', T0 + 2 * MIN) })), T0 + 3 * MIN);
    expect(plan(input(doc, state, T0 + 10 * MIN, { a: ok('a-2', T0 + 9 * MIN), b: ok('b-1', T0 + 2 * MIN) })).start).toEqual([]);
    const p = plan(input(doc, state, T0 + 12 * MIN, { a: ok('a-2', T0 + 9 * MIN), b: ok('b-2', T0 + 11 * MIN) }));
    expect(p.start.map((s) => s.runId)).toEqual([dependentRunId('job', ['a-2', 'b-2'])]);
    state = apply(state, p, T0 + 12 * MIN);
    expect(state.runs).toHaveLength(2);
  });

  it('dependent run ids do not depend on the order of the parents', () => {
    expect(dependentRunId('job', ['b-1', 'a-1'])).toBe(dependentRunId('job', ['a-1', 'b-1']));
    expect(dependentRunId('job', ['a-2', 'b-1'])).not.toBe(dependentRunId('job', ['a-1', 'b-1']));
  });
});

describe('DST on a fake clock (real time zones)', () => {
  /** Wake the planner at each wakeAt from `from` to `to`, persisting its plans; the starts, as ISO times. */
  function simulate(doc: Record<string, unknown>, from: string, to: string): string[] {
    const clock = new FakeClock(Date.parse(from));
    let state = initialState(clock.now());
    const started: string[] = [];
    for (;;) {
      const p = plan(input(doc, state, clock.now()));
      started.push(...p.start.map((s) => new Date(s.scheduledTime).toISOString()));
      expect(p.skip).toEqual([]); // woken on time: nothing missed
      state = apply(state, p, clock.now());
      state = { ...state, runs: state.runs.map((r) => ({ ...r, state: 'succeeded', finishedAt: clock.now() })) };
      if (p.wakeAt === undefined || p.wakeAt > Date.parse(to)) return started;
      expect(p.wakeAt).toBeGreaterThan(clock.now());
      clock.setTime(p.wakeAt);
    }
  }

  it('America/New_York spring forward: 02:30 daily runs once that day, at 03:00 EDT', () => {
    expect(simulate({ schedule: '30 2 * * *', timeZone: 'America/New_York' }, '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-08T07:00:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('America/New_York fall back: 01:30 daily runs once, and an hourly job does not run the repeated hour twice', () => {
    expect(simulate({ schedule: '30 1 * * *', timeZone: 'America/New_York' }, '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    const hourly = simulate({ schedule: '0 * * * *', timeZone: 'America/New_York' }, '2026-11-01T04:30:00Z', '2026-11-01T08:30:00Z');
    // 01:00 EDT (05:00Z) runs; 01:00 EST (06:00Z) is the same wall time and does not; 02:00 EST (07:00Z) does.
    expect(hourly).toEqual(['2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z']);
  });

  it('Europe/Berlin spring forward: every 30 minutes across the gap, one run at 03:00 CEST', () => {
    expect(simulate({ schedule: '*/30 * * * *', timeZone: 'Europe/Berlin' }, '2026-03-29T00:15:00Z', '2026-03-29T01:45:00Z')).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 02:00 and 02:30 do not exist, and 03:00 CEST: one run
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
    ]);
  });

  it('a fall-back day missed within startingDeadlineSeconds still runs its time once', () => {
    const doc = { schedule: '30 1 * * *', timeZone: 'America/New_York', startingDeadlineSeconds: 7200 };
    // Down from before 01:30 EDT until 01:10 EST (06:10Z): 01:30 EDT (05:30Z) was 40 minutes ago.
    const p = plan(input(doc, initialState(Date.parse('2026-11-01T05:00:00Z')), Date.parse('2026-11-01T06:10:00Z')));
    expect(p.start.map((s) => new Date(s.scheduledTime).toISOString())).toEqual(['2026-11-01T05:30:00.000Z']);
    expect(p.wakeAt).toBe(Date.parse('2026-11-02T06:30:00Z'));
  });
});
