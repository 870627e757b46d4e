import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../core/clock.js';
import type { TaskState } from '../../core/task-state.js';
import { planJob, retryDelayMs, type JobPlan, type JobState, type JobTaskRecord } from '../../frameworks/batch/planner.js';
import { validateJobSpec, type JobSpecDoc } from '../../frameworks/batch/spec.js';

function job(patch: Record<string, unknown> = {}): JobSpecDoc {
  return validateJobSpec({ name: 'crunch', task: { command: './work.sh', resources: { cpus: 1, mem: 128 } }, ...patch });
}

/** Plays the scheduler: plans, launches what the plan says (RUNNING at once), kills, persists. */
class Sim {
  readonly clock = new FakeClock();
  tasks: JobTaskRecord[] = [];
  state: Omit<JobState, 'tasks'> = { submittedAtMs: this.clock.now() };
  maxActive = 0;
  #seq = 0;

  constructor(public spec: JobSpecDoc) {}

  step(): JobPlan {
    const plan = planJob(this.spec, { ...this.state, tasks: this.tasks }, this.clock.now());
    for (const l of plan.launch) {
      this.tasks.push({ taskId: `t${++this.#seq}`, attempt: l.attempt, state: 'TASK_RUNNING', launchedAtMs: this.clock.now(), ...(l.index === undefined ? {} : { index: l.index }) });
    }
    for (const id of plan.kill) this.end(id, 'TASK_KILLED', true);
    this.state = {
      submittedAtMs: this.state.submittedAtMs,
      ...(plan.startedAtMs === undefined ? {} : { startedAtMs: plan.startedAtMs }),
      ...(plan.finishedAtMs === undefined ? {} : { finishedAtMs: plan.finishedAtMs, phase: plan.phase }),
      ...(plan.reason === undefined ? {} : { reason: plan.reason }),
    };
    this.maxActive = Math.max(this.maxActive, this.active().length);
    return plan;
  }

  active(): JobTaskRecord[] {
    return this.tasks.filter((t) => t.state === 'TASK_RUNNING');
  }

  end(taskId: string, state: TaskState, killRequested = false): void {
    this.tasks = this.tasks.map((t) => (t.taskId === taskId ? { ...t, state, finishedAtMs: this.clock.now(), ...(killRequested ? { killRequested } : {}) } : t));
  }

  /** End the running task of `index` (or the oldest running one). */
  finish(state: TaskState, index?: number): void {
    const t = this.active().find((x) => index === undefined || x.index === index);
    if (t === undefined) throw new Error(`nothing runs for index ${index}`);
    this.end(t.taskId, state);
  }
}

describe('retry backoff', () => {
  it('is Kubernetes: 10 s doubling to 6 min', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryDelayMs(n))).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000]);
  });

  it('takes the framework\'s backoff option', () => {
    const backoff = { initialMs: 100, maxMs: 300 };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n, backoff))).toEqual([100, 200, 300, 300]);
    const spec = job();
    const failed: JobTaskRecord = { taskId: 't1', attempt: 0, state: 'TASK_FAILED', launchedAtMs: 0, finishedAtMs: 1000 };
    expect(planJob(spec, { submittedAtMs: 0, tasks: [failed] }, 1000, { backoff })).toMatchObject({ backoffUntilMs: 1100, launch: [] });
    expect(planJob(spec, { submittedAtMs: 0, tasks: [failed] }, 1100, { backoff }).launch).toEqual([{ attempt: 1, env: {} }]);
  });
});

describe('a task taken for lost that finished after all', () => {
  it('Indexed: the replacement of an index that succeeded is killed; the job succeeds once', () => {
    const spec = job({ completions: 2, parallelism: 2, completionMode: 'Indexed' });
    const tasks: JobTaskRecord[] = [
      { taskId: 'i0a0', index: 0, attempt: 0, state: 'TASK_FINISHED', launchedAtMs: 0, finishedAtMs: 900 }, // LOST, then the agent's FINISHED
      { taskId: 'i0a1', index: 0, attempt: 1, state: 'TASK_RUNNING', launchedAtMs: 500 }, // its replacement
      { taskId: 'i1a0', index: 1, attempt: 0, state: 'TASK_RUNNING', launchedAtMs: 0 },
    ];
    const plan = planJob(spec, { submittedAtMs: 0, tasks }, 1000);
    expect(plan).toMatchObject({ phase: 'JOB_RUNNING', succeeded: 1, failed: 0, launch: [], kill: ['i0a1'], completedIndexes: [0] });
  });

  it('NonIndexed: more running than completions left: the newest goes', () => {
    const spec = job({ completions: 2, parallelism: 2 });
    const tasks: JobTaskRecord[] = [
      { taskId: 'a', attempt: 0, state: 'TASK_FINISHED', launchedAtMs: 0, finishedAtMs: 900 },
      { taskId: 'b', attempt: 0, state: 'TASK_RUNNING', launchedAtMs: 0 },
      { taskId: 'c', attempt: 0, state: 'TASK_RUNNING', launchedAtMs: 500 },
    ];
    expect(planJob(spec, { submittedAtMs: 0, tasks }, 1000)).toMatchObject({ succeeded: 1, launch: [], kill: ['c'] });
    // Nothing extra: nothing killed.
    expect(planJob(spec, { submittedAtMs: 0, tasks: tasks.slice(0, 2) }, 1000).kill).toEqual([]);
  });
});

