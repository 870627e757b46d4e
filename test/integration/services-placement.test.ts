// Where instances go and what survives: UNIQUE hostname across three agents (the fourth instance
// waits, saying why), an agent that dies has its instances started elsewhere (its tasks shown
// UNREACHABLE until forgotten), and a restarted
// services framework adopts the running tasks instead of launching new ones.
import { afterEach, describe, expect, it } from 'vitest';
import type { ServicesHandle } from '../../frameworks/services/index.js';
import { sleepSpec, startCluster, stopClusters, until } from './services-harness.js';
import { secureFetch } from '../support/security.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopClusters);

async function running(services: ServicesHandle, name: string, n: number) {
  return until(async () => {
    const s = (await services.get(name)).serviceStatus!;
    return s.running === n && s.tasks!.length === n && s;
  }, `${n} instances of ${name} running`);
}

describe('services: placement and failover', () => {
  it('spreads UNIQUE hostname instances over three agents and says why the fourth waits', async () => {
    const c = await startCluster({ agents: [{ hostname: 'h1' }, { hostname: 'h2' }, { hostname: 'h3' }] });
    await c.services.apply(sleepSpec({ instances: 4, constraints: [['hostname', 'UNIQUE']] }));
    const status = await until(async () => {
      const s = (await c.services.get('sleepy')).serviceStatus!;
      return s.running === 3 && /hostname UNIQUE/.test(s.pendingReason ?? '') && s;
    }, '3 running and the reason the fourth waits');
    expect(status.tasks!.map((t) => t.hostname).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(status.pendingReason).toMatch(/^no offer fits: hostname UNIQUE: a task already runs on host h[123]/);
    await c.services.scale('sleepy', 3);
    await until(async () => (await c.services.get('sleepy')).serviceStatus?.pendingReason === '', 'no reason left');
  });

  it('starts the instances of an agent that died on another agent', async () => {
    const c = await startCluster({ agents: [{ hostname: 'doomed', killTasksOnStop: 'true' }, { hostname: 'survivor' }] });
    await c.services.apply(sleepSpec({ instances: 2 }));
    const before = await running(c.services, 'sleepy', 2);
    expect(before.tasks!.map((t) => t.hostname).sort()).toEqual(['doomed', 'survivor']);
    await c.agents[0]!.stop();
    const after = await until(async () => {
      const s = (await c.services.get('sleepy')).serviceStatus!;
      return s.running === 2 && s.tasks!.filter((t) => t.state === 'TASK_RUNNING').every((t) => t.hostname === 'survivor') && s;
    }, 'both instances on the survivor');
    // The dead agent's task is UNREACHABLE (the framework is partition-aware), kept until
    // expungeAfterSeconds; it was replaced at once (inactiveAfterSeconds 0 by default).
    const doomed = before.tasks!.find((t) => t.hostname === 'doomed')!.taskId;
    expect(after.tasks!.find((t) => t.taskId === doomed)?.state).toBe('TASK_UNREACHABLE');
    expect(after.tasks!.filter((t) => t.state === 'TASK_RUNNING' && before.tasks!.some((b) => b.taskId === t.taskId))).toHaveLength(1);
    expect(after.backoffUntilMs).toBe(0); // a lost agent is not the task's failure
  });

  it('a restarted services framework adopts the running tasks: same ids, no duplicates', async () => {
    const c = await startCluster();
    await c.services.apply(sleepSpec());
    const before = await running(c.services, 'sleepy', 3);
    const frameworkId = (await c.state.get<{ id: string }>('framework'))!.value.id;
    const services = await c.restartServices();
    const adopted = await running(services, 'sleepy', 3);
    expect(adopted.tasks!.map((t) => t.taskId).sort()).toEqual(before.tasks!.map((t) => t.taskId).sort());
    await holdsFor(500, async () => {
      const later = (await services.get('sleepy')).serviceStatus!;
      expect(later.tasks!.map((t) => t.taskId).sort()).toEqual(before.tasks!.map((t) => t.taskId).sort());
    }, 'no relaunch follows the adoption');
    expect(c.master.state.tasksOnAgent(c.agents[0]!.agentId!).filter((t) => t.frameworkId === frameworkId)).toHaveLength(3);
    expect((await c.state.get<{ id: string }>('framework'))!.value.id).toBe(frameworkId);
    await services.scale('sleepy', 4);
    await running(services, 'sleepy', 4);
  });

  it('when the master removed the framework while it was away, it subscribes afresh and starts its services again', async () => {
    const c = await startCluster();
    await c.services.apply(sleepSpec({ instances: 2 }));
    const before = await running(c.services, 'sleepy', 2);
    const oldId = (await c.state.get<{ id: string }>('framework'))!.value.id;
    await c.services.stop();
    // An operator tears it down while it is away (no one else could: the id is its principal's).
    const res = await secureFetch(`https://${c.master.master.httpAddress}/api/v1/teardown`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ frameworkId: oldId }) });
    expect(res.status).toBe(200);
    const services = await c.restartServices();
    const newId = (await c.state.get<{ id: string }>('framework'))!.value.id;
    expect(newId).not.toBe(oldId);
    const after = await until(async () => {
      const s = (await services.get('sleepy')).serviceStatus!;
      return s.running === 2 && s.tasks!.every((t) => !before.tasks!.some((b) => b.taskId === t.taskId)) && s;
    }, 'two new instances under the new framework id');
    expect(after.tasks).toHaveLength(2);
  });
});
