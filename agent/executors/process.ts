// The process executor: a task's command in its sandbox directory, as its user, under the wrapper
// shell (wrapper.ts) in a process group of its own, stdout and stderr appended to sandbox files
// (opened by the task's own shell, as its user: withOutput),
// limits from cgroups. The agent is not needed for the task to keep running: the output goes
// straight to files (no pipe through Node), the child is unref'd, and the wrapper records the
// exit status. The runtime dir is expected fresh (no exit_status of an earlier run).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from '../../core/logger.js';
import { runAsPrefix, runAsUnavailable } from '../run-as.js';
import type { Container, ContainerCheckpoint, ContainerSpec, Executor, ExitInfo } from '../executor.js';
import type { CgroupRef, Cgroups, TaskCgroup } from './cgroup-types.js';
import { cgroupName } from './cgroups.js';
import { exitFromStatus, memoryLimitExit, UNKNOWN_EXIT_MESSAGE } from './exit-status.js';
import { failedLaunch, spawnFailureMessage } from './failed-launch.js';
import { isSameProcessAlive, processStartTime } from './proc.js';
import { ProcessContainer, readStatusFile, type ProcessCheckpoint } from './process-container.js';
import { SHELL, wrapperArgs } from './wrapper.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ProcessExecutorOptions {
  readonly cgroups: Cgroups;
  /** Most processes (and threads) a task may have at once (`pids.max`); 0 or absent = no limit. */
  readonly pidsLimit?: number;
  readonly log: Logger;
}

export class ProcessExecutor implements Executor {
  readonly kind = 'process' as const;
  /** The limits in force: `cgroups.version`, or `cgroups.disabledReason` when there are none. */
  readonly cgroups: Cgroups;
  private readonly pidsLimit: number;
  private readonly log: Logger;

  constructor(options: ProcessExecutorOptions) {
    this.cgroups = options.cgroups;
    this.pidsLimit = options.pidsLimit ?? 0;
    this.log = options.log.child({ component: 'process-executor' });
    if (options.cgroups.disabledReason) {
      this.log.warn({ reason: options.cgroups.disabledReason }, 'cgroup limits are off; tasks run without memory, CPU or pids limits');
    }
  }

  async launch(spec: ContainerSpec): Promise<Container> {
    const log = this.log.child({ frameworkId: spec.frameworkId, taskId: spec.taskId });
    const command = taskCommand(spec);
    if (typeof command === 'string') return failedLaunch(spec.taskId, command);
    const runAs = runAsPrefix(spec.user);
    const cannotRunAs = runAs.length > 0 ? runAsUnavailable() : undefined;
    if (cannotRunAs) return failedLaunch(spec.taskId, cannotRunAs);
    const cgroup = this.createCgroup(spec, log);
    const args = wrapperArgs(spec.runtimeDir, cgroup?.procsFiles ?? [], [...runAs, ...withOutput(command)]);
    const env = { PATH: DEFAULT_PATH, ...spec.env };
    let child: ChildProcess;
    try {
      child = spawnWrapper(spec.sandbox, args, env);
    } catch (err) {
      // E2BIG and friends are thrown at once (ENOENT, EACCES and EAGAIN come as an 'error').
      await removeCgroup(cgroup, log);
      return failedLaunch(spec.taskId, spawnFailureMessage(err as Error, args, env));
    }
    const error = await spawned(child);
    const pid = child.pid;
    if (error || pid === undefined) {
      await removeCgroup(cgroup, log);
      return failedLaunch(spec.taskId, error ? spawnFailureMessage(error, args, env) : 'could not start the task: no pid');
    }
    const checkpoint: ProcessCheckpoint = {
      executor: 'process',
      pid,
      pgid: pid, // detached: the wrapper leads a new session and process group
      startTime: processStartTime(pid) ?? 0,
      ...(cgroup ? { cgroup: cgroup.ref } : {}),
    };
    log.debug({ pid }, 'task process started');
    return new ProcessContainer({ ...facts(spec, log), checkpoint, cgroup }).watchChild(child);
  }

  async recover(spec: ContainerSpec, checkpoint: ContainerCheckpoint): Promise<Container | ExitInfo> {
    const log = this.log.child({ frameworkId: spec.frameworkId, taskId: spec.taskId });
    const cp = parseCheckpoint(checkpoint);
    if (!cp) return { message: `cannot recover the task: unreadable checkpoint ${JSON.stringify(checkpoint)}` };
    const cgroup = cp.cgroup ? this.cgroups.attach(cp.cgroup) : undefined;
    if (isSameProcessAlive(cp.pid, cp.startTime)) {
      log.info({ pid: cp.pid }, 'task process re-adopted');
      return new ProcessContainer({ ...facts(spec, log), checkpoint: cp, cgroup }).watchProc();
    }
    return endedWhileAway(spec, cgroup, log);
  }

