// agora/sdk/testing for unit tests: a framework's handlers driven by the FakeDriver, with fixtures
// from the builders and time on a FakeClock — no master. The first test is sdk/README.md's
// "Testing your framework" sample; the others pin the kit's own behaviour (the same client checks
// as the real driver, typed failures on request, builders that the SDK's own helpers accept).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchOffers, NotSubscribedError, Resources, UnavailableError, type SchedulerDriver } from '../../sdk/index.js';
import { FakeClock, FakeDriver, offer, offers, status, taskSpec } from '../../sdk/testing/index.js';
import { keepCopies } from '../support/kit-sample.js';

describe('agora/sdk/testing: a framework unit-tested with the FakeDriver', () => {
  it('keeps two copies, relaunches one that failed after its backoff, and survives a refused launch', async () => {
    const clock = new FakeClock();
    const framework = keepCopies({ count: 2, command: 'sleep 3600', backoffMs: 10_000, clock });
    const driver = new FakeDriver();

    await driver.deliverOffers(framework, offers(3, { resources: 'cpus:2;mem:1024' }));
    expect(driver.launched.map((t) => t.name)).toEqual(['copy', 'copy']);
    expect(driver.declined).toHaveLength(1);

    // A copy fails: nothing is launched within the backoff, and then one is.
    await driver.deliverUpdate(framework, status({ taskId: 'copy-1', state: 'TASK_FAILED' }));
    expect(driver.acknowledged.map((a) => a.taskId)).toEqual(['copy-1']);
    await driver.deliverOffers(framework, [offer()]);
    expect(driver.launched).toHaveLength(2);
    clock.advance(10_000);
    await driver.deliverOffers(framework, [offer()]);
    expect(driver.launched.map((t) => t.taskId)).toEqual(['copy-1', 'copy-2', 'copy-3']);

    // The master refuses a launch: the framework does not count the copy as live.
    await driver.deliverUpdate(framework, status({ taskId: 'copy-3', state: 'TASK_KILLED', source: 'SOURCE_MASTER' }));
    clock.advance(10_000);
    driver.failNext('launch', new UnavailableError('the master went away'));
    await driver.deliverOffers(framework, [offer()]);
    expect(framework.live).toEqual(new Set(['copy-2']));
  });
});

describe('FakeDriver', () => {
  it('is what the handlers take: a SchedulerDriver', () => {
    const driver: SchedulerDriver = new FakeDriver();
    expect(driver.state).toBe('SUBSCRIBED');
  });

  it('refuses a task that names another agent than its offer, as the real driver does, and records nothing', async () => {
    const driver = new FakeDriver();
    const o = offer({ agentId: 'a1' });
    await driver.deliverOffers({}, [o]);
    const err = await driver.launch([o.id], [taskSpec({ agentId: 'a2' })]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'tasks[0].agentId' });
    expect(driver.launched).toEqual([]);
    expect(driver.calls.map((c) => c.method)).toEqual(['launch']);
  });

  it('refuses an acknowledgement of an update it never delivered, naming the uuid', async () => {
    const driver = new FakeDriver();
    const made = status({ taskId: 't1', state: 'TASK_RUNNING' });
    await expect(driver.acknowledge(made)).rejects.toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'uuid' });
    await driver.deliverUpdate({}, made);
    expect(driver.acknowledged).toEqual([{ agentId: 'agent-1', taskId: 't1', uuid: made.uuid }]);
  });

  it('fails the next call it was told to, with that typed error, once', async () => {
    const driver = new FakeDriver().failNext('kill', new UnavailableError('no leader'));
    await expect(driver.kill('t1')).rejects.toBeInstanceOf(UnavailableError);
    await driver.kill('t1');
    expect(driver.killed).toEqual(['t1']);
  });

  it('refuses every call while not subscribed, and after stop', async () => {
    const driver = new FakeDriver({ state: 'DISCONNECTED' });
    await expect(driver.decline(['o1'])).rejects.toBeInstanceOf(NotSubscribedError);
    driver.state = 'SUBSCRIBED';
    await driver.stop();
    await expect(driver.revive()).rejects.toMatchObject({ code: 'AGORA_FAILED_PRECONDITION' });
    await driver.closed;
    expect(driver.revived).toEqual([]);
  });

  it('recovers from what its master knows: running, ended (or never heard of), forgotten; bad input names the field', async () => {
    const driver = new FakeDriver();
    driver.masterTasks = [status({ taskId: 'a', state: 'TASK_RUNNING' }), status({ taskId: 'b', state: 'TASK_FINISHED' }), status({ taskId: 'c', state: 'TASK_RUNNING' })];
    const report = await driver.recover([{ taskId: 'a', agentId: 'agent-1' }, { taskId: 'b' }, { taskId: 'made-up', agentId: 'agent-2' }]);
    expect(report.running.map((s) => s.taskId)).toEqual(['a']);
    expect(report.ended.map((s) => [s.taskId, s.state])).toEqual([['b', 'TASK_FINISHED'], ['made-up', 'TASK_GONE']]);
    expect(report.forgotten.map((s) => s.taskId)).toEqual(['c']);
    expect(driver.tracked.map((t) => t.taskId)).toEqual(['a', 'b', 'made-up']);
    await expect(driver.recover([{ taskId: '' }])).rejects.toMatchObject({ field: 'known[0].taskId' });
    await expect(driver.recover([], { timeoutMs: -1 })).rejects.toMatchObject({ field: 'options.timeoutMs' });
    expect(driver.calls.filter((c) => c.method === 'recover')).toHaveLength(1);
  });

  it('delivers agent events to the handlers that ask for them', async () => {
    const seen: string[] = [];
    const driver = new FakeDriver();
    const handlers = {
      agentAdded: (_d: SchedulerDriver, a: { agentId: string }) => void seen.push(`added ${a.agentId}`),
      agentRemoved: (_d: SchedulerDriver, e: { agentId: string; reason: string }) => void seen.push(`removed ${e.agentId}: ${e.reason}`),
      agentDraining: (_d: SchedulerDriver, e: { agentId: string; draining: boolean }) => void seen.push(`draining ${e.agentId} ${e.draining}`),
    };
    await driver.deliverAgentAdded(handlers, { agentId: 'a1', hostname: 'h1', ip: '10.0.0.1', attributes: { role: 'web' }, resources: Resources.parse('cpus:1'), draining: false });
    await driver.deliverAgentDraining(handlers, { agentId: 'a1', draining: true });
    await driver.deliverAgentRemoved(handlers, { agentId: 'a1', reason: 'unreachable' });
    expect(seen).toEqual(['added a1', 'draining a1 true', 'removed a1: unreachable']);
  });

  it('hands a batch of updates to an `updates` handler and acknowledges them after it', async () => {
    const driver = new FakeDriver();
    const seen: string[][] = [];
    const batch = [status({ taskId: 'a', state: 'TASK_RUNNING' }), status({ taskId: 'b', state: 'TASK_FINISHED' })];
    await driver.deliverUpdates({ updates: (_d, s) => void seen.push(s.map((x) => x.taskId)) }, batch);
    expect(seen).toEqual([['a', 'b']]);
    expect(driver.acknowledged.map((a) => a.taskId)).toEqual(['a', 'b']);
    // A handler that rejects: nothing acknowledged (the agents resend).
    const failing = [status({ taskId: 'c', state: 'TASK_RUNNING' })];
    await expect(driver.deliverUpdates({ updates: () => Promise.reject(new Error('store down')) }, failing)).rejects.toThrow('store down');
    expect(driver.acknowledged).toHaveLength(2);
  });
});

