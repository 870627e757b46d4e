// Pure helpers of the task manager: what a task's container is given (environment, ports, limits)
// and which terminal status an ending becomes. No I/O, so they are unit-tested directly.
import { isTerminal, type TaskState } from '../core/task-state.js';
import { resourcesFromWire } from '../core/wire.js';
import type { TaskInfo__Output, TaskStatus, TaskStatusReason } from '../proto/index.js';
import type { ContainerSpec, ExitInfo } from './executor.js';
import { userEnv } from './task-user.js';
import type { UserIdentity } from './user-db.js';

export interface SpecContext {
  readonly frameworkId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly sandbox: string;
  /** The agent's directory for the executor's own files (the task's meta dir). */
  readonly runtimeDir: string;
  /** Who the task runs as. */
  readonly user: UserIdentity;
  /** Variables a plain process inherits from the agent (PATH, HOME, ...); not given to containers. */
  readonly baseEnv: Readonly<Record<string, string>>;
}

/** Agent variables a command task sees, as Mesos's command executor passes them on. */
export const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'USER', 'LOGNAME', 'SHELL', 'TMPDIR'] as const;

export function inheritedEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  out['PATH'] ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return out;
}

export function isDockerTask(task: TaskInfo__Output): boolean {
  return Boolean(task.container?.docker?.image);
}

/** The task's host ports in the order of its port ranges, named from its discovery info. */
export function taskPorts(task: TaskInfo__Output): { number: number; name?: string }[] {
  const numbers: number[] = [];
  for (const r of task.resources ?? []) {
    if (r.name !== 'ports') continue;
    for (const range of r.ranges ?? []) for (let p = Number(range.begin); p <= Number(range.end); p++) numbers.push(p);
  }
  const named = new Map<number, string>();
  const discovery = task.discovery?.ports ?? [];
  for (const [i, port] of discovery.entries()) {
    if (!port.name) continue;
    // A discovery port names its number when that number is one of the task's; else its position.
    const number = port.number && numbers.includes(port.number) ? port.number : numbers[i];
    if (number !== undefined && !named.has(number)) named.set(number, port.name);
  }
  return numbers.map((number) => {
    const name = named.get(number);
    return name === undefined ? { number } : { number, name };
  });
}

