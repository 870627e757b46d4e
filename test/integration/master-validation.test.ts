// Bad input against a real master over loopback gRPC. Every bad call gets INVALID_ARGUMENT or
// FAILED_PRECONDITION naming the field (and changes nothing: the offer stays usable), every bad task
// gets TASK_ERROR (or TASK_DROPPED), and nothing leaks or is counted twice: the invariant is checked
// after each. Ends with a seeded random walk of good and bad calls.
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom, randomInt, type Random } from '../../core/random.js';
import type { TaskState } from '../../core/task-state.js';
import type { Offer__Output, TaskInfo } from '../../proto/index.js';
import { eventually, MasterHarness, rejection, stopHarnesses } from '../support/master-harness.js';
import type { TestAgent } from '../support/test-agent.js';
import { TestFramework, offerResources, taskInfo } from '../support/test-framework.js';
import { holdsFor, pace } from '../support/waits.js';

afterEach(stopHarnesses);

async function setup(options: { agents?: number; resources?: string } = {}) {
  const h = await MasterHarness.start();
  const agents: TestAgent[] = [];
  for (let i = 0; i < (options.agents ?? 1); i++) agents.push(await h.agent({ resources: options.resources ?? 'cpus:4;mem:4096;ports:[31000-31009]' }));
  const fw = await h.framework({ autoAck: true });
  await eventuallyOffers(fw, agents.length);
  return { h, agents, agent: agents[0] as TestAgent, fw };
}

async function eventuallyOffers(fw: TestFramework, n: number): Promise<Offer__Output[]> {
  await fw.waitFor(() => fw.offersSeen().length >= n, { what: `${n} offers` });
  return fw.offersSeen();
}

/** The offer is still valid: the master holds it for this framework. */
function stillValid(h: MasterHarness, offer: Offer__Output): boolean {
  return h.state.offer(offer.id)?.frameworkId === offer.frameworkId;
}

