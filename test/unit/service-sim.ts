// A tiny simulation of the services scheduler around the pure planner, for unit tests: plans are
// applied at once (launches become STAGING tasks, kills mark tasks), and tests move tasks through
// their states by hand (a relaunch carries its instance's failures on, as the launcher does). Time
// is a number the test advances; nothing sleeps.
import { FakeClock } from '../../core/clock.js';
import type { TaskState } from '../../core/task-state.js';
import * as d from '../../frameworks/services/deployments.js';
import { relaunchesOf, type DeploymentRecord, type Relaunch, type ServiceRecord, type TaskView } from '../../frameworks/services/model.js';
import { isAvailable, isLive, plan, taskEnded, type Plan } from '../../frameworks/services/planner.js';
import { parseServiceSpec } from '../../frameworks/services/spec.js';
import { specOf } from '../../frameworks/services/model.js';

export const BASE = { name: 'web', instances: 3, command: 'sleep 600', resources: { cpus: 0.1, mem: 32 } };

export class Sim {
  record: ServiceRecord | undefined;
  readonly tasks = new Map<string, TaskView>();
  readonly clock = new FakeClock(Date.UTC(2026, 0, 1));
  #n = 0;
  #deployments = 0;
  backoffResetMs = 60_000;
  last: Plan | undefined;

  /** The fake clock's time; tests move it forward (`sim.now += 1000`). */
  get now(): number {
    return this.clock.now();
  }

  set now(ms: number) {
    this.clock.setTime(ms);
  }

  get service(): ServiceRecord {
    if (!this.record) throw new Error('no service');
    return this.record;
  }

  get deployment(): DeploymentRecord | undefined {
    return this.record?.deployments.at(-1);
  }

  ctx(): d.Context {
    return { now: this.now, tasks: [...this.tasks.values()], newId: () => `d${++this.#deployments}` };
  }

  apply(spec: Record<string, unknown>): d.ApplyChange {
    const out = d.applySpec(this.record, parseServiceSpec({ ...BASE, ...spec }), this.ctx());
    this.record = out.record;
    return out;
  }

  change(fn: (r: ServiceRecord, ctx: d.Context) => d.Outcome): d.Outcome {
    const out = fn(this.service, this.ctx());
    this.record = out.record;
    return out;
  }

  /** Plan and carry the plan out (again after a revert, as the scheduler does). */
  step(): Plan {
    const p = plan(this.service, [...this.tasks.values()], this.now);
    for (const id of p.expunge) this.tasks.delete(id);
    const tasks = Object.fromEntries(Object.entries(this.service.tasks).filter(([id]) => !p.expunge.includes(id)));
    this.record = d.settle({ ...this.service, tasks, relaunches: p.relaunches }, p.deployment, p.revert, this.now);
    for (const k of p.kill) this.set(k.taskId, { killRequestedAtMs: this.now });
    for (const l of p.launches) for (let i = 0; i < l.count; i++) this.#launch(l.version, l.canary, l.relaunches?.[i]);
    this.last = p;
    return p.revert ? this.step() : p;
  }

  /** As the launcher: the new task carries the failed instance's count on, and its backoff entry goes. */
  #launch(version: string, canary: boolean, relaunch: Relaunch | undefined): void {
    const taskId = `web.${version}.${++this.#n}`;
    const task: TaskView = {
      taskId, version, agentId: 'a1', hostname: 'h1', attributes: {}, ports: [], stagedAtMs: this.now, canary, state: 'TASK_STAGING', confirmed: true, startedAtMs: 0, message: '',
      ...(relaunch ? { failures: relaunch.failures } : {}),
    };
    this.tasks.set(taskId, task);
    const relaunches = relaunchesOf(this.service).filter((r) => r.taskId !== relaunch?.taskId);
    this.record = { ...this.service, relaunches, tasks: { ...this.service.tasks, [taskId]: task } };
  }

  set(taskId: string, fields: Partial<TaskView>): void {
    const t = this.tasks.get(taskId);
    if (!t) throw new Error(`no task ${taskId}`);
    this.tasks.set(taskId, { ...t, ...fields });
  }

  /** STAGING tasks start RUNNING (healthy when `healthy` is given). */
  run(healthy?: boolean, which: (t: TaskView) => boolean = () => true): void {
    for (const t of this.liveTasks()) {
      if (!which(t) || t.killRequestedAtMs !== undefined) continue;
      if (t.state === 'TASK_STAGING') this.set(t.taskId, { state: 'TASK_RUNNING', startedAtMs: this.now });
      if (healthy !== undefined && t.healthy !== healthy) this.set(t.taskId, { healthy, ...(healthy ? { healthySinceMs: this.now } : {}) });
    }
  }

  /** Tasks asked to die are gone. */
  reap(): void {
    for (const t of this.liveTasks()) if (t.killRequestedAtMs !== undefined) this.end(t.taskId, 'TASK_KILLED', 'REASON_KILLED_BY_FRAMEWORK');
  }

  end(taskId: string, state: TaskState, reason = 'REASON_COMMAND_EXECUTOR_FAILED'): void {
    const t = this.tasks.get(taskId)!;
    const out = taskEnded(this.service, t, { state, reason }, this.now, this.backoffResetMs);
    const { [taskId]: _gone, ...rest } = this.service.tasks;
    this.record = { ...this.service, relaunches: out.relaunches, tasks: rest };
    if (out.deployment) this.record = d.settle(this.record, out.deployment, undefined, this.now);
    this.tasks.delete(taskId);
  }

  /** The task's agent stops answering: TASK_UNREACHABLE (the framework is partition-aware). */
  unreachable(taskId: string): void {
    this.set(taskId, { state: 'TASK_UNREACHABLE', unreachableSinceMs: this.now });
  }

  liveTasks(): TaskView[] {
    return [...this.tasks.values()].filter(isLive);
  }

  available(version?: string): TaskView[] {
    return this.liveTasks().filter((t) => t.killRequestedAtMs === undefined && (version === undefined || t.version === version) && isAvailable(t, specOf(this.service, t.version)));
  }

  byVersion(version: string): TaskView[] {
    return this.liveTasks().filter((t) => t.version === version && t.killRequestedAtMs === undefined);
  }

  /** Run to a steady state: plan, start everything healthy, reap kills, until nothing changes. */
  settle(healthy = true, rounds = 50): void {
    for (let i = 0; i < rounds; i++) {
      const p = this.step();
      const staging = this.liveTasks().some((t) => t.state === 'TASK_STAGING' || (t.state === 'TASK_RUNNING' && t.healthy !== healthy));
      const killing = this.liveTasks().some((t) => t.killRequestedAtMs !== undefined);
      if (p.launches.length === 0 && p.kill.length === 0 && !staging && !killing) return;
      this.run(healthy);
      this.reap();
    }
    throw new Error('no steady state');
  }
}
