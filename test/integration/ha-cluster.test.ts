// The HA promise end to end, with real processes: masters (on a real ZooKeeper ensemble) and agents
// in their own processes, a framework launching all the while.
import { afterEach, describe, expect, it } from 'vitest';
import { Resources, resourcesToWire, FrameworkDriver, isTerminal, wasRefused, type TaskStatus } from '../../sdk/index.js';
import { AgentProcess } from '../support/agent-harness.js';
import { eventually } from '../support/master-harness.js';
import { getJson, killMasters, spawnMaster, type MasterProcess } from '../support/master-process.js';
import { testServices } from '../support/services.js';
import { tempDir } from '../support/tmp.js';
import { driverAccess, secureFetch } from '../support/security.js';
import { within } from '../support/waits.js';

const SESSION_MS = 2000;
const agents: AgentProcess[] = [];
const drivers: FrameworkDriver[] = [];
afterEach(async () => {
  await Promise.allSettled(drivers.splice(0).map((d) => d.teardown().catch(() => undefined).then(() => d.stop())));
  // SIGTERM with --kill-tasks-on-stop: the agents kill their tasks before they exit.
  await Promise.allSettled(agents.splice(0).map(async (a) => {
    a.kill('SIGTERM');
    await within(a.exited, 8000, undefined);
    a.kill('SIGKILL');
  }));
  await killMasters();
});

async function leaderOf(masters: readonly MasterProcess[], timeoutMs: number): Promise<MasterProcess> {
  return eventually(async () => {
    for (const m of masters) {
      const view = (await getJson(m.httpAddress, '/api/v1/leader').catch(() => ({ body: {} }))).body as { self?: boolean };
      if (view.self) return m;
    }
    throw new Error('no master leads');
  }, { timeoutMs, intervalMs: 25, what: 'a leading master' });
}

async function startAgent(zk: string, cluster: string, workDir?: string): Promise<AgentProcess> {
  const agent = await AgentProcess.start(zk, {
    workDir: workDir ?? (await tempDir('ha-agent')),
    flags: { cluster, killTasksOnStop: 'true', resources: 'cpus:2;mem:2048;disk:1024;ports:[31000-31099]', logLevel: 'info' },
  });
  agents.push(agent);
  return agent;
}

interface Tracker {
  launched: string[];
  /**
   * Launched tasks the master reported gone before they ever ran (the old leader acknowledged the
   * launch and died before its agent got it): told to the framework, and launched again.
   */
  neverRan: Set<string>;
  /** Agents the master reported gone (FAILURE events). */
  failedAgents: string[];
  updates: Map<string, TaskStatus[]>;
  latest(taskId: string): string | undefined;
}

/** A framework that launches one `sleep` task per offer until it has launched `total`. */
async function launchingFramework(zk: string, cluster: string, total: number, capabilities: Array<'PARTITION_AWARE'> = []): Promise<{ driver: FrameworkDriver; tracker: Tracker }> {
  const tracker: Tracker = {
    launched: [],
    neverRan: new Set(),
    failedAgents: [],
    updates: new Map(),
    latest: (id) => tracker.updates.get(id)?.at(-1)?.state,
  };
  const perTask = Resources.parse('cpus:0.1;mem:16');
  let launches = 0;
  const driver: FrameworkDriver = await FrameworkDriver.start(
    { master: zk, cluster, framework: { name: 'ha-launcher', failoverTimeoutSeconds: 600, capabilities }, reconnect: { initialMs: 50, maxMs: 400 }, reconcile: { initialMs: 200, maxMs: 800 }, ...driverAccess() },
    {
      offers: async (_driver, offers) => {
        for (const offer of offers) {
          if (tracker.launched.length >= total) {
            await driver.decline([offer], { refuseSeconds: 1 }).catch(() => undefined);
            continue;
          }
          const taskId = `t${++launches}`; // never reused: a task launched again gets a new id
          tracker.launched.push(taskId);
          await driver
            .launch([offer], [{ taskId, name: taskId, agentId: offer.agentId, resources: resourcesToWire(perTask), command: { value: 'sleep 600' }, killPolicy: { gracePeriodSeconds: 0.2 } }], { refuseSeconds: 0.05 })
            // As a framework must: remember what it launched, so a new leader is asked about it.
            .then(() => driver.reconciler.track({ taskId, agentId: offer.agentId }))
            .catch((err: unknown) => {
              // Refused (never sent, or the offer is gone): not launched, try again later. Else the
              // outcome is unknown — the old leader may have launched it and died before answering —
              // so it is asked about like the others: RUNNING, or gone before it ran (see update).
              if (wasRefused(err)) tracker.launched.splice(tracker.launched.indexOf(taskId), 1);
              else driver.reconciler.ask({ taskId, agentId: offer.agentId });
            });
        }
      },
      failure: (_driver, event) => void tracker.failedAgents.push(event.agentId),
      update: (_driver, status) => {
        const list = tracker.updates.get(status.taskId) ?? [];
        const ran = list.some((u) => u.state === 'TASK_RUNNING');
        list.push(status);
        tracker.updates.set(status.taskId, list);
        if (!ran && ['TASK_LOST', 'TASK_GONE', 'TASK_DROPPED', 'TASK_UNKNOWN'].includes(String(status.state)) && tracker.launched.includes(status.taskId)) {
          tracker.neverRan.add(status.taskId);
          tracker.launched.splice(tracker.launched.indexOf(status.taskId), 1);
        }
      },
    },
  );
  drivers.push(driver);
  return { driver, tracker };
}