describe('a task whose agent stopped answering (partition-aware)', () => {
  const spec = job({ completions: 2, parallelism: 2, completionMode: 'Indexed' });
  const unreachable: JobTaskRecord = { taskId: 'i0a0', index: 0, attempt: 0, state: 'TASK_UNREACHABLE', launchedAtMs: 0, unreachableSinceMs: 1000 };
  const other: JobTaskRecord = { taskId: 'i1a0', index: 1, attempt: 0, state: 'TASK_RUNNING', launchedAtMs: 0 };

  it('keeps its index while the agent may come back: nothing launched, nothing killed, a wake-up at the timeout', () => {
    const plan = planJob(spec, { submittedAtMs: 0, tasks: [unreachable, other] }, 1000 + 299_999);
    expect(plan).toMatchObject({ phase: 'JOB_RUNNING', active: 2, launch: [], kill: [], failed: 0, wakeAtMs: 1000 + 300_000 });
  });

  it('is given up after the timeout (5 min by default): killed, and its index launched again as the next attempt', () => {
    const plan = planJob(spec, { submittedAtMs: 0, tasks: [unreachable, other] }, 1000 + 300_000);
    expect(plan).toMatchObject({ active: 1, failed: 0, kill: ['i0a0'] });
    expect(plan.launch.map((l) => [l.index, l.attempt])).toEqual([[0, 1]]);
    // The timeout is an option.
    expect(planJob(spec, { submittedAtMs: 0, tasks: [unreachable, other] }, 1500, { unreachableTimeoutMs: 500 }).kill).toEqual(['i0a0']);
  });

  it('that comes back and finishes completes its index once', () => {
    const back: JobTaskRecord = { taskId: 'i0a0', index: 0, attempt: 0, state: 'TASK_FINISHED', launchedAtMs: 0, finishedAtMs: 5000 };
    const plan = planJob(spec, { submittedAtMs: 0, tasks: [back, other] }, 5000);
    expect(plan).toMatchObject({ completedIndexes: [0], launch: [], kill: [] });
  });
});

describe('voided tasks (never ran)', () => {
  it('are no failure, and their index is launched again as the next attempt', () => {
    const spec = job({ completions: 2, parallelism: 2, completionMode: 'Indexed', backoffLimit: 0 });
    const voided: JobTaskRecord = { taskId: 't1', index: 1, attempt: 0, state: 'TASK_GONE', launchedAtMs: 0, finishedAtMs: 10, voided: true };
    const running: JobTaskRecord = { taskId: 't0', index: 0, attempt: 0, state: 'TASK_RUNNING', launchedAtMs: 0 };
    const plan = planJob(spec, { submittedAtMs: 0, tasks: [running, voided] }, 20);
    expect(plan).toMatchObject({ phase: 'JOB_RUNNING', failed: 0, failedIndexes: [], launch: [{ index: 1, attempt: 1 }] });
    expect(plan.backoffUntilMs).toBeUndefined();
    // The same end without `voided` is a failure, and backoffLimit 0 fails the job.
    expect(planJob(spec, { submittedAtMs: 0, tasks: [running, { ...voided, voided: false }] }, 20)).toMatchObject({ phase: 'JOB_FAILED', reason: 'BackoffLimitExceeded' });
  });
});