describe('bad accept and decline calls', () => {
  it('rejects bad offer lists with the field named, and leaves the offers usable', async () => {
    const { h, agents, fw } = await setup({ agents: 2 });
    const [a, b] = await eventuallyOffers(fw, 2);
    const offerA = a as Offer__Output;
    const offerB = b as Offer__Output;
    const task = [taskInfo('t1')];
    const cases: Array<[string, Promise<unknown>, string, string]> = [
      ['no offer ids', fw.launch([], task), 'AGORA_INVALID_ARGUMENT', 'offerIds'],
      ['an unknown offer', fw.launch(['no-such-offer'], task), 'AGORA_FAILED_PRECONDITION', 'offerIds[0]'],
      ['offers on two agents', fw.launch([offerA, offerB], task), 'AGORA_INVALID_ARGUMENT', 'offerIds'],
      ['the same offer twice', fw.launch([offerA.id, offerA.id], task), 'AGORA_INVALID_ARGUMENT', 'offerIds[1]'],
      ['a negative refuse_seconds', fw.launch(offerA, task, { refuseSeconds: -1 }), 'AGORA_INVALID_ARGUMENT', 'filters.refuseSeconds'],
      ['a NaN refuse_seconds', fw.launch(offerA, task, { refuseSeconds: Number.NaN }), 'AGORA_INVALID_ARGUMENT', 'filters.refuseSeconds'],
      ['an unsupported operation', fw.acceptOperations(offerA, [{ reserve: { resources: [] } }]), 'AGORA_INVALID_ARGUMENT', 'operations[0]'],
      ['decline without offers', fw.decline([]), 'AGORA_INVALID_ARGUMENT', 'offerIds'],
      ['decline with a bad filter', fw.decline(offerA, -5), 'AGORA_INVALID_ARGUMENT', 'filters.refuseSeconds'],
      ['decline naming an offer twice', fw.decline([offerA.id, offerA.id]), 'AGORA_INVALID_ARGUMENT', 'offerIds[1]'],
    ];
    for (const [what, call, code, field] of cases) {
      const err = await rejection(call);
      expect({ what, code: err.code, field: err.field }).toEqual({ what, code, field });
      h.invariant();
    }
    expect(stillValid(h, offerA) && stillValid(h, offerB)).toBe(true);
    expect(fw.updates()).toEqual([]);
    // And the offer really still works.
    await fw.launch(offerA, task);
    await agents.find((x) => x.agentId === offerA.agentId)?.waitForLaunch('t1');
    h.invariant();
  });

  it('rejects a used offer and another framework\'s offer; declining one no longer outstanding is a no-op', async () => {
    const { h, fw } = await setup({ resources: 'cpus:4;mem:4096' });
    const offer = await fw.nextOffer();
    await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:128')]);
    expect(await rejection(fw.launch(offer, [taskInfo('t2')]))).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'offerIds[0]' });
    // Declining an offer no longer outstanding (here: used) is a no-op, as in Mesos: its resources are back already.
    await fw.decline(offer);
    await fw.decline(['nope']);
    h.invariant();

    const other = await h.framework({ name: 'other' });
    await fw.suppress();
    const theirs = await other.nextOffer({ timeoutMs: 7000 });
    expect(await rejection(fw.launch(theirs, [taskInfo('t3')]))).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'offerIds[0]' });
    expect(await rejection(fw.decline(theirs))).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'offerIds[0]' });
    expect(stillValid(h, theirs)).toBe(true);
    // A decline naming one offer gone and one outstanding declines the outstanding one.
    await other.decline([theirs.id, 'gone-already'], 0);
    expect(stillValid(h, theirs)).toBe(false);
    await other.decline(theirs);
    h.invariant();
  });

  it('rejects calls for an unsubscribed, unknown or missing framework id', async () => {
    const { h, fw } = await setup();
    const offer = await fw.nextOffer();
    expect(await rejection(fw.accept({ frameworkId: '', offerIds: [offer.id], operations: [] }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'frameworkId' });
    expect((await rejection(fw.accept({ frameworkId: 'nobody', offerIds: [offer.id], operations: [] }))).code).toBe('AGORA_NOT_FOUND');
    const gone = await h.framework({ name: 'gone', failoverTimeoutSeconds: 60 });
    await gone.close();
    await eventually(() => h.state.framework(gone.frameworkId)?.state === 'disconnected');
    expect(await rejection(fw.accept({ frameworkId: gone.frameworkId, offerIds: [offer.id], operations: [] }))).toMatchObject({
      code: 'AGORA_FAILED_PRECONDITION',
      field: 'frameworkId',
    });
    expect(await rejection(fw.declineRaw({ frameworkId: gone.frameworkId, offerIds: [offer.id] }))).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'frameworkId' });
    expect(await rejection(fw.acknowledge({ agentId: offer.agentId, taskId: 't', uuid: 'u' }, { frameworkId: gone.frameworkId }))).toMatchObject({
      code: 'AGORA_FAILED_PRECONDITION',
    });
    expect(await rejection(fw.acknowledge({ agentId: offer.agentId, taskId: 't', uuid: '' }))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'uuid' });
    expect(await rejection(fw.revive(['not-my-role']))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'roles[0]' });
    expect(await rejection(fw.suppress(['not-my-role']))).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field: 'roles[0]' });
    expect(stillValid(h, offer)).toBe(true);
    h.invariant();
  });
});

