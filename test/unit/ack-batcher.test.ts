// The SDK's automatic acknowledgements, batched by turn of the event loop (stepped by hand here).
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/logger.js';
import { AckBatcher } from '../../sdk/ack-batcher.js';
import type { AckTarget, AcknowledgementRefused } from '../../sdk/calls.js';

function setup(active = () => true, answer: (s: AckTarget[]) => Promise<AcknowledgementRefused[]> = async () => []) {
  const turns: (() => void)[] = [];
  const sent: string[][] = [];
  const batcher = new AckBatcher({
    send: (statuses) => {
      sent.push(statuses.map((s) => s.uuid));
      return answer(statuses);
    },
    active,
    logger: silentLogger(),
    schedule: (fn) => void turns.push(fn),
  });
  const nextTurn = (): void => turns.splice(0).forEach((fn) => fn());
  return { batcher, sent, turns, nextTurn };
}

const s = (uuid: string): AckTarget => ({ agentId: 'S1', taskId: `t-${uuid}`, uuid });

describe('AckBatcher', () => {
  it('sends what became due in one turn as one call, in order, and schedules one flush per turn', () => {
    const { batcher, sent, turns, nextTurn } = setup();
    batcher.due(s('u1'));
    batcher.due(s('u2'));
    batcher.due(s('u3'));
    expect(turns).toHaveLength(1);
    expect(sent).toEqual([]);
    expect(batcher.pending).toBe(3);
    nextTurn();
    expect(sent).toEqual([['u1', 'u2', 'u3']]);
    batcher.due(s('u4'));
    nextTurn();
    expect(sent).toEqual([['u1', 'u2', 'u3'], ['u4']]);
    expect(batcher.pending).toBe(0);
  });

  it('drops what is due while not subscribed (the agents resend it)', () => {
    let subscribed = false;
    const { batcher, sent, nextTurn } = setup(() => subscribed);
    batcher.due(s('u1'));
    nextTurn();
    expect(sent).toEqual([]);
    subscribed = true;
    batcher.due(s('u2'));
    nextTurn();
    expect(sent).toEqual([['u2']]);
  });

  it('survives a failed call and refusals: the next turn sends again', async () => {
    let calls = 0;
    const { batcher, sent, nextTurn } = setup(
      () => true,
      async (statuses) => {
        calls += 1;
        if (calls === 1) throw new Error('master gone');
        return [{ index: 0, taskId: statuses[0]!.taskId, field: 'acknowledgements[0].uuid', code: 'AGORA_INVALID_ARGUMENT', message: 'stale' }];
      },
    );
    batcher.due(s('u1'));
    nextTurn();
    await Promise.resolve();
    batcher.due(s('u2'));
    nextTurn();
    await Promise.resolve();
    expect(sent).toEqual([['u1'], ['u2']]);
  });
});
