// What a batched acknowledgement is checked against: the updates the master relayed to each
// framework, by task, with the agent that sent them.
import { describe, expect, it } from 'vitest';
import { AwaitedAcknowledgements, MAX_UUIDS_PER_TASK } from '../../master/awaited-acks.js';

describe('AwaitedAcknowledgements', () => {
  it('accepts the framework, task, agent and uuid relayed, once', () => {
    const awaited = new AwaitedAcknowledgements();
    awaited.relayed('F1', 't1', 'S1', 'u1');
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u1' })).toEqual({ ok: true });
    awaited.settle('F1', 't1', 'u1');
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u1' })).toMatchObject({ ok: false, code: 'AGORA_NOT_FOUND', field: 'taskId' });
    expect(awaited.size).toBe(0);
  });

  it("refuses another framework's task, another agent, another uuid, and missing fields, naming the field", () => {
    const awaited = new AwaitedAcknowledgements();
    awaited.relayed('F1', 't1', 'S1', 'u1');
    expect(awaited.check('F2', { agentId: 'S1', taskId: 't1', uuid: 'u1' })).toMatchObject({ ok: false, code: 'AGORA_NOT_FOUND', field: 'taskId' });
    expect(awaited.check('F1', { agentId: 'S2', taskId: 't1', uuid: 'u1' })).toMatchObject({ ok: false, code: 'AGORA_INVALID_ARGUMENT', field: 'agentId' });
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u2' })).toMatchObject({ ok: false, code: 'AGORA_INVALID_ARGUMENT', field: 'uuid' });
    expect(awaited.check('F1', { agentId: '', taskId: 't1', uuid: 'u1' })).toMatchObject({ ok: false, field: 'agentId' });
    expect(awaited.check('F1', { agentId: 'S1', taskId: '', uuid: 'u1' })).toMatchObject({ ok: false, field: 'taskId' });
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: '' })).toMatchObject({ ok: false, field: 'uuid' });
    // Checking changes nothing.
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u1' })).toEqual({ ok: true });
  });

  it('keeps a resend once, a few uuids at most per task, and only the latest agent of a task', () => {
    const awaited = new AwaitedAcknowledgements();
    awaited.relayed('F1', 't1', 'S1', 'u1');
    awaited.relayed('F1', 't1', 'S1', 'u1');
    expect(awaited.size).toBe(1);
    for (let i = 2; i <= MAX_UUIDS_PER_TASK + 1; i++) awaited.relayed('F1', 't1', 'S1', `u${i}`);
    expect(awaited.size).toBe(MAX_UUIDS_PER_TASK);
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u1' })).toMatchObject({ ok: false, field: 'uuid' });
    // The id reused on another agent: the old agent's updates are moot.
    awaited.relayed('F1', 't1', 'S2', 'v1');
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u2' })).toMatchObject({ ok: false, field: 'agentId' });
    expect(awaited.check('F1', { agentId: 'S2', taskId: 't1', uuid: 'v1' })).toEqual({ ok: true });
  });

  it('forgets a removed framework', () => {
    const awaited = new AwaitedAcknowledgements();
    awaited.relayed('F1', 't1', 'S1', 'u1');
    awaited.relayed('F2', 't1', 'S1', 'u2');
    awaited.dropFramework('F1');
    expect(awaited.check('F1', { agentId: 'S1', taskId: 't1', uuid: 'u1' })).toMatchObject({ ok: false, field: 'taskId' });
    expect(awaited.check('F2', { agentId: 'S1', taskId: 't1', uuid: 'u2' })).toEqual({ ok: true });
  });
});