describe('builders', () => {
  it('make an offer the SDK matches, with its attributes and ports', () => {
    const o = offer({ resources: 'cpus:2;mem:1024;ports:[31000-31010]', attributes: 'rack:r1;zone:a', role: 'web' });
    expect(o).toMatchObject({ allocationRole: 'web', hostname: `host-${o.agentId}` });
    const plan = matchOffers([o], [{ id: 'w', resources: 'cpus:1;mem:128', ports: 2, role: 'web', constraints: [['rack', 'LIKE', 'r1']] }]);
    expect(plan.launches[0]?.tasks[0]?.ports).toEqual([31000, 31001]);
    const elsewhere = matchOffers([o], [{ id: 'w', resources: 'cpus:1', role: 'web', constraints: [['zone', 'LIKE', 'b']] }]);
    expect(elsewhere.unplaced).toHaveLength(1);
  });

  it('refuse bad fixtures with an error naming the field', () => {
    expect(() => offer({ resources: 'cpus:lots' })).toThrow(expect.objectContaining({ code: 'AGORA_INVALID_ARGUMENT', field: expect.stringMatching(/^resources/) }));
    expect(() => offer({ attributes: 'rack' })).toThrow(expect.objectContaining({ field: 'attributes' }));
    expect(() => status({ taskId: 't', state: 'TASK_DONE' as never })).toThrow(expect.objectContaining({ field: 'state' }));
    expect(() => taskSpec({})).toThrow(expect.objectContaining({ field: 'agentId' }));
    expect(() => offers(-1)).toThrow(expect.objectContaining({ field: 'count' }));
  });

  it('make a task spec on an offer: its agent, and all its resources unless told', () => {
    const o = offer({ resources: 'cpus:1;mem:256' });
    expect(taskSpec({ offer: o, name: 'web', command: 'sleep 1' })).toMatchObject({ agentId: o.agentId, name: 'web', resources: o.resources, command: { shell: true, value: 'sleep 1' } });
  });
});

describe('sdk/README.md, "Testing your framework"', () => {
  /** Lines trimmed, blank ones and imports dropped: code compared regardless of indentation. */
  const normal = (code: string): string =>
    code
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('import '))
      .join('\n');
  const read = (file: string): string => readFileSync(new URL(file, import.meta.url), 'utf8');

  it('shows code that is in the tests, so it runs', () => {
    const readme = read('../../sdk/README.md');
    const section = readme.slice(readme.indexOf('## Testing your framework'), readme.indexOf('## API reference'));
    const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => normal(m[1] ?? ''));
    expect(blocks).toHaveLength(3);
    const sources = normal([read('../support/kit-sample.ts'), read('./sdk-testing-kit.test.ts'), read('../integration/sdk-testing-kit.test.ts')].join('\n'));
    for (const block of blocks) expect(sources).toContain(block);
  });
});