describe('bad tasks', () => {
  /** Launch `tasks` on the framework's next offer; returns the updates for each task id. */
  async function launchBad(h: MasterHarness, fw: TestFramework, agent: TestAgent, tasks: TaskInfo[], group = false, bad = tasks.map((t) => t.taskId as string)) {
    const offer = await fw.nextOffer();
    const mark = fw.events.mark();
    const before = agent.messages.mark();
    if (group) await fw.launchGroup(offer, tasks, '', { refuseSeconds: 0 });
    else await fw.launch(offer, tasks, { refuseSeconds: 0 });
    const ids = [...new Set(bad)];
    await eventually(() => ids.every((id) => fw.updates(id, mark).length > 0), { what: `updates for ${ids.join(', ')}` });
    h.invariant();
    expect(stillValid(h, offer)).toBe(false);
    return { offer, mark, launched: () => agent.messages.filter((m) => m.type === 'launch' || m.type === 'launchGroup', before) };
  }

  const badTasks: Array<[string, TaskInfo, string]> = [
    ['more cpus than offered', taskInfo('big', 'cpus:5;mem:64'), '.resources'],
    ['ports not offered', taskInfo('ports', 'cpus:1;ports:[40000-40000]'), '.resources'],
    ['negative cpus', { ...taskInfo('neg'), resources: [{ name: 'cpus', type: 'SCALAR', scalar: -1 }] }, '.resources'],
    ['NaN cpus', { ...taskInfo('nan'), resources: [{ name: 'cpus', type: 'SCALAR', scalar: Number.NaN }, { name: 'mem', type: 'SCALAR', scalar: 32 }] }, '.resources'],
    ['zero cpus', { ...taskInfo('zero'), resources: [{ name: 'cpus', type: 'SCALAR', scalar: 0 }, { name: 'mem', type: 'SCALAR', scalar: 32 }] }, '.resources'],
    ['no resources', { ...taskInfo('none'), resources: [] }, '.resources'],
    ['no command or container', { name: 'bare', taskId: 'bare', resources: taskInfo('x').resources }, 'taskInfos[0]'],
    ['a slash in the id', taskInfo('a/b'), '.taskId'],
    ['a space in the id', taskInfo('has space'), '.taskId'],
    ['an empty id', taskInfo(''), '.taskId'],
  ];

  for (const [what, task, field] of badTasks) {
    it(`answers a task with ${what} with TASK_ERROR naming the field, and launches nothing`, async () => {
      const { h, agent, fw } = await setup();
      const { mark, launched } = await launchBad(h, fw, agent, [task]);
      const [status] = fw.updates(task.taskId, mark);
      expect(status).toMatchObject({ state: 'TASK_ERROR', reason: 'REASON_TASK_INVALID', source: 'SOURCE_MASTER' });
      expect(status?.message).toContain(field);
      expect(h.state.liveTaskCount()).toBe(0);
      expect(h.taskAllocation(agent.agentId).isEmpty()).toBe(true);
      await holdsFor(50, () => expect(launched()).toEqual([]), 'no launch reaches the agent');
    });
  }

  it('launches the good tasks of a call and errors the bad ones; a reused id (live, or twice in the call) is an error', async () => {
    const { h, agent, fw } = await setup();
    const first = await fw.nextOffer();
    await fw.launch(first, [taskInfo('live', 'cpus:1;mem:128')], { refuseSeconds: 0 });
    await agent.waitForLaunch('live');
    const { mark, launched } = await launchBad(h, fw, agent, [
      taskInfo('ok', 'cpus:1;mem:128'),
      taskInfo('live', 'cpus:1;mem:128'),
      taskInfo('twice', 'cpus:0.5;mem:64'),
      taskInfo('twice', 'cpus:0.5;mem:64'),
    ], false, ['live', 'twice']);
    expect(fw.updates('live', mark).map((s) => s.state)).toEqual(['TASK_ERROR']);
    expect(fw.updates('live', mark)[0]?.message).toMatch(/already in use/);
    expect(fw.updates('twice', mark).map((s) => s.state)).toEqual(['TASK_ERROR']);
    expect(fw.updates('twice', mark)[0]?.message).toMatch(/twice/);
    expect(fw.updates('ok', mark)).toEqual([]);
    await agent.waitForLaunch('ok');
    expect(launched().flatMap((m) => m.launch?.tasks.map((t) => t.taskId) ?? [])).toEqual(['ok', 'twice']);
    // The first 'twice' was launched; the live task is untouched.
    expect(h.state.task(fw.frameworkId, 'twice')?.state).toBe('TASK_STAGING');
    expect(h.state.task(fw.frameworkId, 'live')?.state).toBe('TASK_STAGING');
    expect(h.taskAllocation(agent.agentId).format()).toBe('cpus:2.5;mem:320');
    h.invariant();
  });

  it('errors every task of a launch group with one bad task, and launches none', async () => {
    const { h, agent, fw } = await setup();
    const { mark, launched } = await launchBad(h, fw, agent, [taskInfo('g1'), taskInfo('g2', 'cpus:99;mem:1'), taskInfo('g3')], true);
    for (const id of ['g1', 'g2', 'g3']) {
      expect(fw.updates(id, mark).map((s) => [s.state, s.reason])).toEqual([['TASK_ERROR', 'REASON_TASK_GROUP_INVALID']]);
    }
    expect(h.state.liveTaskCount()).toBe(0);
    await holdsFor(50, () => expect(launched()).toEqual([]), 'no launch reaches the agent');
    h.invariant();
  });

  it('ignores an agent\'s update for a task that runs on another agent (nothing is freed twice)', async () => {
    const h = await MasterHarness.start();
    const a = await h.agent({ resources: 'cpus:4;mem:4096' });
    const b = await h.agent({ resources: 'cpus:4;mem:4096' });
    const fw = await h.framework({ autoAck: true });
    const offer = await fw.nextOffer({ agentId: a.agentId });
    await fw.launch(offer, [taskInfo('t1', 'cpus:1;mem:128')]);
    await a.waitForLaunch('t1');
    const bogus = b.update(fw.frameworkId, 't1', 'TASK_FINISHED');
    await b.waitForAck(bogus.uuid as string);
    expect(h.state.task(fw.frameworkId, 't1')).toMatchObject({ state: 'TASK_STAGING', agentId: a.agentId, holdsResources: true });
    expect(h.taskAllocation(a.agentId).format()).toBe('cpus:1;mem:128');
    h.invariant();
  });

  it('refuses an offer for an agent that went away after the offer was made', async () => {
    const { h, agent, fw } = await setup();
    const offer = await fw.nextOffer();
    agent.crash();
    await eventually(() => h.state.agent(agent.agentId)?.state !== 'connected');
    const err = await fw.launch(offer, [taskInfo('t1')]).catch((e: unknown) => e);
    // The offer was rescinded when the agent disconnected: a FAILED_PRECONDITION, nothing launched.
    expect(err).toMatchObject({ code: 'AGORA_FAILED_PRECONDITION', field: 'offerIds[0]' });
    expect(h.state.liveTaskCount()).toBe(0);
    h.invariant();
  });
});