  async close(): Promise<void> {
    // Nothing held: tasks keep running and their watchers are unref'd.
  }

  private createCgroup(spec: ContainerSpec, log: Logger): TaskCgroup | undefined {
    const name = cgroupName(spec.taskId, spec.sandbox);
    try {
      return this.cgroups.create(name, { cpus: spec.cpus, memMb: spec.memMb, ...(this.pidsLimit > 0 ? { pidsMax: this.pidsLimit } : {}) });
    } catch (err) {
      log.warn({ err, name }, 'could not set up the task cgroup; running without limits');
      return undefined;
    }
  }
}

/** argv of the task, or why there is none. */
export function taskCommand(spec: ContainerSpec): string[] | string {
  const command = spec.task.command;
  if (!command || (command.value === '' && command.arguments.length === 0)) return 'the task has no command';
  if (command.shell !== false) return [SHELL, '-c', command.value];
  // Exec form: `value` is the program, `arguments` its argv with argv[0] (sh cannot set argv[0]).
  return command.value === '' ? [...command.arguments] : [command.value, ...command.arguments.slice(1)];
}

/** How a task's own shell sends its output to <sandbox>/stdout and stderr (the cwd is the sandbox). */
const REDIRECT = 'exec >>stdout 2>>stderr';

/**
 * The command with its output going to the sandbox's files, opened by the command's own shell —
 * as the task's user, behind setpriv: whatever the user put at those names (a symlink to
 * /etc/shadow, a hard link, a directory) can only lead where the user may write anyway, and an
 * open that fails ends the task before its command runs. A shell command gets the redirection as
 * its first line (no extra process); an exec-form command, a shell in front of it. Done in the
 * task rather than in the agent, the two file creations (≈0.3 ms each here) stay off the launch.
 */
export function withOutput(command: readonly string[]): string[] {
  if (command.length === 3 && command[0] === SHELL && command[1] === '-c') return [SHELL, '-c', `${REDIRECT}\n${command[2]}`];
  return [SHELL, '-c', `${REDIRECT} && exec "$@"`, 'agora-task', ...command];
}

function spawnWrapper(sandbox: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(SHELL, args, {
    cwd: sandbox,
    env,
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  return child;
}

/** A launch that failed after its cgroup was made leaves no cgroup behind. */
async function removeCgroup(cgroup: TaskCgroup | undefined, log: Logger): Promise<void> {
  if (cgroup && !(await cgroup.remove())) log.warn({ cgroup: cgroup.ref.paths }, 'could not remove the task cgroup');
}

/** Resolves when the child is running (undefined) or could not start (the error). */
function spawned(child: ChildProcess): Promise<Error | undefined> {
  return new Promise((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (err) => resolve(err));
  });
}

function facts(spec: ContainerSpec, log: Logger): { taskId: string; runtimeDir: string; memMb: number; log: Logger } {
  return { taskId: spec.taskId, runtimeDir: spec.runtimeDir, memMb: spec.memMb, log };
}

/** The task ended while no agent watched: its status is in the runtime dir, its cgroup still there. */
async function endedWhileAway(spec: ContainerSpec, cgroup: TaskCgroup | undefined, log: Logger): Promise<ExitInfo> {
  const status = readStatusFile(spec.runtimeDir);
  let exit: ExitInfo = status === undefined ? { message: UNKNOWN_EXIT_MESSAGE } : exitFromStatus(status, false);
  if (cgroup?.oomKilled(exit.signal)) exit = memoryLimitExit(exit, spec.memMb);
  // Leftovers die with the cgroup; the pid and group id may belong to someone else by now.
  await cgroup?.remove();
  log.info({ exitCode: exit.exitCode, signal: exit.signal }, 'task ended while the agent was down');
  return exit;
}

function parseCheckpoint(cp: ContainerCheckpoint): ProcessCheckpoint | undefined {
  const { pid, pgid, startTime, cgroup } = cp as Partial<ProcessCheckpoint>;
  if (typeof pid !== 'number' || typeof startTime !== 'number') return undefined;
  return {
    executor: 'process',
    pid,
    pgid: typeof pgid === 'number' ? pgid : pid,
    startTime,
    ...(isCgroupRef(cgroup) ? { cgroup } : {}),
  };
}

function isCgroupRef(value: unknown): value is CgroupRef {
  const ref = value as CgroupRef | undefined;
  return !!ref && (ref.version === 1 || ref.version === 2) && typeof ref.paths === 'object' && ref.paths !== null;
}
