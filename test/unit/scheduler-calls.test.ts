// The SDK's scheduler calls fail by rejecting, never by throwing: a framework writes
// `driver.launch(…).then(remember).catch(forget)` and must get to its catch whatever goes wrong —
// here, the driver has lost its subscription (the leading master just died) while the framework
// was still handling that master's offers.
import type * as grpc from '@grpc/grpc-js';
import { Metadata } from '@grpc/grpc-js';
import { unaryCall } from '../../core/grpc.js';
import { describe, expect, it } from 'vitest';
import type { Ack__Output, SchedulerClient } from '../../proto/index.js';
import { SchedulerCalls } from '../../sdk/calls.js';
import { NotSubscribedError } from '../../sdk/errors.js';

/** Calls made while the driver is DISCONNECTED: its callContext throws, as the driver's does. */
class Disconnected extends SchedulerCalls {
  sent = 0;
  protected override callContext(): { client: SchedulerClient; frameworkId: string; deadline: Date; metadata: grpc.Metadata } {
    throw new NotSubscribedError('DISCONNECTED');
  }
  protected override run(_call: (callback: grpc.requestCallback<Ack__Output>) => unknown): Promise<void> {
    this.sent += 1;
    return Promise.resolve();
  }
  protected override ask<T>(_call: (callback: grpc.requestCallback<T>) => unknown): Promise<T> {
    this.sent += 1;
    return Promise.reject(new Error('not reached'));
  }
}

const task = { taskId: 't1', name: 't1', agentId: 'S1', resources: [], command: { value: 'true' } };
const calls: Record<string, (c: SchedulerCalls) => Promise<void>> = {
  accept: (c) => c.accept(['o1'], [{ launch: { taskInfos: [task] } }]),
  launch: (c) => c.launch(['o1'], [task]),
  launchGroup: (c) => c.launchGroup(['o1'], [task]),
  decline: (c) => c.decline(['o1']),
  revive: (c) => c.revive(),
  suppress: (c) => c.suppress(),
  kill: (c) => c.kill('t1', 'S1'),
  acknowledge: (c) => c.acknowledge({ agentId: 'S1', taskId: 't1', uuid: 'u1' }),
  acknowledgeBatch: (c) => c.acknowledgeBatch([{ agentId: 'S1', taskId: 't1', uuid: 'u1' }]).then(() => undefined),
  reconcile: (c) => c.reconcile([{ taskId: 't1', agentId: 'S1' }]),
  message: (c) => c.message('S1', 'e1', Buffer.from('hi')),
  updateFramework: (c) => c.updateFramework({ name: 'fw' }),
  teardown: (c) => c.teardown(),
};

/** Subscribed to a master older than AcknowledgeBatch: it answers UNIMPLEMENTED; single acknowledgements work. */
class OlderMaster extends SchedulerCalls {
  readonly singles: string[] = [];
  protected override callContext(): { client: SchedulerClient; frameworkId: string; deadline: Date; metadata: grpc.Metadata } {
    const client = {
      AcknowledgeBatch: (_req: unknown, _md: unknown, _opts: unknown, cb: grpc.requestCallback<unknown>) => cb(Object.assign(new Error('12 UNIMPLEMENTED'), { code: 12, details: '', metadata: new Metadata() }), undefined),
      Acknowledge: (req: { uuid: string }, _md: unknown, _opts: unknown, cb: grpc.requestCallback<Ack__Output>) => {
        if (req.uuid === 'stale') cb(Object.assign(new Error('3 INVALID_ARGUMENT'), { code: 3, details: 'uuid: stale', metadata: new Metadata() }), undefined);
        else {
          this.singles.push(req.uuid);
          cb(null, {});
        }
      },
    };
    return { client: client as unknown as SchedulerClient, frameworkId: 'F1', deadline: new Date(Date.now() + 1000), metadata: new Metadata() };
  }
  protected override run(call: (callback: grpc.requestCallback<Ack__Output>) => unknown): Promise<void> {
    return unaryCall<Ack__Output>(call).then(() => undefined);
  }
  protected override ask<T>(call: (callback: grpc.requestCallback<T>) => unknown): Promise<T> {
    return unaryCall<T>(call);
  }
}

describe('SchedulerCalls', () => {
  it('acknowledgeBatch falls back to one Acknowledge each on a master without batches, and names the refused', async () => {
    const calls = new OlderMaster();
    const refused = await calls.acknowledgeBatch([
      { agentId: 'S1', taskId: 't1', uuid: 'u1' },
      { agentId: 'S1', taskId: 't2', uuid: 'stale' },
      { agentId: 'S1', taskId: 't3', uuid: 'u3' },
    ]);
    expect(calls.singles).toEqual(['u1', 'u3']);
    expect(refused).toMatchObject([{ index: 1, taskId: 't2', code: 'AGORA_INVALID_ARGUMENT' }]);
  });

  it('acknowledgeBatch of nothing sends nothing', async () => {
    const calls = new OlderMaster();
    expect(await calls.acknowledgeBatch([])).toEqual([]);
    expect(calls.singles).toEqual([]);
  });

  for (const [name, call] of Object.entries(calls)) {
    it(`${name} rejects with NotSubscribedError when not subscribed, and sends nothing`, async () => {
      const driver = new Disconnected();
      let promise: Promise<void> | undefined;
      expect(() => (promise = call(driver))).not.toThrow();
      await expect(promise).rejects.toBeInstanceOf(NotSubscribedError);
      expect(driver.sent).toBe(0);
    });
  }

  it('launch with no tasks rejects with INVALID_ARGUMENT', async () => {
    const driver = new Disconnected();
    let promise: Promise<void> | undefined;
    expect(() => (promise = driver.launch(['o1'], []))).not.toThrow();
    await expect(promise).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'tasks' });
  });

  it('a framework handling offers it got before the disconnection reaches its catch for every one', async () => {
    // As the HA test's framework does: remember a launch, forget it if the launch fails.
    const driver = new Disconnected();
    const launched: string[] = [];
    for (const taskId of ['t1', 't2']) {
      launched.push(taskId);
      await driver
        .launch([`offer-${taskId}`], [{ ...task, taskId }])
        .catch(() => launched.splice(launched.indexOf(taskId), 1));
    }
    expect(launched).toEqual([]);
  });
});
