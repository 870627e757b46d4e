// The pure parts of the batch framework's supervisor: what a status update does to a persisted task
// (a task that never ran is voided, terminal states are final), what applying a spec does to a job
// (immutable fields while active, a new run for a finished job), the task id and environment, the
// CLI's index ranges and jobs table.
import { describe, expect, it } from 'vitest';
import { jobsTable } from '../../cli/commands/workload-views.js';
import { ranges } from '../../cli/commands/describe-job.js';
import type { JobRecord, JobTaskEntry } from '../../frameworks/batch/book.js';
import { changeOf } from '../../frameworks/batch/framework.js';
import { GangHolds } from '../../frameworks/batch/holds.js';
import { mattersToPlan, nextEntry, overridden } from '../../frameworks/batch/supervisor.js';
import { planJob } from '../../frameworks/batch/planner.js';
import { validateJobSpec } from '../../frameworks/batch/spec.js';
import { mintTaskId } from '../../frameworks/batch/tasks.js';
import type { Offer__Output } from '../../proto/index.js';
import type { TaskState } from '../../core/task-state.js';
import type { TaskStatus } from '../../sdk/types.js';
import { status as statusFixture } from '../../sdk/testing/index.js';

const STAGING: JobTaskEntry = { taskId: 't', index: 2, attempt: 0, state: 'TASK_STAGING', launchedAtMs: 100, agentId: 'a1', hostname: 'h' };

/** A status of task t on agent a1 (agora/sdk/testing's builder fills in the rest). */
function status(state: TaskState, extra: Partial<TaskStatus> = {}): TaskStatus {
  return statusFixture({ taskId: 't', agentId: 'a1', state, ...extra });
}

describe('nextEntry', () => {
  it('voids a task lost, gone, dropped or unknown before it was ever RUNNING', () => {
    for (const state of ['TASK_LOST', 'TASK_GONE', 'TASK_DROPPED', 'TASK_UNKNOWN'] as const) {
      const next = nextEntry(STAGING, status(state), state, 500);
      expect(next).toMatchObject({ voided: true, finishedAtMs: 500, state: state === 'TASK_UNKNOWN' ? 'TASK_LOST' : state });
    }
  });

  it('a task seen RUNNING that is lost is a failure (not voided); UNKNOWN becomes LOST', () => {
    const running = nextEntry(STAGING, status('TASK_RUNNING'), 'TASK_RUNNING', 200);
    expect(running).toMatchObject({ state: 'TASK_RUNNING', runningAtMs: 200 });
    const lost = nextEntry(running, status('TASK_UNKNOWN'), 'TASK_UNKNOWN', 300);
    expect(lost).toMatchObject({ state: 'TASK_LOST', finishedAtMs: 300, runningAtMs: 200 });
    expect(lost.voided).toBeUndefined();
  });

  it('keeps the exit code; a repeated RUNNING changes nothing (same object: nothing to persist)', () => {
    const running = nextEntry(STAGING, status('TASK_RUNNING'), 'TASK_RUNNING', 200);
    expect(nextEntry(running, status('TASK_RUNNING', { message: 'healthy' }), 'TASK_RUNNING', 250)).toBe(running);
    expect(nextEntry(running, status('TASK_FAILED', { exitCode: 3, message: 'exit 3' }), 'TASK_FAILED', 400)).toMatchObject({ state: 'TASK_FAILED', exitCode: 3, message: 'exit 3', finishedAtMs: 400 });
  });
});

describe('nextEntry: unreachable', () => {
  it('records when the agent stopped answering, keeps the first time, and forgets it once the agent answers', () => {
    const running = nextEntry(STAGING, status('TASK_RUNNING'), 'TASK_RUNNING', 200);
    const away = nextEntry(running, status('TASK_UNREACHABLE'), 'TASK_UNREACHABLE', 300);
    expect(away).toMatchObject({ state: 'TASK_UNREACHABLE', unreachableSinceMs: 300, runningAtMs: 200 });
    expect(away.finishedAtMs).toBeUndefined();
    expect(nextEntry(away, status('TASK_UNREACHABLE'), 'TASK_UNREACHABLE', 900)).toBe(away);
    const back = nextEntry(away, status('TASK_RUNNING'), 'TASK_RUNNING', 1000);
    expect(back.state).toBe('TASK_RUNNING');
    expect(back.unreachableSinceMs).toBeUndefined();
  });
});

