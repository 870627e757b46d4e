// A task's Docker container once started (or re-found after an agent restart): copies its logs
// into the sandbox as they come, waits for it to stop, reads how it ended (exit code, OOMKilled),
// then removes it.
import fs from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../../core/logger.js';
import type { Container, ContainerCheckpoint, ContainerUsage, ExitInfo } from '../executor.js';
import type { UserIdentity } from '../user-db.js';
import { parseDockerStats, type DockerStats } from './cgroup-usage.js';
import type { PortsAnswer } from './docker-ports.js';
import { exitFromStatus, memoryLimitExit } from './exit-status.js';
import { openTaskFile } from './task-file.js';

/** What the docker executor checkpoints. */
export interface DockerCheckpoint {
  readonly executor: 'docker';
  readonly containerId: string;
}

export interface DockerTaskFacts {
  readonly taskId: string;
  readonly sandbox: string;
  /** The task's user: the sandbox is theirs, and so are the log files the agent writes in it. */
  readonly owner: Pick<UserIdentity, 'uid' | 'gid'>;
  readonly memMb: number;
  readonly log: Logger;
  /** Start the sandbox log files afresh (a recovery copies the whole log again). */
  readonly truncateLogs: boolean;
  /** Waits for the published ports to answer (docker-ports.ts); absent when nothing is published. */
  readonly probePorts?: ((signal: AbortSignal) => Promise<PortsAnswer>) | undefined;
}

/** How long to wait for the log stream to drain once the container stopped. */
const LOG_DRAIN_MS = 5_000;
const WAIT_RETRY_MS = 1_000;

export class DockerContainer implements Container {
  readonly taskId: string;
  readonly checkpoint: ContainerCheckpoint;
  private readonly ended: Promise<ExitInfo>;
  private killRequested = false;
  private stopped = false;
  /** Aborted by detach(): the engine calls in flight end, the container keeps running. */
  private readonly detachment = new AbortController();
  /** Bytes the log follow wrote to each sandbox file, so that a catch-up after the stop adds only the rest. */
  private readonly copied = { stdout: 0, stderr: 0 };
  /** The last bytes the follow wrote to each, to find where it stopped in a log the engine has rotated. */
  private readonly tail: Record<'stdout' | 'stderr', Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private logStream?: NodeJS.ReadableStream;
  /** Set once the follow is given up: it writes nothing more, the catch-up owns the files. */
  private followOver = false;

  constructor(
    private readonly docker: Docker,
    private readonly container: Docker.Container,
    private readonly facts: DockerTaskFacts,
  ) {
    this.taskId = facts.taskId;
    this.checkpoint = { executor: 'docker', containerId: container.id } satisfies DockerCheckpoint;
    this.ended = this.run();
  }

  wait(): Promise<ExitInfo> {
    return this.ended;
  }

  get reachable(): ((signal: AbortSignal) => Promise<PortsAnswer>) | undefined {
    return this.facts.probePorts;
  }

  /** From Docker's stats (one-shot: the engine does not wait a second for a second sample). */
  async usage(): Promise<ContainerUsage | undefined> {
    if (this.stopped) return undefined;
    try {
      return parseDockerStats((await this.container.stats({ stream: false, 'one-shot': true })) as DockerStats);
    } catch (err) {
      if (statusCode(err) !== 404) this.facts.log.debug({ err }, 'could not read the container stats');
      return undefined;
    }
  }

  /**
   * Stop watching (the agent is shutting down): the log copy and docker wait end so that nothing
   * holds the event loop; the container keeps running and wait() stays pending.
   */
  detach(): void {
    this.detachment.abort();
  }

  async kill(gracePeriodMs: number): Promise<void> {
    if (!this.killRequested && !this.stopped) {
      this.killRequested = true;
      // docker stop: the image's stop signal (SIGTERM), SIGKILL after t seconds.
      const t = Math.ceil(Math.max(0, gracePeriodMs) / 1000);
      try {
        await this.container.stop({ t });
      } catch (err) {
        if (statusCode(err) !== 304) await this.container.kill().catch(() => undefined);
      }
    }
    await this.ended;
  }

