// A running process task: the wrapper's process group, its cgroup, and how it ended.
//
// Two ways to learn the end: as the wrapper's parent (the 'exit' event of the child we spawned),
// or, after an agent restart, by polling /proc/<pid> (we are no longer its parent, so we cannot
// wait for it) and then reading the status the wrapper wrote in the task's runtime dir.
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../../core/logger.js';
import type { Container, ContainerCheckpoint, ContainerUsage, ExitInfo } from '../executor.js';
import type { CgroupRef, TaskCgroup } from './cgroup-types.js';
import { readCgroupUsage } from './cgroup-usage.js';
import { exitFromSignal, exitFromStatus, memoryLimitExit, parseStatusFile, signalNumber, UNKNOWN_EXIT_MESSAGE } from './exit-status.js';
import { REASON_LAUNCH_FAILED } from './failed-launch.js';
import { isSameProcessAlive, signalGroup } from './proc.js';

export const STATUS_FILE = 'exit_status';
const POLL_MS = 150;

/** What the process executor checkpoints (JSON). */
export interface ProcessCheckpoint {
  readonly executor: 'process';
  readonly pid: number;
  readonly pgid: number;
  /** /proc/<pid>/stat field 22: tells the same process from a reused pid. */
  readonly startTime: number;
  readonly cgroup?: CgroupRef;
}

export interface ProcessTaskFacts {
  readonly taskId: string;
  /** Where the wrapper writes the exit status (ContainerSpec.runtimeDir). */
  readonly runtimeDir: string;
  readonly memMb: number;
  readonly checkpoint: ProcessCheckpoint;
  readonly cgroup: TaskCgroup | undefined;
  readonly log: Logger;
}

export function statusFile(runtimeDir: string): string {
  return path.join(runtimeDir, STATUS_FILE);
}

export function readStatusFile(runtimeDir: string): number | undefined {
  try {
    return parseStatusFile(fs.readFileSync(statusFile(runtimeDir), 'utf8'));
  } catch {
    return undefined;
  }
}

export class ProcessContainer implements Container {
  readonly taskId: string;
  readonly checkpoint: ContainerCheckpoint;
  private readonly ended: Promise<ExitInfo>;
  private resolveEnded!: (exit: ExitInfo) => void;
  private state: 'running' | 'ending' | 'ended' = 'running';
  private killRequested = false;
  private escalation: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  /** True when we spawned the wrapper and saw it exit at once, so its group id cannot be reused yet. */
  private ownChild = false;

  constructor(private readonly facts: ProcessTaskFacts) {
    this.taskId = facts.taskId;
    this.checkpoint = facts.checkpoint as unknown as ContainerCheckpoint;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  /** Learn the end from the child we spawned (also when it has already ended). */
  watchChild(child: ChildProcess): this {
    this.ownChild = true;
    if (child.exitCode !== null || child.signalCode !== null) void this.finish(child.exitCode ?? undefined, child.signalCode ?? undefined);
    else child.once('exit', (code, signal) => void this.finish(code ?? undefined, signal ?? undefined));
    return this;
  }

  /** Learn the end by polling /proc (a re-adopted task); the status comes from the runtime dir. */
  watchProc(): this {
    const { pid, startTime } = this.facts.checkpoint;
    this.poller = setInterval(() => {
      if (!isSameProcessAlive(pid, startTime)) void this.finish(readStatusFile(this.facts.runtimeDir), undefined);
    }, POLL_MS);
    this.poller.unref();
    return this;
  }

  wait(): Promise<ExitInfo> {
    return this.ended;
  }

  /** From the task's cgroup; undefined without one (cgroups off) or once it is removed. */
  usage(): Promise<ContainerUsage | undefined> {
    const cgroup = this.facts.cgroup;
    return Promise.resolve(cgroup && this.state === 'running' ? readCgroupUsage(cgroup.ref) : undefined);
  }

  async kill(gracePeriodMs: number): Promise<void> {
    if (this.state === 'running' && !this.killRequested) {
      this.killRequested = true;
      signalGroup(this.facts.checkpoint.pgid, 'SIGTERM');
      this.escalation = setTimeout(() => this.forceKill(), Math.max(0, gracePeriodMs));
      this.escalation.unref();
    }
    await this.ended;
  }

  private forceKill(): void {
    this.facts.log.info({ pgid: this.facts.checkpoint.pgid }, 'grace period over; sending SIGKILL');
    signalGroup(this.facts.checkpoint.pgid, 'SIGKILL');
    // Processes that left the group (setsid) are still in the cgroup.
    this.facts.cgroup?.killAll();
  }

  private async finish(status: number | undefined, wrapperSignal: string | undefined): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'ending';
    clearTimeout(this.escalation);
    clearInterval(this.poller);
    const exit = this.exitInfo(status, wrapperSignal);
    await this.cleanUp();
    this.state = 'ended';
    this.facts.log.info({ exitCode: exit.exitCode, signal: exit.signal, reason: exit.reason }, 'task process ended');
    this.resolveEnded(exit);
  }

  private exitInfo(status: number | undefined, wrapperSignal: string | undefined): ExitInfo {
    let exit: ExitInfo;
    if (status !== undefined && !fs.existsSync(statusFile(this.facts.runtimeDir))) {
      exit = { exitCode: status, reason: REASON_LAUNCH_FAILED, message: `the task's wrapper shell failed with status ${status} before recording an exit status (is ${this.facts.runtimeDir} writable?)` };
    } else if (status !== undefined) {
      exit = exitFromStatus(status, this.killRequested);
    } else if (wrapperSignal) {
      exit = exitFromSignal(wrapperSignal, this.killRequested);
      this.recordStatus(128 + (signalNumber(wrapperSignal) ?? 0));
    } else {
      exit = { ...(this.killRequested ? { killed: true } : {}), message: UNKNOWN_EXIT_MESSAGE };
    }
    if (this.facts.cgroup?.oomKilled(exit.signal)) exit = memoryLimitExit(exit, this.facts.memMb);
    return exit;
  }

  /** The wrapper was SIGKILLed before it could write: write what we saw, for a later recovery. */
  private recordStatus(status: number): void {
    const file = statusFile(this.facts.runtimeDir);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(`${file}.agent`, `${status}\n`, { mode: 0o600 });
      fs.renameSync(`${file}.agent`, file);
    } catch (err) {
      this.facts.log.warn({ err }, 'could not record the exit status');
    }
  }

  /**
   * A task ends with its wrapper: kill what it left behind and remove its cgroup. The group is
   * signalled only right after our own child's exit: a re-adopted task's group id may have been
   * reused by the time the poll noticed; its cgroup is the safe handle.
   */
  private async cleanUp(): Promise<void> {
    if (this.ownChild) signalGroup(this.facts.checkpoint.pgid, 'SIGKILL');
    const cgroup = this.facts.cgroup;
    if (cgroup && !(await cgroup.remove())) {
      this.facts.log.warn({ cgroup: cgroup.ref.paths }, 'could not remove the task cgroup');
    }
  }
}