describe('NonIndexed', () => {
  it('completions 5, parallelism 2: never more than 2 active, done after 5 successes', () => {
    const sim = new Sim(job({ completions: 5, parallelism: 2 }));
    expect(sim.step()).toMatchObject({ phase: 'JOB_PENDING', launch: [{ attempt: 0, env: {} }, { attempt: 0, env: {} }] });
    let plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_RUNNING', launch: [], active: 2 });
    for (let i = 0; i < 4; i++) {
      sim.clock.advance(1000);
      sim.finish('TASK_FINISHED');
      plan = sim.step();
      expect(plan.phase).toBe('JOB_RUNNING');
    }
    // 4 succeeded, 1 running: only one more is needed, so nothing else starts.
    expect(sim.active()).toHaveLength(1);
    expect(plan.succeeded).toBe(4);
    sim.finish('TASK_FINISHED');
    plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 5, launch: [], kill: [], message: '5 of 5 succeeded', delete: false });
    expect(plan.wakeAtMs).toBeUndefined();
    expect(sim.maxActive).toBe(2);
    expect(sim.tasks).toHaveLength(5);
  });

  it('retries a failure after the backoff, counting attempts', () => {
    const sim = new Sim(job({ completions: 1 }));
    sim.step();
    sim.clock.advance(5000);
    sim.finish('TASK_FAILED');
    let plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_PENDING', launch: [], failed: 1, backoffUntilMs: sim.clock.now() + 10_000, wakeAtMs: sim.clock.now() + 10_000 });
    expect(plan.message).toMatch(/retrying after 1 failure/);
    sim.clock.advance(9_999);
    expect(sim.step().launch).toEqual([]);
    sim.clock.advance(1);
    plan = sim.step();
    expect(plan.launch).toEqual([{ attempt: 1, env: {} }]);
    // Second failure: 20 s.
    sim.finish('TASK_FAILED');
    expect(sim.step().backoffUntilMs).toBe(sim.clock.now() + 20_000);
  });

  it('a kill the framework asked for is no failure; an unexpected kill is', () => {
    const sim = new Sim(job());
    sim.step();
    sim.end(sim.active()[0]!.taskId, 'TASK_KILLED', true);
    expect(sim.step()).toMatchObject({ failed: 0, launch: [{ attempt: 0 }] });
    sim.finish('TASK_KILLED');
    expect(sim.step()).toMatchObject({ failed: 1, launch: [] });
  });
});

describe('Indexed', () => {
  it('every index completes exactly once, retried indexes included; a duplicate success is ignored', () => {
    const sim = new Sim(job({ completions: 4, parallelism: 2, completionMode: 'Indexed' }));
    let plan = sim.step();
    expect(plan.launch).toEqual([
      { index: 0, attempt: 0, env: { AGORA_TASK_INDEX: '0', AGORA_JOB_INDEX: '0' } },
      { index: 1, attempt: 0, env: { AGORA_TASK_INDEX: '1', AGORA_JOB_INDEX: '1' } },
    ]);
    sim.finish('TASK_FINISHED', 0);
    sim.finish('TASK_FINISHED', 1);
    plan = sim.step();
    expect(plan.launch.map((l) => l.index)).toEqual([2, 3]);
    expect(plan.completedIndexes).toEqual([0, 1]);
    // Index 2 fails twice and succeeds the third time; index 3 succeeds meanwhile.
    sim.finish('TASK_FINISHED', 3);
    sim.finish('TASK_FAILED', 2);
    plan = sim.step();
    expect(plan).toMatchObject({ launch: [], failedIndexes: [2], backoffUntilMs: sim.clock.now() + 10_000 });
    sim.clock.advance(10_000);
    plan = sim.step();
    expect(plan.launch).toEqual([{ index: 2, attempt: 1, env: { AGORA_TASK_INDEX: '2', AGORA_JOB_INDEX: '2' } }]);
    sim.finish('TASK_FAILED', 2);
    // The last success (index 3) came before both failures: 2 consecutive → 20 s.
    expect(sim.step().backoffUntilMs).toBe(sim.clock.now() + 20_000);
    sim.clock.advance(20_000);
    expect(sim.step().launch).toEqual([{ index: 2, attempt: 2, env: { AGORA_TASK_INDEX: '2', AGORA_JOB_INDEX: '2' } }]);
    sim.finish('TASK_FINISHED', 2);
    plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_SUCCEEDED', succeeded: 4, failed: 2, completedIndexes: [0, 1, 2, 3], failedIndexes: [] });
    const successes = sim.tasks.filter((t) => t.state === 'TASK_FINISHED').map((t) => t.index);
    expect(successes.sort()).toEqual([0, 1, 2, 3]);
  });

  it('a late duplicate success of an index does not count twice', () => {
    const spec = job({ completions: 2, parallelism: 2, completionMode: 'Indexed' });
    const t = (taskId: string, index: number, state: TaskState): JobTaskRecord => ({ taskId, index, attempt: 0, state, launchedAtMs: 0, finishedAtMs: 1 });
    // Index 0 succeeded twice (a task thought lost came back), index 1 still runs.
    const plan = planJob(spec, { submittedAtMs: 0, startedAtMs: 0, tasks: [t('a', 0, 'TASK_FINISHED'), t('b', 0, 'TASK_FINISHED'), t('c', 1, 'TASK_RUNNING')] }, 10);
    expect(plan).toMatchObject({ phase: 'JOB_RUNNING', succeeded: 1, completedIndexes: [0], launch: [] });
  });
});