async function agentState(agent: AgentProcess): Promise<{ tasks: Array<{ taskId: string; state: string; pid: number | null }>; statusUpdates: { pending: number } }> {
  const res = await secureFetch(`https://${agent.httpAddress}/api/v1/state`);
  return (await res.json()) as never;
}

describe('HA with real processes', () => {
  it('SIGKILL the leader while a framework keeps launching on 3 agents: nothing lost, nothing launched twice', async () => {
    const zk = `zk://${testServices().zkEnsemble}/agora`;
    const cluster = `hac${process.pid}a`;
    const masters = await Promise.all([0, 1, 2].map(() => spawnMaster(zk, cluster, { '--agent-reregister-timeout': '10s' })));
    const leader = await leaderOf(masters, 10_000);
    await Promise.all([0, 1, 2].map(() => startAgent(zk, cluster)));
    const total = 12;
    const { driver, tracker } = await launchingFramework(zk, cluster, total);
    await eventually(() => {
      const running = tracker.launched.filter((id) => tracker.latest(id) === 'TASK_RUNNING').length;
      if (running < 4) throw new Error(`${running} running`);
    }, { timeoutMs: 20_000, what: '4 tasks running' });

    const killedAt = Date.now();
    leader.kill('SIGKILL');
    const next = await leaderOf(masters.filter((m) => m !== leader), SESSION_MS + 6000);
    expect(Date.now() - killedAt).toBeLessThan(SESSION_MS + 2000);

    await eventually(() => {
      const running = tracker.launched.filter((id) => tracker.latest(id) === 'TASK_RUNNING').length;
      if (tracker.launched.length < total || running < total) {
        const waiting = tracker.launched.filter((id) => tracker.latest(id) !== 'TASK_RUNNING').map((id) => `${id}: ${(tracker.updates.get(id) ?? []).map((u) => `${u.state}/${u.reason}`).join(' ') || 'no update'}`);
        throw new Error(`${tracker.launched.length} launched, ${running} running; waiting: ${waiting.join('; ')}; gone before running: ${[...tracker.neverRan].join(' ')}`);
      }
    }, { timeoutMs: 40_000, what: `all ${total} tasks running` });
    expect(driver.masterAddress).toBe(next.grpcAddress);

    // Every task runs exactly once across the agents, and the new leader knows each as RUNNING. A task
    // reported gone before it ran left `launched` then, so this also says that none of those runs.
    const states = await Promise.all(agents.map(agentState));
    const onAgents = states.flatMap((s) => s.tasks.filter((t) => !isTerminal(t.state as never)).map((t) => t.taskId)).sort();
    expect(onAgents).toEqual([...tracker.launched].sort());
    const tasks = (await getJson(next.httpAddress, '/api/v1/tasks?state=running&limit=1000')).body as { total: number };
    expect(tasks.total).toBe(total);
    // No update lost: the framework saw every task reach RUNNING and nothing terminal; every update is acknowledged.
    for (const id of tracker.launched) expect(tracker.updates.get(id)?.some((u) => u.state === 'TASK_RUNNING'), id).toBe(true);
    expect([...tracker.updates.values()].flat().filter((u) => isTerminal(u.state as never) && !tracker.neverRan.has(u.taskId))).toEqual([]);
    await eventually(async () => {
      const pending = (await Promise.all(agents.map(agentState))).reduce((n, s) => n + s.statusUpdates.pending, 0);
      if (pending !== 0) throw new Error(`${pending} updates unacknowledged`);
    }, { timeoutMs: 10_000, what: 'every update acknowledged' });
  }, 120_000);

  it('an agent SIGKILLed is unreachable after the ping timeouts; restarted on its work dir, its tasks are reconciled', async () => {
    const zk = `zk://${testServices().zkEnsemble}/agora`;
    const cluster = `hac${process.pid}b`;
    const master = await spawnMaster(zk, cluster);
    await leaderOf([master], 10_000);
    const workDir = await tempDir('ha-agent');
    const agent = await startAgent(zk, cluster, workDir);
    const { tracker } = await launchingFramework(zk, cluster, 3, ['PARTITION_AWARE']);
    await eventually(() => {
      if (tracker.launched.filter((id) => tracker.latest(id) === 'TASK_RUNNING').length < 3) throw new Error('not yet');
    }, { timeoutMs: 20_000, what: '3 tasks running' });
    const pids = (await agentState(agent)).tasks.map((t) => t.pid);

    agent.kill('SIGKILL');
    await eventually(() => {
      if (!tracker.launched.every((id) => tracker.latest(id) === 'TASK_UNREACHABLE')) throw new Error('not unreachable yet');
    }, { timeoutMs: 10_000, what: 'tasks UNREACHABLE' });
    const agentsView = (await getJson(master.httpAddress, '/api/v1/agents')).body as { agents: Array<{ id: string; state: string }> };
    expect(agentsView.agents.map((a) => a.state)).toEqual(['unreachable']);
    expect(tracker.failedAgents).toContain(agentsView.agents[0]?.id);

    const again = await startAgent(zk, cluster, workDir);
    await eventually(() => {
      if (!tracker.launched.every((id) => tracker.latest(id) === 'TASK_RUNNING')) throw new Error('not running again yet');
    }, { timeoutMs: 15_000, what: 'tasks RUNNING again' });
    // The same processes: re-adopted, not relaunched.
    expect((await agentState(again)).tasks.map((t) => t.pid).sort()).toEqual([...pids].sort());
  }, 90_000);
});