export function envName(portName: string): string {
  return `PORT_${portName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function buildSpec(task: TaskInfo__Output, ctx: SpecContext): ContainerSpec {
  const resources = resourcesFromWire(task.resources, 'task.resources');
  const ports = taskPorts(task);
  // A process sees its own user's USER, LOGNAME and HOME, not the agent's; a container's come
  // from its image.
  const env: Record<string, string> = isDockerTask(task) ? {} : { ...ctx.baseEnv, ...userEnv(ctx.user) };
  Object.assign(env, {
    AGORA_TASK_ID: task.taskId,
    AGORA_FRAMEWORK_ID: ctx.frameworkId,
    AGORA_AGENT_ID: ctx.agentId,
    AGORA_SANDBOX: ctx.sandbox,
    HOST: ctx.hostname,
  });
  for (const [i, port] of ports.entries()) {
    env[`PORT${i}`] = String(port.number);
    if (port.name) env[envName(port.name)] = String(port.number);
  }
  if (ports[0]) env['PORT'] = String(ports[0].number);
  env['PORTS'] = ports.map((p) => p.number).join(',');
  for (const v of task.command?.environment?.variables ?? []) if (v.name) env[v.name] = v.value ?? '';
  // Values of Secrets and Configs come last: the task asked for these names explicitly.
  for (const v of task.secrets?.env ?? []) if (v.name) env[v.name] = v.value ?? '';
  return {
    frameworkId: ctx.frameworkId,
    taskId: task.taskId,
    task,
    sandbox: ctx.sandbox,
    runtimeDir: ctx.runtimeDir,
    user: ctx.user,
    env,
    cpus: resources.scalar('cpus'),
    memMb: resources.scalar('mem'),
    ports,
  };
}

/** Why the agent itself ended a task: decides the terminal state instead of the exit status. */
export interface KillCause {
  readonly state: 'TASK_KILLED' | 'TASK_FAILED';
  readonly reason: TaskStatusReason;
  readonly message: string;
}

export const KILLED_BY_FRAMEWORK: KillCause = { state: 'TASK_KILLED', reason: 'REASON_KILLED_BY_FRAMEWORK', message: 'killed at the request of the framework' };
export const HEALTH_CHECK_FAILED: KillCause = { state: 'TASK_KILLED', reason: 'REASON_HEALTH_CHECK_FAILED', message: 'health check failed' };
export const FRAMEWORK_REMOVED: KillCause = { state: 'TASK_KILLED', reason: 'REASON_FRAMEWORK_REMOVED', message: 'the framework was shut down' };
export const AGENT_SHUTDOWN: KillCause = { state: 'TASK_KILLED', reason: 'REASON_AGENT_REMOVED', message: 'the agent is shutting down' };
export const AGENT_STOPPING: KillCause = { state: 'TASK_KILLED', reason: 'REASON_AGENT_RESTARTED', message: 'the agent stopped and was told to kill its tasks' };

export function maxCompletionCause(seconds: number): KillCause {
  return { state: 'TASK_FAILED', reason: 'REASON_MAX_COMPLETION_TIME_REACHED', message: `the task ran longer than its max completion time (${seconds} s)` };
}

type StatusFields = Pick<TaskStatus, 'state' | 'reason' | 'message' | 'exitCode' | 'termSignal'>;

/** The terminal status for how a container ended, and why (when the agent ended it). */
export function terminalStatus(exit: ExitInfo, cause: KillCause | undefined): StatusFields {
  const code = exit.exitCode === undefined ? {} : { exitCode: exit.exitCode };
  const signal = exit.signal === undefined ? {} : { termSignal: signalNumber(exit.signal) };
  if (exit.launchFailed) {
    return { state: 'TASK_FAILED', reason: (exit.reason ?? 'REASON_CONTAINER_LAUNCH_FAILED') as TaskStatusReason, message: exit.message, ...code };
  }
  // A limit the container hit (memory, disk) explains the end better than our own kill.
  if (exit.reason && exit.reason.startsWith('REASON_CONTAINER_LIMITATION')) {
    return { state: 'TASK_FAILED', reason: exit.reason as TaskStatusReason, message: exit.message, ...code, ...signal };
  }
  if (cause) return { state: cause.state, reason: cause.reason, message: cause.message, ...code, ...signal };
  if (exit.exitCode === 0) return { state: 'TASK_FINISHED', reason: 'REASON_UNSPECIFIED', message: exit.message || 'exited 0', ...code };
  if (exit.killed) return { state: 'TASK_KILLED', reason: (exit.reason ?? 'REASON_UNSPECIFIED') as TaskStatusReason, message: exit.message, ...code, ...signal };
  return { state: 'TASK_FAILED', reason: (exit.reason ?? 'REASON_COMMAND_EXECUTOR_FAILED') as TaskStatusReason, message: exit.message, ...code, ...signal };
}

/** Longest error text a launch failure's message carries (a path in it may be kilobytes). */
const MAX_CAUSE = 300;

/** TASK_FAILED for a launch that failed while the agent tried to `doing` (its cause in the message). */
export function launchFailure(doing: string, err: unknown): StatusFields & { state: 'TASK_FAILED' } {
  const text = err instanceof Error ? err.message : String(err);
  const cause = text.length > MAX_CAUSE ? `${text.slice(0, MAX_CAUSE)}…` : text;
  return { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message: `could not ${doing}: ${cause}` };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

function signalNumber(signal: string): number {
  return SIGNALS[signal] ?? (Number.isInteger(Number(signal)) ? Number(signal) : 0);
}

export function isTerminalState(state: string | undefined | null): boolean {
  return state !== undefined && state !== null && isTerminal(state as TaskState);
}

/** The TaskInfo as the agent keeps it (journal, views, recovery): without the values of secrets. */
export function withoutSecrets(task: TaskInfo__Output): TaskInfo__Output {
  return task.secrets ? { ...task, secrets: null } : task;
}
