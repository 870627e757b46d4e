// One classification of task ends for every framework (sdk/task-outcome.ts).
import { describe, expect, it } from 'vitest';
import { isFailure } from '../../frameworks/services/planner.js';
import { classifyEnd, neverRan, type TaskOutcome } from '../../sdk/task-outcome.js';

describe('classifyEnd', () => {
  it.each<[string, string, boolean, boolean, TaskOutcome | undefined]>([
    ['TASK_FINISHED', '', false, false, 'succeeded'],
    ['TASK_FINISHED', '', true, false, 'succeeded'],
    ['TASK_FAILED', '', true, false, 'failed'],
    ['TASK_ERROR', '', false, false, 'failed'],
    ['TASK_KILLED', 'REASON_HEALTH_CHECK_FAILED', true, false, 'failed'],
    ['TASK_KILLED', 'REASON_CONTAINER_LIMITATION_DISK', true, false, 'failed'],
    ['TASK_KILLED', 'REASON_KILLED_BY_FRAMEWORK', true, false, 'killed'],
    ['TASK_KILLED', 'REASON_UNSPECIFIED', true, true, 'killed'],
    ['TASK_LOST', 'REASON_AGENT_REMOVED', false, false, 'never-ran'],
    ['TASK_LOST', 'REASON_RECONCILIATION', false, false, 'never-ran'],
    ['TASK_GONE', 'REASON_AGENT_REMOVED', false, false, 'never-ran'],
    ['TASK_DROPPED', 'REASON_TASK_UNKNOWN', false, false, 'never-ran'],
    ['TASK_UNKNOWN', 'REASON_RECONCILIATION', false, false, 'never-ran'],
    ['TASK_LOST', 'REASON_AGENT_REMOVED', true, false, 'lost'],
    ['TASK_GONE', 'REASON_AGENT_REMOVED', true, false, 'lost'],
    ['TASK_RUNNING', '', true, false, undefined],
    ['TASK_UNREACHABLE', 'REASON_AGENT_UNREACHABLE', true, false, undefined],
    ['TASK_STAGING', '', false, false, undefined],
  ])('%s (%s), ran %s, kill asked %s → %s', (state, reason, ran, killRequested, want) => {
    expect(classifyEnd({ state, reason, ran, killRequested })).toBe(want);
    expect(neverRan({ state, reason, ran, killRequested })).toBe(want === 'never-ran');
  });
});

describe('services count failures by it', () => {
  it('an exit or an agent kill is a failure; a kill asked for, a loss or a task that never ran is not', () => {
    expect(isFailure('TASK_FINISHED', '', false)).toBe(true);
    expect(isFailure('TASK_FAILED', '', false)).toBe(true);
    expect(isFailure('TASK_KILLED', 'REASON_HEALTH_CHECK_FAILED', false)).toBe(true);
    expect(isFailure('TASK_KILLED', 'REASON_KILLED_BY_FRAMEWORK', false)).toBe(false);
    expect(isFailure('TASK_KILLED', 'REASON_UNSPECIFIED', true)).toBe(false);
    for (const state of ['TASK_LOST', 'TASK_GONE', 'TASK_DROPPED', 'TASK_UNKNOWN'] as const) expect(isFailure(state, 'REASON_AGENT_REMOVED', false)).toBe(false);
  });
});