  private async run(): Promise<ExitInfo> {
    const logs = this.copyLogs().catch((err: unknown) => this.facts.log.warn({ err }, 'could not copy the container logs'));
    const waited = await this.waitForStop();
    if (this.detachment.signal.aborted) return new Promise<ExitInfo>(() => undefined);
    this.stopped = true;
    await Promise.race([logs, new Promise((resolve) => setTimeout(resolve, LOG_DRAIN_MS).unref())]);
    this.followOver = true;
    (this.logStream as { destroy?: () => void } | undefined)?.destroy?.();
    // The files close once the destroyed stream does (their queued writes land before the catch-up's).
    await Promise.race([logs, new Promise((resolve) => setTimeout(resolve, LOG_DRAIN_MS).unref())]);
    // A follow may end before the engine wrote the container's last output to its log (seen with a
    // last line that has no newline): read the whole log once more and add what the follow missed.
    await this.catchUpLogs().catch((err: unknown) => this.facts.log.warn({ err }, 'could not read the rest of the container logs'));
    const state = await this.container.inspect().then((i) => i.State, () => undefined);
    const exit = this.exitInfo(state?.ExitCode ?? waited, state?.OOMKilled ?? false, state?.Error);
    await this.container.remove({ force: true }).catch((err: unknown) => this.facts.log.warn({ err }, 'could not remove the container'));
    this.facts.log.info({ exitCode: exit.exitCode, signal: exit.signal, reason: exit.reason }, 'task container ended');
    return exit;
  }

