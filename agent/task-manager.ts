// The task manager: runs the tasks the master sends, through an executor, and turns what happens
// to them into status updates.
//
//   launch ─► user ─► sandbox + journal ─► TASK_STARTING (durable) ─► executor.launch ─► TASK_RUNNING
//              │ (task-user.ts)                  │ user refused ─► TASK_FAILED   │ health checks ─► RUNNING(healthy)
//              any step failing (no sandbox, no journal, no exec) ─► TASK_FAILED naming the cause
//   kill / health failure / max completion time ─► (TASK_KILLING) ─► container.kill(grace)
//   container.wait() ─► ExitInfo ─► terminal update ─► … acknowledged ─► bookkeeping removed
//
// A task's record stays until its terminal update is acknowledged; then only its sandbox remains
// (listed among the completed tasks for the HTTP endpoints). Recovery lives in task-recovery.ts.
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { isTerminal, type TaskState } from '../core/task-state.js';
import type { AgentTask, FrameworkInfo__Output, HealthCheck__Output, KillPolicy__Output, TaskInfo__Output, TaskStatus } from '../proto/index.js';
import type { Checkpoint } from './checkpoint.js';
import type { Container, ContainerSpec, ExecutorKind, ExitInfo, Executor } from './executor.js';
import type { StatusUpdateManager } from './status-updates.js';
import { resolveTaskUser, type TaskUser, type TaskUserPolicy } from './task-user.js';
import type { UserIdentity } from './user-db.js';
import {
  buildSpec,
  HEALTH_CHECK_FAILED,
  inheritedEnv,
  isDockerTask,
  KILLED_BY_FRAMEWORK,
  launchFailure,
  maxCompletionCause,
  terminalStatus,
  type KillCause,
  withoutSecrets,
} from './task-spec.js';
import { reachableProbe, unreachableCause, watchReachable } from './task-reachable.js';
import { writeSecretFiles } from './secret-files.js';
import { taskKey, type CheckStarter, type CompletedTask, type TaskEntry } from './task-entry.js';

export { taskKey, type CheckEvents, type CheckStarter, type CompletedTask, type TaskEntry } from './task-entry.js';

export interface TaskManagerDeps {
  readonly checkpoint: Checkpoint;
  readonly updates: StatusUpdateManager;
  /** The executor of a kind (created once, on first use). */
  readonly executor: (kind: ExecutorKind) => Executor;
  readonly defaultExecutor: ExecutorKind;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly hostname: string;
  readonly agentId: () => string;
  readonly killGracePeriodMs: number;
  /** Who tasks run as: the host's users, and whether root may be one (--allow-root-tasks). */
  readonly users: TaskUserPolicy;
  readonly startCheck?: CheckStarter | undefined;
}

const MAX_COMPLETED = 1000;

export class TaskManager {
  readonly tasks = new Map<string, TaskEntry>();
  readonly completed: CompletedTask[] = [];
  readonly frameworks = new Map<string, FrameworkInfo__Output>();
  readonly #baseEnv = inheritedEnv();
  readonly #pending = new Set<Promise<unknown>>();
  #detached = false;

  constructor(readonly deps: TaskManagerDeps) {}

  // ---- queries ----

  task(frameworkId: string, taskId: string): TaskEntry | undefined {
    return this.tasks.get(taskKey(frameworkId, taskId));
  }

  /** What the agent reports when re-registering (and answering ReconcileTasks). */
  agentTasks(frameworkId = '', taskIds: readonly string[] = []): AgentTask[] {
    return [...this.tasks.values()]
      .filter((t) => (frameworkId === '' || t.frameworkId === frameworkId) && (taskIds.length === 0 || taskIds.includes(t.taskId)))
      .map((t) => ({
        frameworkId: t.frameworkId,
        task: t.info as AgentTask['task'],
        latestStatus: t.latest ?? this.#status(t, { state: 'TASK_STAGING', reason: 'REASON_UNSPECIFIED', message: '' }),
        unacknowledged: this.deps.updates.unacknowledged(t.frameworkId, t.taskId),
        launchedAtMs: t.launchedAtMs,
      }));
  }

