import { describe, expect, it } from 'vitest';
import { ReplayLog } from '../../core/sse-replay.js';

function fill(log: ReplayLog, n: number): void {
  for (let i = 0; i < n; i += 1) log.append('task_updated', { i });
}

describe('replay log', () => {
  it('encodes each event once with an id of its epoch and seq', () => {
    const log = new ReplayLog('e1', 3);
    expect(log.append('agent_added', { agentId: 'a' })).toBe(0);
    expect(log.frame(0)?.toString()).toBe('id: e1-0\nevent: agent_added\ndata: {"agentId":"a"}\n\n');
    expect(log.next).toBe(1);
    expect(log.oldest).toBe(0);
    expect(log.bytes).toBe((log.frame(0) as Buffer).length);
  });

  it('keeps the last `capacity` events and their bytes only', () => {
    const log = new ReplayLog('e1', 3);
    fill(log, 5);
    expect(log.oldest).toBe(2);
    expect(log.frame(1)).toBeUndefined();
    expect(log.frame(5)).toBeUndefined();
    expect(log.frame(4)?.toString()).toContain('id: e1-4\n');
    expect(log.bytes).toBe([2, 3, 4].reduce((sum, seq) => sum + (log.frame(seq) as Buffer).length, 0));
  });

  it('decodes the last events kept, oldest first, with their ids', () => {
    const log = new ReplayLog('e1', 3);
    expect(log.recent(10)).toEqual([]);
    fill(log, 5);
    expect(log.recent(2)).toEqual([
      { id: 'e1-3', data: { i: 3 } },
      { id: 'e1-4', data: { i: 4 } },
    ]);
    expect(log.recent(10).map((e) => e.id)).toEqual(['e1-2', 'e1-3', 'e1-4']);
    expect(log.recent(0)).toEqual([]);
    log.append('agent_added', { message: 'line\nbreak: data: x' });
    expect(log.recent(1)).toEqual([{ id: 'e1-5', data: { message: 'line\nbreak: data: x' } }]);
  });

  it('takes frames in order up to a byte budget, at least one', () => {
    const log = new ReplayLog('e1', 10);
    fill(log, 4);
    const one = (log.frame(0) as Buffer).length;
    expect(log.take(0, 1)).toEqual({ bytes: log.frame(0), next: 1 });
    const two = log.take(1, 2 * one);
    expect(two.next).toBe(3);
    expect(two.bytes.toString()).toBe(`${log.frame(1)?.toString()}${log.frame(2)?.toString()}`);
    expect(log.take(4, 1000)).toEqual({ bytes: Buffer.alloc(0), next: 4 });
  });

  it('says where a client resumes: live, after its last id, or resync with why', () => {
    const log = new ReplayLog('e1', 3);
    fill(log, 5); // seqs 2, 3, 4 kept
    expect(log.resumeFrom(undefined)).toEqual({ kind: 'live', from: 5 });
    expect(log.resumeFrom('')).toEqual({ kind: 'live', from: 5 });
    expect(log.resumeFrom('e1-1')).toEqual({ kind: 'resume', from: 2 });
    expect(log.resumeFrom('e1-4')).toEqual({ kind: 'resume', from: 5 });
    expect(log.resumeFrom('e1-0')).toEqual({ kind: 'resync', from: 5, reason: 'too-old' });
    expect(log.resumeFrom('e1-5')).toEqual({ kind: 'resync', from: 5, reason: 'unknown' });
    expect(log.resumeFrom('e2-3')).toEqual({ kind: 'resync', from: 5, reason: 'other-epoch' });
  });

  it.each(['x', 'e1-', '-3', 'e1-3-4', 'E1-3', `e1-${'9'.repeat(16)}`])('refuses the malformed id %j naming the field', (id) => {
    const log = new ReplayLog('e1', 3);
    expect(() => log.resumeFrom(id, 'lastEventId')).toThrow(/^lastEventId: expected an event id as sent in the stream/);
  });
});