describe('overridden: the agent\'s end over the master\'s inference', () => {
  const running = nextEntry(STAGING, status('TASK_RUNNING'), 'TASK_RUNNING', 200);
  const fromMaster = (state: TaskState) => status(state, { source: 'SOURCE_MASTER', reason: 'REASON_RECONCILIATION' });
  const fromAgent = (state: TaskState, extra: Partial<TaskStatus> = {}) => status(state, { source: 'SOURCE_EXECUTOR', ...extra });

  it('a LOST then the agent\'s FINISHED: a success, no failure, counted once', () => {
    const lost = nextEntry(running, fromMaster('TASK_LOST'), 'TASK_LOST', 300);
    expect(lost).toMatchObject({ state: 'TASK_LOST', inferred: true, finishedAtMs: 300 });
    const won = overridden(lost, fromAgent('TASK_FINISHED', { exitCode: 0 }), 400)!;
    expect(won).toMatchObject({ state: 'TASK_FINISHED', exitCode: 0, finishedAtMs: 400, runningAtMs: 200 });
    expect(won.inferred).toBeUndefined();
    // Final now: neither a repeat nor a late guess changes it.
    expect(overridden(won, fromAgent('TASK_FINISHED'), 500)).toBeUndefined();
    expect(overridden(won, fromMaster('TASK_LOST'), 500)).toBeUndefined();
  });

  it('a voided task (lost before RUNNING) that the agent says finished is no longer voided', () => {
    const voided = nextEntry(STAGING, fromMaster('TASK_UNKNOWN'), 'TASK_UNKNOWN', 300);
    expect(voided).toMatchObject({ voided: true, inferred: true });
    const won = overridden(voided, fromAgent('TASK_FINISHED'), 400)!;
    expect(won.state).toBe('TASK_FINISHED');
    expect(won.voided).toBeUndefined();
  });

  it('keeps an authoritative end: FINISHED then LOST, or a LOST the agent itself reported', () => {
    const finished = nextEntry(running, fromAgent('TASK_FINISHED'), 'TASK_FINISHED', 300);
    expect(finished.inferred).toBeUndefined();
    expect(overridden(finished, fromMaster('TASK_LOST'), 400)).toBeUndefined();
    const agentLost = nextEntry(running, fromAgent('TASK_LOST'), 'TASK_LOST', 300);
    expect(agentLost.inferred).toBeUndefined();
    expect(overridden(agentLost, fromAgent('TASK_FINISHED'), 400)).toBeUndefined();
    // A live task is not this function's business.
    expect(overridden(running, fromAgent('TASK_FINISHED'), 400)).toBeUndefined();
  });
});

describe('changeOf (apply)', () => {
  const spec = (patch: Record<string, unknown> = {}) => validateJobSpec({ name: 'j', completions: 4, task: { command: 'x', resources: { cpus: 1, mem: 8 } }, ...patch });
  const created = changeOf(undefined, spec(), 1000).record;
  const finished: JobRecord = { ...created, run: { ...created.run, finishedAtMs: 2000, phase: 'JOB_SUCCEEDED' } };

  it('creates v1 with run 1; an equal spec is UNCHANGED', () => {
    expect(created).toMatchObject({ version: 1, runs: 1, createdAtMs: 1000, run: { submittedAtMs: 1000, tasks: [] } });
    expect(changeOf(created, spec(), 1500)).toMatchObject({ result: 'UNCHANGED', record: created });
  });

  it('while active: refuses task, completions, completionMode, gang; takes parallelism, priority, suspend', () => {
    for (const [patch, field] of [
      [{ task: { command: 'y', resources: { cpus: 1, mem: 8 } } }, 'task'],
      [{ completions: 5 }, 'completions'],
      [{ completionMode: 'Indexed' }, 'completionMode'],
      [{ gang: true }, 'gang'],
    ] as const) {
      expect(() => changeOf(created, spec(patch), 1500)).toThrow(expect.objectContaining({ field }));
    }
    const out = changeOf(created, spec({ parallelism: 2, priority: 3, suspend: true }), 1500);
    expect(out).toMatchObject({ result: 'UPDATED', record: { version: 2, runs: 1, updatedAtMs: 1500, run: created.run } });
  });

  it('finished: a run-defining change starts a new run; a label or priority change does not', () => {
    expect(changeOf(finished, spec({ completions: 5 }), 3000).record).toMatchObject({ version: 2, runs: 2, run: { submittedAtMs: 3000, tasks: [] } });
    expect(changeOf(finished, spec({ priority: 9, labels: { team: 'x' } }), 3000).record).toMatchObject({ version: 2, runs: 1, run: finished.run });
  });
});