  frameworkInfos(): FrameworkInfo__Output[] {
    const live = new Set([...this.tasks.values()].map((t) => t.frameworkId));
    return [...this.frameworks.values()].filter((f) => live.has(f.id));
  }

  /** Resolves when launches and endings in progress have finished their updates. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    await this.deps.updates.idle();
  }

  // ---- commands from the master ----

  async updateFramework(info: FrameworkInfo__Output): Promise<void> {
    if (!info.id) return;
    this.frameworks.set(info.id, info);
    await this.deps.checkpoint.writeFramework(info);
  }

  launch(frameworkId: string, frameworkInfo: FrameworkInfo__Output | null, info: TaskInfo__Output): void {
    if (this.task(frameworkId, info.taskId)) {
      this.deps.logger.warn({ frameworkId, taskId: info.taskId }, 'launch of a task the agent already has ignored');
      return;
    }
    const sandbox = this.deps.checkpoint.sandboxDir(frameworkId, info.taskId);
    const user = this.userOf(info, frameworkInfo?.id ? frameworkInfo : this.frameworks.get(frameworkId));
    // The entry exists at once, so a kill that arrives during the launch finds it.
    const entry = this.newEntry(frameworkId, info, sandbox, this.deps.clock.now(), this.executorKindOf(info), user);
    this.#track(this.#launch(entry, frameworkInfo));
  }

  kill(frameworkId: string, taskId: string, policy?: KillPolicy__Output | null, cause: KillCause = KILLED_BY_FRAMEWORK): void {
    const entry = this.task(frameworkId, taskId);
    if (!entry) {
      this.deps.logger.warn({ frameworkId, taskId }, 'kill for an unknown task ignored');
      return;
    }
    this.#track(this.#kill(entry, cause, this.#graceMs(entry, policy)));
  }

  killFramework(frameworkId: string, cause: KillCause): void {
    for (const entry of this.tasks.values()) if (entry.frameworkId === frameworkId) this.#track(this.#kill(entry, cause, this.#graceMs(entry)));
  }

  /** Kill every task and wait until each has ended and its terminal update is durable. */
  async killAll(cause: KillCause): Promise<void> {
    for (const entry of this.tasks.values()) this.#track(this.#kill(entry, cause, this.#graceMs(entry)));
    await this.idle();
  }

  /** Stop watching (health checks, timers) without touching the containers: they outlive the agent. */
  detach(): void {
    this.#detached = true;
    for (const entry of this.tasks.values()) this.#unwatch(entry);
  }

  /** The terminal update was acknowledged: forget the task, keep its sandbox. */
  async forget(frameworkId: string, taskId: string): Promise<void> {
    const entry = this.task(frameworkId, taskId);
    if (!entry) return;
    this.tasks.delete(taskKey(frameworkId, taskId));
    this.#unwatch(entry);
    this.completed.push({ frameworkId, taskId, name: entry.info.name, sandbox: entry.sandbox, state: entry.state, latest: entry.latest });
    if (this.completed.length > MAX_COMPLETED) this.completed.splice(0, this.completed.length - MAX_COMPLETED);
    // A task whose launch failed before its journal was made may have left part of its meta dir.
    await this.deps.checkpoint.removeTask(frameworkId, taskId).catch((err: unknown) => {
      if (entry.journaled) throw err;
    });
  }

  // ---- shared with recovery ----

  executorKindOf(task: TaskInfo__Output): ExecutorKind {
    return isDockerTask(task) ? 'docker' : this.deps.defaultExecutor;
  }

  /** Who the task runs as on this agent, or why it may not run here. */
  userOf(task: TaskInfo__Output, framework: FrameworkInfo__Output | undefined): TaskUser {
    return resolveTaskUser(task, framework, this.deps.users);
  }

