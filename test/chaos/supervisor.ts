// One Agora process of the chaos cluster under a supervisor, as systemd would run it: started
// (detached, its output in a log file in the run directory, so tmp.ts reaps it whatever happens),
// started again after it dies, and open to the faults: SIGKILL, and SIGSTOP for a while then SIGCONT.
import fs from 'node:fs';
import path from 'node:path';
import { logTail, spawnService, stopService, type ServiceProcess } from '../support/tmp.js';
import type { Role } from './plan.js';

export interface SupervisedSpec {
  readonly role: Role;
  readonly index: number;
  readonly dir: string;
  /** argv after `node`. */
  readonly args: readonly string[];
  /** The line that says it is up; its first group is the address to keep. */
  readonly ready: RegExp;
  /** How long it may take to print `ready` (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Pause before a restart (default 300 ms). */
  readonly restartDelayMs?: number;
}

/** How long after its SIGCONT a process may still exit because of the SIGSTOP (its session lapsed). */
export const AFTER_STOP_GRACE_MS = 10_000;

/** What a process says when it steps down because it lost its ZooKeeper session or could not confirm it. */
const LOST_THE_STORE = /lost leadership|lost contact with the store|session expired/;

/**
 * An exit the chaos did not cause: no SIGKILL of ours, no SIGSTOP of this process shortly before,
 * and not a step-down for want of ZooKeeper shortly after the chaos stopped one of its servers (a
 * leader that cannot reach another server within its grace must give up leading: by design).
 */
export interface UnexpectedExit {
  readonly process: string;
  readonly status: string;
  readonly atMs: number;
  /** The last lines of its log. */
  readonly log: string;
}

export class Supervised {
  readonly name: string;
  readonly logFile: string;
  #proc: ServiceProcess | undefined;
  #address: string | undefined;
  #frozenUntil = 0;
  #closing = false;
  #starts = 0;
  #deaths: string[] = [];
  #unexpected: UnexpectedExit[] = [];
  #killedByUs = false;
  #thawedAt = 0;
  #storeFaultUntil = 0;
  #loop: Promise<void> | undefined;

  constructor(private readonly spec: SupervisedSpec) {
    this.name = `${spec.role}-${spec.index}`;
    fs.mkdirSync(spec.dir, { recursive: true });
    this.logFile = path.join(spec.dir, `${this.name}.log`);
  }

  get role(): Role {
    return this.spec.role;
  }

  /** The address from its ready line, while it runs. */
  get address(): string | undefined {
    return this.up ? this.#address : undefined;
  }

  get pid(): number | undefined {
    return this.up ? this.#proc?.pid : undefined;
  }

  get up(): boolean {
    return this.#proc !== undefined && this.#proc.exitStatus() === undefined;
  }

  get frozen(): boolean {
    return this.up && Date.now() < this.#frozenUntil;
  }

  /** Times it was started (the first start included). */
  get starts(): number {
    return this.#starts;
  }

  /** How each earlier run ended (`signal SIGKILL`, `code 1`, …). */
  get deaths(): readonly string[] {
    return this.#deaths;
  }

  /** Exits (and failed starts) the chaos did not cause. */
  get unexpectedExits(): readonly UnexpectedExit[] {
    return this.#unexpected;
  }

  /** The chaos stops a ZooKeeper server until `untilMs`: a step-down for want of the store until shortly after is its doing. */
  storeFault(untilMs: number): void {
    this.#storeFaultUntil = Math.max(this.#storeFaultUntil, untilMs);
  }

  /** Starts it and waits for its ready line; then keeps it running until close(). */
  async start(): Promise<void> {
    await this.#spawn();
    this.#loop = this.#supervise();
  }

  /** SIGKILL; the supervisor starts it again. False when it was not running. */
  kill(): boolean {
    const pid = this.pid;
    if (pid === undefined) return false;
    this.#killedByUs = true;
    this.#signal(pid, 'SIGCONT');
    this.#signal(pid, 'SIGKILL');
    return true;
  }

  /** SIGSTOP now, SIGCONT after holdMs. False when it was not running or is frozen already. */
  freeze(holdMs: number): boolean {
    const pid = this.pid;
    if (pid === undefined || this.frozen) return false;
    this.#frozenUntil = Date.now() + holdMs;
    this.#thawedAt = this.#frozenUntil;
    this.#signal(pid, 'SIGSTOP');
    setTimeout(() => this.#signal(pid, 'SIGCONT'), holdMs).unref();
    return true;
  }

  /** Stops supervising and ends the process (SIGCONT first: a frozen one cannot die of SIGTERM). */
  async close(): Promise<void> {
    this.#closing = true;
    const proc = this.#proc;
    if (proc) {
      this.#signal(proc.pid, 'SIGCONT');
      await stopService(proc, 'SIGTERM', 3_000);
    }
    await this.#loop?.catch(() => undefined);
  }

  async #supervise(): Promise<void> {
    while (!this.#closing) {
      const proc = this.#proc;
      if (proc) {
        const status = await proc.exited;
        this.#deaths.push(status);
        if (this.#closing) return;
        const afterStop = Date.now() - this.#thawedAt < AFTER_STOP_GRACE_MS;
        const log = logTail(this.logFile, 3);
        const lostStore = Date.now() - this.#storeFaultUntil < AFTER_STOP_GRACE_MS && LOST_THE_STORE.test(log);
        if (!this.#killedByUs && !afterStop && !lostStore) this.#unexpected.push({ process: this.name, status, atMs: Date.now(), log });
      }
      if (this.#closing) return;
      await sleep(this.spec.restartDelayMs ?? 300);
      if (this.#closing) return;
      try {
        await this.#spawn();
      } catch (err) {
        const status = `start failed: ${(err as Error).message.split('\n')[0]}`;
        this.#deaths.push(status);
        this.#unexpected.push({ process: this.name, status, atMs: Date.now(), log: logTail(this.logFile, 3) });
      }
    }
  }

  async #spawn(): Promise<void> {
    const offset = fileSize(this.logFile);
    this.#starts += 1;
    this.#killedByUs = false;
    this.#frozenUntil = 0;
    this.#address = undefined;
    const proc = spawnService({ name: this.name, dir: this.spec.dir, command: process.execPath, args: [...this.spec.args], endpoint: this.name, logFile: this.logFile });
    this.#proc = proc;
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? 30_000);
    for (;;) {
      const match = this.spec.ready.exec(readFrom(this.logFile, offset));
      if (match) {
        this.#address = match[1];
        return;
      }
      if (proc.exitStatus() !== undefined) return; // died while starting: the supervisor goes round again
      if (Date.now() > deadline) {
        this.#signal(proc.pid, 'SIGKILL');
        throw new Error(`${this.name} printed no ${this.spec.ready} within ${this.spec.readyTimeoutMs ?? 30_000} ms (log: ${this.logFile})`);
      }
      await sleep(50);
    }
  }

  #signal(pid: number, signal: NodeJS.Signals): void {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
  }
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.max(0, Math.min(size - offset, 256 * 1024));
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, offset);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
