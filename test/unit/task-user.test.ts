// Who a task runs as, by name (core/task-user.ts): the task's user, else its framework's, else
// nobody — the rule the agent and the master share.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TASK_USER, effectiveTaskUser } from '../../core/task-user.js';

describe('effectiveTaskUser', () => {
  it("takes the task's command.user first, then the framework's user", () => {
    expect(effectiveTaskUser({ command: { user: 'alice' } }, { user: 'bob' })).toBe('alice');
    expect(effectiveTaskUser({ command: { user: '' } }, { user: 'bob' })).toBe('bob');
    expect(effectiveTaskUser({ command: { user: null } }, { user: 'bob' })).toBe('bob');
    expect(effectiveTaskUser({ command: null }, { user: 'bob' })).toBe('bob');
  });

  it('falls back to nobody, never to the agent\u2019s own user, when neither names one', () => {
    expect(DEFAULT_TASK_USER).toBe('nobody');
    expect(effectiveTaskUser({ command: { user: '' } }, { user: '' })).toBe('nobody');
    expect(effectiveTaskUser({}, undefined)).toBe('nobody');
    expect(effectiveTaskUser({ command: {} }, null)).toBe('nobody');
  });

  it('keeps numeric users as they are, for the agent to read as uid or uid:gid', () => {
    expect(effectiveTaskUser({ command: { user: '1000:1000' } })).toBe('1000:1000');
    expect(effectiveTaskUser({}, { user: '0' })).toBe('0');
  });
});