describe('GangHolds', () => {
  const held = (id: string, at: number) => ({ offer: { id } as Offer__Output, receivedAtMs: at });

  it('holds per job, takes back, drops a rescinded offer, forgets on resubscription', () => {
    const holds = new GangHolds();
    holds.hold('a', [held('o1', 100), held('o2', 300)]);
    holds.hold('b', [held('o3', 200)]);
    expect([holds.size, holds.jobs().sort(), holds.nextExpiry(1000)]).toEqual([3, ['a', 'b'], 1100]);
    expect(holds.rescind('o1')).toBe(true);
    expect(holds.rescind('nope')).toBe(false);
    expect(holds.heldBy('a').map((h) => h.offer.id)).toEqual(['o2']);
    // Taking is removing: an offer handed to one job's decision is no longer anyone's.
    expect(holds.take('a').map((h) => h.offer.id)).toEqual(['o2']);
    expect([holds.heldBy('a'), holds.size, holds.nextExpiry(1000)]).toEqual([[], 1, 1200]);
    holds.remember('b', { coolDownUntilMs: 5000 });
    expect(holds.forget('b').map((h) => h.offer.id)).toEqual(['o3']);
    expect([holds.memory('b'), holds.size, holds.nextExpiry(1000)]).toEqual([{}, 0, undefined]);
    holds.hold('c', [held('o4', 1)]);
    holds.clear();
    expect(holds.size).toBe(0);
  });
});

describe('task ids, the CLI', () => {
  it('task ids name the job, the run, the index and the attempt', () => {
    expect(mintTaskId('crunch', 2, { index: 7, attempt: 1, env: {} })).toMatch(/^crunch\.r2\.i7\.a1\.[0-9a-f]{6}$/);
    expect(mintTaskId('crunch', 1, { attempt: 0, env: {} })).toMatch(/^crunch\.r1\.a0\.[0-9a-f]{8}$/);
  });

  it('index ranges read like Kubernetes completedIndexes', () => {
    expect([ranges([]), ranges([3]), ranges([0, 1, 2, 4, 6, 7]), ranges([5, 1, 2])]).toEqual(['', '3', '0-2,4,6-7', '1-2,5']);
  });

  it('get jobs: the queue with priority and what each job waits for', () => {
    const text = jobsTable(
      [
        { name: 'big', createdAtMs: Date.now(), job: { completions: 1, priority: 10 }, jobStatus: { phase: 'JOB_PENDING', succeeded: 0, pendingReason: 'insufficient cpus: need 64, largest offer has 2' } },
        { name: 'done', createdAtMs: Date.now(), job: { completions: 2 }, jobStatus: { phase: 'JOB_SUCCEEDED', succeeded: 2 } },
      ],
      false,
    );
    expect(text.split('\n')[0]).toMatch(/^NAME\s+COMPLETIONS\s+PHASE\s+ACTIVE\s+FAILED\s+PRIORITY\s+AGE\s+WAITING FOR$/);
    expect(text).toMatch(/\nbig\s+0\/1\s+Pending\s+0\s+0\s+10\s+\S+\s+insufficient cpus: need 64, largest offer has 2\n/);
    expect(text).toMatch(/\ndone\s+2\/2\s+Succeeded\s+0\s+0\s+0\s+\S+\s+-\n/);
  });
});

describe('batch scheduler: which task changes need a new plan', () => {
  it('an active task that stays active (STAGING → RUNNING) changes no plan; an end, a kill mark or a new task does', () => {
    const running = nextEntry(STAGING, status('TASK_RUNNING'), 'TASK_RUNNING', 200);
    expect(mattersToPlan(STAGING, running)).toBe(false);
    // And the plan is indeed the same, whatever the active task's state.
    const spec = validateJobSpec({ name: 'j', completions: 3, parallelism: 2, completionMode: 'Indexed', task: { command: 'true', resources: { cpus: 1, mem: 16 } } });
    const run = (t: JobTaskEntry): JobRecord['run'] => ({ submittedAtMs: 0, startedAtMs: 0, tasks: [t] });
    expect(planJob(spec, run(running), 300)).toEqual(planJob(spec, run(STAGING), 300));

    expect(mattersToPlan(running, nextEntry(running, status('TASK_FINISHED'), 'TASK_FINISHED', 300))).toBe(true);
    expect(mattersToPlan(running, { ...running, killRequested: true })).toBe(true);
    expect(mattersToPlan(undefined, running)).toBe(true);
  });
});
