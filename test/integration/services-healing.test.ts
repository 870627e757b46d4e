// How services heal, on a real master and real agents running real processes: instances that all
// die at once come back at once (backoff belongs to an instance, not the service) while an instance
// that keeps failing backs off alone; and an instance whose agent stops answering (a SIGSTOPped
// agent process) is UNREACHABLE, replaced after unreachableStrategy.inactiveAfterSeconds, and when
// the agent comes back the surplus is killed, so the count is exact.
import { afterEach, describe, expect, it } from 'vitest';
import type { Instance } from '../../proto/index.js';
import { AgentProcess, startTestAgent } from '../support/agent-harness.js';
import { tempDir } from '../support/tmp.js';
import { sleepSpec, startCluster, stopClusters, until, type ServicesCluster } from './services-harness.js';
import { holdsFor } from '../support/waits.js';

afterEach(stopClusters);

async function status(c: ServicesCluster) {
  return (await c.services.get('sleepy')).serviceStatus!;
}

function running(c: ServicesCluster, n: number, what = `${n} running`) {
  return until(async () => {
    const s = await status(c);
    return s.running === n && s.tasks!.length === n && s;
  }, what);
}

async function killTask(c: ServicesCluster, taskId: string): Promise<void> {
  const frameworkId = (await c.state.get<{ id: string }>('framework'))!.value.id;
  const pgid = c.agents[0]!.tasks.task(frameworkId, taskId)?.container?.checkpoint['pgid'] as number;
  expect(pgid).toBeGreaterThan(0);
  process.kill(-pgid, 'SIGKILL');
}

const replaced = (before: readonly Instance[]) => (t: Instance) => !before.some((b) => b.taskId === t.taskId);

describe('services: healing', () => {
  it('instances killed all at once come back at once, while one killed again and again backs off alone', async () => {
    const c = await startCluster();
    await c.services.apply(sleepSpec({ instances: 8, backoff: { seconds: 5, factor: 2, maxLaunchDelaySeconds: 10 } }));
    const first = await running(c, 8);

    // One instance fails: its first relaunch is immediate.
    const looping = first.tasks![0]!.taskId!;
    await killTask(c, looping);
    const again = await until(async () => {
      const s = await status(c);
      return s.running === 8 && !s.tasks!.some((t) => t.taskId === looping) && s;
    }, 'the first failure relaunched at once', 2500);
    expect(again.backoffUntilMs).toBe(0);
    // It fails again: its second failure in a row waits 5 s.
    const relaunched = again.tasks!.find(replaced(first.tasks!))!.taskId!;
    await killTask(c, relaunched);
    const loopFailedAt = Date.now();
    const waiting = await until(async () => {
      const s = await status(c);
      return s.tasks!.length === 7 && /^1 instance\(s\) in restart backoff: /.test(s.pendingReason ?? '') && s;
    }, 'the looping instance in backoff');
    expect(waiting.pendingReason).toContain(`${relaunched} failed 2 time(s) in a row (TASK_FAILED: `);
    expect(Number(waiting.backoffUntilMs)).toBeGreaterThanOrEqual(loopFailedAt + 5000);

    // Meanwhile every other instance is killed at once: all come back at once, the looping one still waits.
    const others = waiting.tasks!;
    const killedAt = Date.now();
    await Promise.all(others.map((t) => killTask(c, t.taskId!)));
    const healed = await until(async () => {
      const s = await status(c);
      return s.running === 7 && s.tasks!.length === 7 && s.tasks!.every(replaced(others)) && s;
    }, 'the 7 others replaced');
    const healMs = Date.now() - killedAt;
    console.log(`[services-healing] 7 instances killed at once back in ${healMs} ms`);
    // …while the looping instance still waited (its backoff not over, not relaunched: 7 tasks).
    expect(Date.now()).toBeLessThan(Number(waiting.backoffUntilMs));
    expect(healed.pendingReason).toContain(`${relaunched} failed 2 time(s) in a row`);

    const back = await running(c, 8, 'the looping instance relaunched after its backoff');
    expect(Date.now() - loopFailedAt).toBeGreaterThanOrEqual(5000);
    expect(back.pendingReason).toBe('');
    expect(back.backoffUntilMs).toBe(0);
  });

  it('an unreachable instance is replaced after inactiveAfterSeconds; when its agent returns the surplus is killed', async () => {
    const c = await startCluster({ agents: [] });
    const frozen = await AgentProcess.start(c.master.address, { workDir: await tempDir('frozen-agent'), flags: { hostname: 'frozen', killTasksOnStop: 'true' } });
    try {
      await c.services.apply(sleepSpec({ instances: 2, unreachableStrategy: { inactiveAfterSeconds: 2, expungeAfterSeconds: 60 } }));
      const before = await running(c, 2);
      expect(before.tasks!.map((t) => t.hostname)).toEqual(['frozen', 'frozen']);
      c.agents.push(await startTestAgent(c.master.address, { hostname: 'survivor' }));

      frozen.kill('SIGSTOP');
      const unreachable = await until(async () => {
        const s = await status(c);
        return s.tasks!.filter((t) => t.state === 'TASK_UNREACHABLE').length === 2 && s;
      }, 'both instances UNREACHABLE');
      const seenAt = Date.now();
      expect(unreachable.tasks).toHaveLength(2); // nothing replaced yet
      const after = await until(async () => {
        const s = await status(c);
        return s.running === 2 && s.tasks!.filter((t) => t.hostname === 'survivor').length === 2 && s;
      }, 'two replacements on the survivor', 15_000);
      const firstReplacement = Math.min(...after.tasks!.filter((t) => t.hostname === 'survivor').map((t) => Number(t.stagedAtMs)));
      expect(firstReplacement - seenAt).toBeGreaterThanOrEqual(1500); // waited inactiveAfterSeconds (2 s) from UNREACHABLE
      expect(after.tasks!.filter((t) => t.state === 'TASK_UNREACHABLE')).toHaveLength(2);
      expect(after.backoffUntilMs).toBe(0); // an unreachable agent is not the task's failure

      frozen.kill('SIGCONT');
      const exact = await until(async () => {
        const s = await status(c);
        return s.tasks!.length === 2 && s.running === 2 && s;
      }, 'the surplus killed: exactly 2', 20_000);
      // The two that came back are the older ones: the replacements were the surplus.
      expect(exact.tasks!.map((t) => t.taskId).sort()).toEqual(before.tasks!.map((t) => t.taskId).sort());
      await holdsFor(1000, async () => {
        const now = await status(c);
        expect(now.tasks!.map((t) => t.taskId).sort()).toEqual(before.tasks!.map((t) => t.taskId).sort());
      }, 'no further kill or launch');
      const frameworkId = (await c.state.get<{ id: string }>('framework'))!.value.id;
      const onMaster = [...c.master.state.liveTasks()].filter((t) => t.frameworkId === frameworkId && !t.state.endsWith('KILLED'));
      expect(onMaster.map((t) => t.taskId).sort()).toEqual(before.tasks!.map((t) => t.taskId).sort());
      expect((await status(c)).tasks).toHaveLength(2);
    } finally {
      frozen.kill('SIGCONT');
      frozen.kill('SIGTERM');
      await frozen.exited;
    }
  });
});