  specFor(frameworkId: string, task: TaskInfo__Output, sandbox: string, user: UserIdentity): ContainerSpec {
    const runtimeDir = this.deps.checkpoint.taskMetaDir(frameworkId, task.taskId);
    return buildSpec(task, { frameworkId, agentId: this.deps.agentId(), hostname: this.deps.hostname, sandbox, runtimeDir, user, baseEnv: this.#baseEnv });
  }

  newEntry(frameworkId: string, info: TaskInfo__Output, sandbox: string, launchedAtMs: number, kind: ExecutorKind, user: TaskUser): TaskEntry {
    const identity = 'identity' in user ? user.identity : undefined;
    let refusal = 'refusal' in user ? user.refusal : undefined;
    let spec: ContainerSpec | undefined;
    try {
      if (identity) spec = this.specFor(frameworkId, info, sandbox, identity);
    } catch (err) {
      // What the master should have refused (resources that do not parse) fails the task, like a refused user.
      refusal = `the task cannot be run here: ${err instanceof Error ? err.message : String(err)}`;
    }
    const entry: TaskEntry = {
      frameworkId,
      taskId: info.taskId,
      // The values of secrets stay in the spec (memory) only: not in the journal, nor in any view.
      info: withoutSecrets(info),
      sandbox,
      launchedAtMs,
      executorKind: kind,
      user: identity,
      refusal,
      spec,
      journaled: false,
      state: 'TASK_STAGING',
      latest: undefined,
      container: undefined,
      cause: undefined,
      killing: false,
      healthy: undefined,
      ready: undefined,
      checks: [],
      healthCheckFailures: 0,
      completionTimer: undefined,
    };
    this.tasks.set(taskKey(frameworkId, info.taskId), entry);
    return entry;
  }

  /** Make `fields` the task's next update: journaled (durably) and queued for the master. */
  async report(entry: TaskEntry, fields: Pick<TaskStatus, 'state' | 'reason' | 'message'> & Partial<TaskStatus>): Promise<void> {
    entry.state = fields.state as TaskState;
    const status = this.#status(entry, fields);
    entry.latest = await this.deps.updates.update(entry.frameworkId, status, entry.journaled ? {} : { journal: false });
  }

  /** A container is running the task: report RUNNING (unless already), watch health, time and the exit. */
  adopt(entry: TaskEntry, container: Container, reportRunning: boolean): void {
    entry.container = container;
    this.#track(this.#adopt(entry, container, reportRunning));
  }

  /** The container ended (or never started): report how, unless the task is already over. */
  async finish(entry: TaskEntry, exit: ExitInfo): Promise<void> {
    // A detached manager has handed its tasks to the next agent on this work dir, which reports them.
    if (isTerminal(entry.state) || this.#detached) return;
    this.#unwatch(entry);
    const fields = terminalStatus(exit, entry.cause);
    this.deps.logger.info({ frameworkId: entry.frameworkId, taskId: entry.taskId, state: fields.state, exitCode: exit.exitCode, signal: exit.signal }, 'task ended');
    await this.report(entry, fields);
  }

  #track(promise: Promise<unknown>): void {
    const p = promise.catch((err: unknown) => this.deps.logger.error({ err }, 'task operation failed'));
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /**
   * Run the task; whatever stops the launch on the way — a framework record, sandbox or journal
   * that cannot be written (ENAMETOOLONG, ENOSPC, a file in the way), an update that cannot be
   * made durable — still ends the task: TASK_FAILED naming the cause, from memory when there is
   * no journal to make it durable in. A task never stays STAGING.
   */
  async #launch(entry: TaskEntry, frameworkInfo: FrameworkInfo__Output | null): Promise<void> {
    const step = { doing: 'record the framework' };
    try {
      await this.#start(entry, frameworkInfo, step);
    } catch (err) {
      // A terminal update already on its way says how the task ended; one that could not be
      // made durable (entry.state terminal, entry.latest not) is said again, from memory.
      if (entry.latest && isTerminal(entry.latest.state as TaskState)) throw err;
      this.deps.logger.warn({ err, frameworkId: entry.frameworkId, taskId: entry.taskId, step: step.doing }, 'task launch failed');
      const fields = launchFailure(step.doing, err);
      this.#unwatch(entry);
      await this.report(entry, fields).catch(async () => {
        entry.journaled = false;
        await this.report(entry, fields);
      });
    }
  }

  async #start(entry: TaskEntry, frameworkInfo: FrameworkInfo__Output | null, step: { doing: string }): Promise<void> {
    const { frameworkId, taskId, info, user } = entry;
    if (frameworkInfo?.id) await this.updateFramework(frameworkInfo);
    step.doing = "create the task's sandbox and journal";
    const { journal } = await this.deps.checkpoint.createTask(frameworkId, taskId, user);
    entry.journaled = true;
    step.doing = 'record the launch';
    // Written before the launch; made durable by the fsync of TASK_STARTING, which follows it.
    const record = { frameworkId, info, launchedAtMs: entry.launchedAtMs, ...(user ? { user } : { refusal: entry.refusal ?? '' }) };
    journal.append({ task: record }, false).catch((err: unknown) => this.deps.logger.warn({ err, frameworkId, taskId }, 'task journal append failed'));
    await this.report(entry, { state: 'TASK_STARTING', reason: 'REASON_UNSPECIFIED', message: '' });
    if (entry.cause) {
      await this.report(entry, { state: entry.cause.state, reason: 'REASON_TASK_KILLED_DURING_LAUNCH', message: `${entry.cause.message} (before it started)` });
      return;
    }
    if (!entry.spec) {
      this.deps.logger.warn({ frameworkId, taskId, refusal: entry.refusal }, 'task refused');
      await this.finish(entry, { launchFailed: true, message: entry.refusal ?? 'the task has no user to run as' });
      return;
    }
    const files = entry.spec.task.secrets?.files ?? [];
    if (files.length > 0) {
      step.doing = "write the task's files from secrets and configs";
      try {
        await writeSecretFiles(entry.sandbox, files, user);
      } catch (err) {
        await this.finish(entry, { launchFailed: true, message: err instanceof Error ? err.message : String(err) });
        return;
      }
    }
    step.doing = 'start the task';
    let container: Container;
    try {
      container = await this.deps.executor(entry.executorKind).launch(entry.spec);
    } catch (err) {
      this.deps.logger.warn({ err, frameworkId, taskId }, 'task launch failed');
      await this.finish(entry, { launchFailed: true, reason: errorReason(err), message: err instanceof Error ? err.message : String(err) });
      return;
    }
    journal.append({ container: { kind: entry.executorKind, checkpoint: container.checkpoint } }, false).catch((err: unknown) => this.deps.logger.warn({ err, frameworkId, taskId }, 'task journal append failed'));
    this.adopt(entry, container, true);
  }

  async #adopt(entry: TaskEntry, container: Container, reportRunning: boolean): Promise<void> {
    const ended = container.wait();
    // A container that never started has already ended: no RUNNING for it.
    const early = await Promise.race([ended, Promise.resolve(undefined)]);
    if (early?.launchFailed) {
      await this.finish(entry, early);
      return;
    }
    const carried = (container as { healthy?: unknown }).healthy;
    if (typeof carried === 'boolean') entry.healthy = carried; // the fake executor's stand-in for a health check
    const probe = reachableProbe(entry, container, Boolean(entry.info.readinessCheck && isConfigured(entry.info.readinessCheck)));
    if (probe) entry.ready = false;
    if (reportRunning && !entry.cause) {
      const pid = container.checkpoint['pid'];
      const containerStatus = { containerId: String(container.checkpoint['containerId'] ?? entry.taskId), ...(typeof pid === 'number' ? { executorPid: pid } : {}) };
      await this.report(entry, { state: 'TASK_RUNNING', reason: 'REASON_UNSPECIFIED', message: '', containerStatus });
    }
    if (entry.cause) this.#track(this.#kill(entry, entry.cause, this.#graceMs(entry)));
    else {
      this.#watch(entry);
      if (probe) {
        void watchReachable(entry, probe, {
          ready: () => this.#checkChanged(entry, 'ready', true),
          unreachable: (message) => this.#track(this.#kill(entry, unreachableCause(message), this.#graceMs(entry))),
        });
      }
    }
    // Not awaited: idle() waits for launches and kills, not for containers to end by themselves.
    void ended.then((exit) => this.#track(this.finish(entry, exit)));
  }

  async #kill(entry: TaskEntry, cause: KillCause, graceMs: number): Promise<void> {
    if (isTerminal(entry.state) || entry.killing) return;
    entry.cause ??= cause;
    if (!entry.container) return; // still launching: #launch sees the cause
    entry.killing = true;
    this.#unwatch(entry);
    const framework = this.frameworks.get(entry.frameworkId);
    if (framework?.capabilities.includes('TASK_KILLING_STATE')) {
      await this.report(entry, { state: 'TASK_KILLING', reason: entry.cause.reason, message: entry.cause.message });
    }
    this.deps.logger.info({ frameworkId: entry.frameworkId, taskId: entry.taskId, reason: entry.cause.reason, graceMs }, 'killing task');
    await entry.container.kill(graceMs);
  }