describe('bad subscriptions', () => {
  const cases: Array<[string, Parameters<typeof TestFramework.subscribe>[1], string]> = [
    ['a missing name', { name: '' }, 'frameworkInfo.name'],
    ['a role with a space', { roles: ['bad role'] }, 'frameworkInfo.roles[0]'],
    ['a role starting with a dot', { roles: ['ok', '.hidden'] }, 'frameworkInfo.roles[1]'],
    ['a role given twice', { roles: ['a', 'a'] }, 'frameworkInfo.roles[1]'],
    ['a negative failover timeout', { failoverTimeoutSeconds: -1 }, 'frameworkInfo.failoverTimeoutSeconds'],
    ['a bad id', { id: 'bad id' }, 'frameworkInfo.id'],
    ['a suppressed role it does not have', { roles: ['a'], suppressedRoles: ['b'] }, 'suppressedRoles[0]'],
  ];
  for (const [what, options, field] of cases) {
    it(`rejects ${what} with INVALID_ARGUMENT naming ${field}`, async () => {
      const h = await MasterHarness.start();
      const err = await rejection(TestFramework.subscribe(h.address, options));
      expect(err).toMatchObject({ code: 'AGORA_INVALID_ARGUMENT', field });
      expect(h.state.frameworkCount()).toBe(0);
      h.invariant();
    });
  }
});