describe('failure', () => {
  it('backoffLimit exceeded → FAILED BackoffLimitExceeded and the active tasks are killed', () => {
    const sim = new Sim(job({ completions: 3, parallelism: 3, backoffLimit: 1 }));
    sim.step();
    sim.finish('TASK_FAILED');
    expect(sim.step().phase).toBe('JOB_RUNNING');
    sim.finish('TASK_ERROR');
    const running = sim.active().map((t) => t.taskId);
    expect(running).toHaveLength(1);
    const plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_FAILED', reason: 'BackoffLimitExceeded', kill: running, launch: [], failed: 2, finishedAtMs: sim.clock.now() });
    expect(plan.message).toBe('backoff limit 1 exceeded: 2 failed tasks');
    // Final: later plans keep the phase and launch nothing.
    sim.clock.advance(3_600_000);
    expect(sim.step()).toMatchObject({ phase: 'JOB_FAILED', reason: 'BackoffLimitExceeded', launch: [], kill: [], delete: false });
  });

  it('backoffLimit 0 fails on the first failure', () => {
    const sim = new Sim(job({ backoffLimit: 0 }));
    sim.step();
    sim.finish('TASK_LOST');
    expect(sim.step()).toMatchObject({ phase: 'JOB_FAILED', reason: 'BackoffLimitExceeded' });
  });

  it('activeDeadlineSeconds → FAILED DeadlineExceeded, active killed, wakes at the deadline', () => {
    const sim = new Sim(job({ completions: 2, parallelism: 2, activeDeadlineSeconds: 60 }));
    const start = sim.clock.now();
    expect(sim.step().wakeAtMs).toBe(start + 60_000);
    sim.clock.advance(59_999);
    expect(sim.step().phase).toBe('JOB_RUNNING');
    sim.clock.advance(1);
    const ids = sim.active().map((t) => t.taskId);
    const plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_FAILED', reason: 'DeadlineExceeded', kill: ids, message: 'deadline exceeded: still active after 60 s' });
    expect(sim.active()).toHaveLength(0);
    expect(sim.step().failed).toBe(0);
  });
});

describe('finished jobs', () => {
  it('ttlSecondsAfterFinished → delete once it has passed', () => {
    const sim = new Sim(job({ ttlSecondsAfterFinished: 100 }));
    sim.step();
    sim.finish('TASK_FINISHED');
    const done = sim.clock.now();
    expect(sim.step()).toMatchObject({ phase: 'JOB_SUCCEEDED', delete: false, wakeAtMs: done + 100_000 });
    sim.clock.advance(99_999);
    expect(sim.step().delete).toBe(false);
    sim.clock.advance(1);
    expect(sim.step()).toMatchObject({ phase: 'JOB_SUCCEEDED', delete: true });
  });

  it('ttl 0 deletes at once; no ttl keeps the job', () => {
    const zero = new Sim(job({ ttlSecondsAfterFinished: 0 }));
    zero.step();
    zero.finish('TASK_FINISHED');
    expect(zero.step().delete).toBe(true);
    const keep = new Sim(job());
    keep.step();
    keep.finish('TASK_FINISHED');
    keep.step();
    keep.clock.advance(365 * 86_400_000);
    expect(keep.step()).toMatchObject({ delete: false, phase: 'JOB_SUCCEEDED' });
  });
});

describe('suspend and gang', () => {
  it('suspend kills the active tasks and launches nothing; resuming starts again', () => {
    const sim = new Sim(job({ completions: 2, parallelism: 2 }));
    sim.step();
    sim.spec = job({ completions: 2, parallelism: 2, suspend: true });
    const plan = sim.step();
    expect(plan).toMatchObject({ phase: 'JOB_SUSPENDED', launch: [], message: 'suspended' });
    expect(plan.kill).toHaveLength(2);
    sim.spec = job({ completions: 2, parallelism: 2 });
    expect(sim.step()).toMatchObject({ failed: 0, launch: [{ attempt: 0 }, { attempt: 0 }] });
  });

  it('a gang launches whole waves, only when the previous wave is over', () => {
    const sim = new Sim(job({ completions: 6, parallelism: 3, gang: true }));
    let plan = sim.step();
    expect(plan).toMatchObject({ gang: true });
    expect(plan.launch).toHaveLength(3);
    sim.finish('TASK_FINISHED');
    sim.finish('TASK_FINISHED');
    expect(sim.step().launch).toEqual([]);
    sim.finish('TASK_FINISHED');
    plan = sim.step();
    expect(plan.launch).toHaveLength(3);
  });
});