  #watch(entry: TaskEntry): void {
    const seconds = entry.info.maxCompletionTimeSeconds;
    if (seconds !== undefined && seconds !== null && seconds > 0) {
      const leftMs = entry.launchedAtMs + seconds * 1000 - this.deps.clock.now();
      entry.completionTimer = this.deps.clock.setTimeout(() => this.#track(this.#kill(entry, maxCompletionCause(seconds), this.#graceMs(entry))), Math.max(0, leftMs));
    }
    const start = this.deps.startCheck;
    if (!start || !entry.spec) return;
    const spec = entry.spec;
    const health = entry.info.healthCheck;
    if (health && isConfigured(health)) {
      entry.checks.push(
        start(health, spec, {
          onResult: (healthy) => this.#checkChanged(entry, 'healthy', healthy),
          onFailed: () => this.#track(this.#kill(entry, HEALTH_CHECK_FAILED, this.#graceMs(entry))),
          onCheck: (healthy, ignored) => {
            if (!healthy && !ignored) entry.healthCheckFailures += 1;
          },
        }),
      );
    }
    const readiness = entry.info.readinessCheck;
    if (readiness && isConfigured(readiness)) entry.checks.push(start(readiness, spec, { onResult: (ready) => this.#checkChanged(entry, 'ready', ready) }));
  }

  /** Health and readiness ride on RUNNING updates, one update per change. */
  #checkChanged(entry: TaskEntry, field: 'healthy' | 'ready', value: boolean): void {
    if (entry.killing || entry.state !== 'TASK_RUNNING' || entry[field] === value) return;
    entry[field] = value;
    const reason = field === 'healthy' ? 'REASON_TASK_HEALTH_CHECK_STATUS_UPDATED' : 'REASON_TASK_CHECK_STATUS_UPDATED';
    const message = field === 'healthy' ? (value ? 'healthy' : 'unhealthy') : value ? 'ready' : 'not ready';
    this.#track(this.report(entry, { state: 'TASK_RUNNING', reason, message }));
  }

  #unwatch(entry: TaskEntry): void {
    for (const check of entry.checks.splice(0)) check.stop();
    this.deps.clock.clearTimeout(entry.completionTimer);
    entry.completionTimer = undefined;
  }

  #graceMs(entry: TaskEntry, policy?: KillPolicy__Output | null): number {
    const seconds = policy?.gracePeriodSeconds ?? entry.info.killPolicy?.gracePeriodSeconds;
    return seconds === undefined || seconds === null ? this.deps.killGracePeriodMs : Math.max(0, seconds * 1000);
  }

  #status(entry: TaskEntry, fields: Pick<TaskStatus, 'state' | 'reason' | 'message'> & Partial<TaskStatus>): TaskStatus {
    const running = fields.state === 'TASK_RUNNING';
    const healthy = fields.healthy ?? (running ? entry.healthy : undefined);
    const ready = fields.ready ?? (running ? entry.ready : undefined);
    return {
      taskId: entry.taskId,
      source: 'SOURCE_EXECUTOR',
      timestampMs: this.deps.clock.now(),
      agentId: this.deps.agentId(),
      executorId: entry.info.executorId || entry.taskId,
      ...fields,
      ...(healthy === undefined ? {} : { healthy }),
      ...(ready === undefined ? {} : { ready }),
      uuid: '',
    };
  }
}

/** A check with a type, or with the settings of one. */
function isConfigured(check: HealthCheck__Output): boolean {
  return check.type !== 'CHECK_TYPE_UNSPECIFIED' || Boolean(check.http ?? check.tcp ?? check.command);
}

function errorReason(err: unknown): string | undefined {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' && reason.startsWith('REASON_') ? reason : undefined;
}