describe('a random walk of good and bad calls', () => {
  it('keeps allocated + available = total and allocated = offers + tasks on every agent, after every step (seed 42, 200 steps)', async () => {
    const h = await MasterHarness.start();
    const agents = [await h.agent({ resources: 'cpus:4;mem:2048;ports:[31000-31019]' }), await h.agent({ resources: 'cpus:2;mem:4096' })];
    const frameworks = [await h.framework({ name: 'one', autoAck: true }), await h.framework({ name: 'two', autoAck: true, capabilities: ['PARTITION_AWARE'] })];
    const random = new SeededRandom(42);
    const counts = new Map<string, number>();
    let taskCounter = 0;

    const pick = <T,>(items: readonly T[]): T => items[randomInt(random, items.length)] as T;
    const liveOffers = (fw: TestFramework): Offer__Output[] => fw.offersSeen().filter((o) => h.state.offer(o.id) !== undefined);
    const deadOffers = (fw: TestFramework): Offer__Output[] => fw.offersSeen().filter((o) => h.state.offer(o.id) === undefined);
    const tasksOf = (fw: TestFramework) => h.state.tasksOfFramework(fw.frameworkId);
    const swallow = (p: Promise<unknown>): Promise<unknown> => p.catch((err: unknown) => err);
    const newTask = (rnd: Random, offer: Offer__Output): TaskInfo => {
      const have = offerResources(offer);
      const cpus = Math.max(0.1, Math.round(have.scalar('cpus') * rnd.next() * 10) / 10);
      const mem = Math.max(16, Math.round(have.scalar('mem') * rnd.next()));
      return taskInfo(`t${++taskCounter}`, `cpus:${cpus};mem:${mem}`);
    };

    const steps: Record<string, (fw: TestFramework) => Promise<unknown>> = {
      launch: async (fw) => {
        const offer = liveOffers(fw)[0];
        if (!offer) return fw.revive();
        const n = 1 + randomInt(random, 3);
        return swallow(fw.launch(offer, Array.from({ length: n }, () => newTask(random, offer)), { refuseSeconds: pick([0, 0, 0.05]) }));
      },
      launchGroup: async (fw) => {
        const offer = liveOffers(fw)[0];
        if (!offer) return undefined;
        const bad = random.next() < 0.5;
        return swallow(fw.launchGroup(offer, [newTask(random, offer), bad ? taskInfo(`t${++taskCounter}`, 'cpus:99') : newTask(random, offer)], '', { refuseSeconds: 0 }));
      },
      decline: async (fw) => {
        const offers = liveOffers(fw);
        return offers.length === 0 ? undefined : swallow(fw.decline(offers, pick([0, 0.02, 0.1])));
      },
      staleOffer: async (fw) => {
        const offer = pick([...deadOffers(fw), ...liveOffers(frameworks[0] === fw ? (frameworks[1] as TestFramework) : (frameworks[0] as TestFramework))]);
        return offer ? swallow(fw.launch(offer, [taskInfo(`t${++taskCounter}`)])) : undefined;
      },
      badAccept: async (fw) => {
        const offers = liveOffers(fw);
        const offer = offers[0];
        if (!offer) return swallow(fw.launch([], [taskInfo('x')]));
        return swallow(
          pick([
            () => fw.launch([offer.id, offer.id], [taskInfo(`t${++taskCounter}`)]),
            () => fw.launch(offer, [taskInfo(`t${++taskCounter}`)], { refuseSeconds: -1 }),
            () => fw.launch(offer, [{ ...taskInfo(`t${++taskCounter}`), resources: [{ name: 'cpus', type: 'SCALAR', scalar: Number.NaN }] }]),
            () => fw.launch(offer, [taskInfo('bad/id'), taskInfo(`t${++taskCounter}`, 'cpus:1000')]),
            () => fw.launch(offer, [taskInfo(tasksOf(fw)[0]?.taskId ?? 'dup'), taskInfo(tasksOf(fw)[0]?.taskId ?? 'dup')]),
            () => fw.acceptOperations(offer, [{ reserve: { resources: [] } }]),
            () => fw.accept({ frameworkId: 'nobody', offerIds: [offer.id], operations: [] }),
          ])(),
        );
      },
      agentUpdate: async (fw) => {
        const task = pick(tasksOf(fw));
        const agent = agents.find((a) => a.agentId === task?.agentId);
        if (!task || !agent) return undefined;
        const state: TaskState = pick(['TASK_STARTING', 'TASK_RUNNING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_STAGING', 'TASK_ERROR']);
        agent.update(fw.frameworkId, task.taskId, state);
        return pace(3, 'the update reaches the master before the next step');
      },
      unknownUpdate: async (fw) => {
        pick(agents).update(pick([fw.frameworkId, 'nobody']), `ghost${randomInt(random, 5)}`, pick(['TASK_RUNNING', 'TASK_FINISHED']));
        return pace(3, 'the update reaches the master before the next step');
      },
      kill: async (fw) => swallow(fw.kill(pick(tasksOf(fw))?.taskId ?? 'nope')),
      reconcile: async (fw) => swallow(fw.reconcile(random.next() < 0.5 ? [] : [{ taskId: `t${randomInt(random, taskCounter + 1)}` }])),
      suppressRevive: async (fw) => swallow(random.next() < 0.3 ? fw.suppress() : fw.revive()),
    };
    const names = Object.keys(steps);
    for (let step = 0; step < 200; step++) {
      const name = pick(names);
      const fw = pick(frameworks);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      await (steps[name] as (fw: TestFramework) => Promise<unknown>)(fw);
      try {
        h.invariant();
      } catch (err) {
        throw new Error(`invariant broken after step ${step} (${name} by ${fw.info.name}): ${(err as Error).message}`, { cause: err });
      }
    }
    // Settle: finish every task, let updates land, and everything must be free again.
    for (const fw of frameworks) {
      await fw.suppress();
      for (const task of tasksOf(fw)) agents.find((a) => a.agentId === task.agentId)?.update(fw.frameworkId, task.taskId, 'TASK_FINISHED');
    }
    await eventually(() => h.state.liveTaskCount() === 0 && h.state.offerCount() === 0, { what: 'every task finished and no offers outstanding' });
    h.invariant();
    for (const agent of agents) expect(h.state.allocator.agent(agent.agentId)?.allocated.isEmpty()).toBe(true);
    expect(taskCounter).toBeGreaterThan(50);
    for (const name of names) expect(counts.get(name) ?? 0).toBeGreaterThan(5);
  });
});
