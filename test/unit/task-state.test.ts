import { describe, expect, it } from 'vitest';
import {
  TASK_STATES,
  TASK_STATE_TABLE,
  assertTransition,
  canTransition,
  isActive,
  isTerminal,
  parseTaskState,
  type TaskState,
} from '../../core/task-state.js';
import { AgoraError } from '../../core/errors.js';

const TERMINAL: TaskState[] = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_GONE', 'TASK_DROPPED'];

describe('task state table', () => {
  it('has a row for every state and only known states as targets', () => {
    expect(Object.keys(TASK_STATE_TABLE).sort()).toEqual([...TASK_STATES].sort());
    for (const row of Object.values(TASK_STATE_TABLE)) for (const to of row.to) expect(TASK_STATES).toContain(to);
  });

  it('marks exactly the terminal states terminal, and they lead nowhere', () => {
    for (const state of TASK_STATES) {
      expect(isTerminal(state), state).toBe(TERMINAL.includes(state));
      if (isTerminal(state)) {
        for (const to of TASK_STATES) expect(canTransition(state, to), `${state}→${to}`).toBe(false);
      }
    }
  });

  it('counts only staging, starting, running and killing tasks as holding resources', () => {
    expect(TASK_STATES.filter(isActive)).toEqual(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING']);
  });

  it.each<[TaskState, TaskState, boolean]>([
    ['TASK_STAGING', 'TASK_STARTING', true],
    ['TASK_STAGING', 'TASK_RUNNING', true],
    ['TASK_STARTING', 'TASK_RUNNING', true],
    ['TASK_RUNNING', 'TASK_RUNNING', true],
    ['TASK_RUNNING', 'TASK_KILLING', true],
    ['TASK_KILLING', 'TASK_KILLED', true],
    ['TASK_RUNNING', 'TASK_UNREACHABLE', true],
    ['TASK_UNREACHABLE', 'TASK_RUNNING', true],
    ['TASK_UNREACHABLE', 'TASK_GONE', true],
    ['TASK_STAGING', 'TASK_DROPPED', true],
    ['TASK_STAGING', 'TASK_ERROR', true],
    ['TASK_RUNNING', 'TASK_STAGING', false],
    ['TASK_RUNNING', 'TASK_STARTING', false],
    ['TASK_RUNNING', 'TASK_ERROR', false],
    ['TASK_KILLING', 'TASK_RUNNING', false],
    ['TASK_FINISHED', 'TASK_RUNNING', false],
    ['TASK_KILLED', 'TASK_KILLED', false],
    ['TASK_RUNNING', 'TASK_UNKNOWN', false],
  ])('%s → %s is %s', (from, to, allowed) => {
    expect(canTransition(from, to)).toBe(allowed);
    if (allowed) expect(() => assertTransition(from, to)).not.toThrow();
    else expect(() => assertTransition(from, to, 't1')).toThrow(`task 't1' cannot go from ${from} to ${to}`);
  });

  it('rejects illegal moves with a FAILED_PRECONDITION AgoraError', () => {
    try {
      assertTransition('TASK_FINISHED', 'TASK_RUNNING');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AgoraError);
      expect((err as AgoraError).code).toBe('AGORA_FAILED_PRECONDITION');
      expect((err as AgoraError).details).toMatchObject({ from: 'TASK_FINISHED', to: 'TASK_RUNNING' });
    }
  });

  it('parses state names, short or long, and names the field on bad input', () => {
    expect(parseTaskState('TASK_RUNNING')).toBe('TASK_RUNNING');
    expect(parseTaskState('running')).toBe('TASK_RUNNING');
    expect(() => parseTaskState('RUNNIN', 'filter.state')).toThrow(/filter\.state: unknown task state 'RUNNIN'/);
    expect(() => parseTaskState(undefined)).toThrow(/state: unknown task state/);
    expect(() => parseTaskState(3)).toThrow(AgoraError);
  });
});