  /** The exit code from docker wait; retried when the engine connection drops. */
  private async waitForStop(): Promise<number | undefined> {
    for (;;) {
      try {
        const result = (await this.container.wait({ abortSignal: this.detachment.signal })) as { StatusCode?: number };
        return result.StatusCode;
      } catch (err) {
        if (statusCode(err) === 404 || this.detachment.signal.aborted) return undefined;
        this.facts.log.warn({ err }, 'docker wait failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, WAIT_RETRY_MS));
      }
    }
  }

  private exitInfo(code: number | undefined, oomKilled: boolean, error: string | undefined): ExitInfo {
    let exit: ExitInfo =
      code === undefined
        ? { ...(this.killRequested ? { killed: true } : {}), message: `the container disappeared${error ? `: ${error}` : ''}` }
        : exitFromStatus(code, this.killRequested);
    if (oomKilled) exit = memoryLimitExit(exit, this.facts.memMb);
    return exit;
  }

  /** Append to stdout and stderr what the engine logged beyond what the follow copied. */
  private async catchUpLogs(): Promise<void> {
    const log = (await this.container.logs({ follow: false, stdout: true, stderr: true })) as unknown as Buffer;
    const whole = demuxLog(Buffer.isBuffer(log) ? log : Buffer.from(log));
    for (const key of ['stdout', 'stderr'] as const) {
      const rest = missedOutput(whole[key], this.copied[key], this.tail[key]);
      if (rest.length === 0) continue;
      const fd = openTaskFile(path.join(this.facts.sandbox, key), this.facts.owner, 'append');
      try {
        fs.writeSync(fd, rest);
      } finally {
        fs.closeSync(fd);
      }
      this.copied[key] += rest.length;
      this.facts.log.debug({ stream: key, bytes: rest.length }, 'container output added after the log follow ended');
    }
  }

  /**
   * Follow the logs (demuxed) into <sandbox>/stdout and stderr until the container stops. The
   * container has the sandbox mounted and may have put a symlink there: openTaskFile checks.
   */
  private async copyLogs(): Promise<void> {
    const mode = this.facts.truncateLogs ? 'replace' : 'append';
    const stdout = path.join(this.facts.sandbox, 'stdout');
    const stderr = path.join(this.facts.sandbox, 'stderr');
    const outFd = openTaskFile(stdout, this.facts.owner, mode);
    let errFd: number;
    try {
      errFd = openTaskFile(stderr, this.facts.owner, mode);
    } catch (e) {
      fs.closeSync(outFd);
      throw e;
    }
    const out = fs.createWriteStream(stdout, { fd: outFd });
    const err = fs.createWriteStream(stderr, { fd: errFd });
    const stream = await this.container.logs({ follow: true, stdout: true, stderr: true, abortSignal: this.detachment.signal }).catch(async (e: unknown) => {
      await Promise.all([closeStream(out), closeStream(err)]);
      throw e;
    });
    if (this.followOver) (stream as { destroy?: () => void }).destroy?.();
    this.logStream = stream;
    const counting = (file: fs.WriteStream, key: 'stdout' | 'stderr'): NodeJS.WritableStream =>
      ({
        write: (chunk: Buffer) => {
          if (this.followOver) return true;
          this.copied[key] += chunk.length;
          this.tail[key] = keepTail(this.tail[key], chunk);
          return file.write(chunk);
        },
      }) as unknown as NodeJS.WritableStream;
    try {
      (this.docker.modem as { demuxStream(s: NodeJS.ReadableStream, o: NodeJS.WritableStream, e: NodeJS.WritableStream): void }).demuxStream(
        stream,
        counting(out, 'stdout'),
        counting(err, 'stderr'),
      );
      await new Promise<void>((resolve) => {
        stream.once('end', resolve);
        stream.once('close', resolve);
        stream.once('error', () => resolve());
      });
    } finally {
      await Promise.all([closeStream(out), closeStream(err)]);
    }
  }
}

/** Bytes of the end of the follow's output kept to find it again in a rotated log. */
export const TAIL_BYTES = 4096;

function keepTail(tail: Buffer, chunk: Buffer): Buffer {
  if (chunk.length >= TAIL_BYTES) return Buffer.from(chunk.subarray(chunk.length - TAIL_BYTES));
  return Buffer.concat([tail.subarray(Math.max(0, tail.length + chunk.length - TAIL_BYTES)), chunk]);
}

/**
 * What the engine's whole log (`whole`, one stream) holds beyond the `copied` bytes the follow
 * wrote, whose last bytes are `tail`. While the engine has kept everything, that is what lies past
 * `copied`. Once it has rotated its log (json-file max-size: the agent's --log-max-size), the
 * start is gone and offsets mean nothing: the rest follows the last place `tail` appears. Where
 * the tail appears more than once, the last is taken — at worst a repeated stretch is left out,
 * never written twice; where it does not appear (or nothing was copied), nothing is added.
 */
export function missedOutput(whole: Buffer, copied: number, tail: Buffer): Buffer {
  if (whole.length >= copied && (tail.length === 0 || whole.subarray(copied - tail.length, copied).equals(tail))) return whole.subarray(copied);
  if (tail.length === 0) return Buffer.alloc(0);
  const at = whole.lastIndexOf(tail);
  return at < 0 ? Buffer.alloc(0) : whole.subarray(at + tail.length);
}

/** The stdout and stderr payloads of a multiplexed Docker log (8-byte frame headers: stream, 0, 0, 0, length). */
export function demuxLog(log: Buffer): { stdout: Buffer; stderr: Buffer } {
  const parts: { stdout: Buffer[]; stderr: Buffer[] } = { stdout: [], stderr: [] };
  let at = 0;
  while (at + 8 <= log.length) {
    const kind = log[at];
    const length = log.readUInt32BE(at + 4);
    const payload = log.subarray(at + 8, Math.min(log.length, at + 8 + length));
    if (kind === 1) parts.stdout.push(payload);
    else if (kind === 2) parts.stderr.push(payload);
    at += 8 + length;
  }
  return { stdout: Buffer.concat(parts.stdout), stderr: Buffer.concat(parts.stderr) };
}

function closeStream(stream: fs.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.end(() => resolve()));
}

export function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}
