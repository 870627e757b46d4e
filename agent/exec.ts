// `agora exec` on the agent: GET /api/v1/tasks/:id/exec?frameworkId=&command=…&stdin=1&tty=1&rows=&cols=&term=
// with `Connection: Upgrade, Upgrade: agora-exec.v1` (core/http-upgrade.ts routes it through the
// same authentication as every endpoint). Then the framed stream of core/exec-protocol.ts.
//
//   request ─► who may (core/security/exec-access.ts) ─► the live task, RUNNING ─► a free session slot
//           ─► 101 ─► the command (exec-process.ts or exec-docker.ts) ◄─► frames ─► EXIT, end
//
// A session ends with its command (EXIT), or earlier with an ERROR frame: idle longer than
// --exec-idle-timeout (nothing read or written either way), the task ending, the agent stopping, a
// malformed frame. The client going away ends it too. Every end kills what the command started.
// At most --exec-max-sessions run at once on an agent (RESOURCE_EXHAUSTED beyond).
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Clock, TimerHandle } from '../core/clock.js';
import { AgoraError, FailedPreconditionError, NotFoundError } from '../core/errors.js';
import { EXEC_PROTOCOL, encodeFrame, FRAME, FrameReader, MAX_FRAME_BYTES, parseExecQuery, parseSize, type ErrorFrame, type ExitFrame } from '../core/exec-protocol.js';
import type { HttpServer } from '../core/http.js';
import { acceptUpgrade, routeUpgrades, upgradeOf } from '../core/http-upgrade.js';
import type { Logger } from '../core/logger.js';
import { principalOf } from '../core/security/edge.js';
import { execDenied, execScope } from '../core/security/exec-access.js';
import { may, type Principal } from '../core/security/principal.js';
import type { ExecProcess, ExecRequest } from './exec-backend.js';
import { startDockerExec } from './exec-docker.js';
import { startProcessExec } from './exec-process.js';
import { isSameProcessAlive } from './executors/proc.js';
import type { TaskEntry, TaskManager } from './task-manager.js';

export interface ExecSessionsOptions {
  readonly tasks: TaskManager;
  readonly maxSessions: number;
  readonly idleTimeoutMs: number;
  readonly dockerSocket: string;
  readonly clock: Clock;
  readonly log: Logger;
}

export class ExecSessions {
  readonly #sessions = new Set<ExecSession>();
  readonly #watched = new WeakSet<TaskEntry>();
  /** Requests past the session bound whose command is still starting. */
  #starting = 0;

  constructor(readonly options: ExecSessionsOptions) {}

  get size(): number {
    return this.#sessions.size;
  }

  register(app: HttpServer): void {
    routeUpgrades(app, [EXEC_PROTOCOL]);
    app.addHook('preClose', async () => this.closeAll('the agent is stopping'));
    app.get<{ Params: { id: string } }>('/api/v1/tasks/:id/exec', async (req, reply) => {
      const entry = this.#taskFor(req);
      const request = parseExecQuery(req.query as Record<string, unknown>);
      const upgrade = upgradeOf(req, EXEC_PROTOCOL);
      // A slot is held from here, across the start: concurrent requests cannot all pass the bound.
      if (this.#sessions.size + this.#starting >= this.options.maxSessions) {
        throw new AgoraError('AGORA_RESOURCE_EXHAUSTED', `this agent already runs ${this.options.maxSessions} exec sessions (--exec-max-sessions): try again when one ends`);
      }
      this.#starting += 1;
      let process: ExecProcess;
      try {
        process = await this.#start(entry, request);
      } finally {
        this.#starting -= 1;
      }
      if (upgrade.socket.destroyed) {
        // The caller left while the command started: no session would ever see its socket close.
        process.kill();
        void reply.hijack();
        return reply;
      }
      const socket = acceptUpgrade(reply, upgrade, EXEC_PROTOCOL);
      const ended = { code: 'AGORA_FAILED_PRECONDITION', message: `task ${entry.taskId} ended` };
      const session = new ExecSession(entry, socket, process, this.options, () => this.#sessions.delete(session), () => (taskEnding(entry) ? ended : undefined));
      this.#sessions.add(session);
      this.options.log.info({ frameworkId: entry.frameworkId, taskId: entry.taskId, principal: principalOf(req).name, tty: request.tty, stdin: request.stdin }, 'exec session started');
      this.#endWithTask(entry, ended);
      return reply;
    });
  }

  /** The task's end ends its sessions: one watch per task, however many sessions it has had. */
  #endWithTask(entry: TaskEntry, ended: ErrorFrame): void {
    if (this.#watched.has(entry)) return;
    this.#watched.add(entry);
    void entry.container?.wait().then(() => {
      for (const session of [...this.#sessions]) if (session.entry === entry) session.fail(ended);
    });
  }

  closeAll(why: string): void {
    for (const session of [...this.#sessions]) session.fail({ code: 'AGORA_UNAVAILABLE', message: why });
  }

  /** The live task the caller names and may exec into; RUNNING, else FAILED_PRECONDITION naming its state. */
  #taskFor(req: FastifyRequest<{ Params: { id: string } }>): TaskEntry {
    const principal = principalOf(req);
    const scope = execScope(principal);
    const query = req.query as Record<string, unknown>;
    const frameworkId = typeof query['frameworkId'] === 'string' && query['frameworkId'] !== '' ? query['frameworkId'] : undefined;
    const taskId = req.params.id;
    const { tasks } = this.options;
    const mayReach = (fid: string): boolean => reaches(tasks, principal, fid, scope);
    const matches = (t: { frameworkId: string; taskId: string }): boolean => t.taskId === taskId && (frameworkId === undefined || t.frameworkId === frameworkId) && mayReach(t.frameworkId);
    const live = [...tasks.tasks.values()].find(matches);
    if (!live) {
      const done = tasks.completed.findLast(matches);
      if (done) throw new FailedPreconditionError(`task ${taskId} is not running (${done.state}): exec needs a running task`, { details: { state: done.state } });
      if (scope === 'own') throw execDenied(principal);
      throw new NotFoundError('task', taskId);
    }
    if (live.state !== 'TASK_RUNNING' || !live.container) {
      throw new FailedPreconditionError(`task ${taskId} is not running (${live.state}): exec needs a running task`, { details: { state: live.state } });
    }
    return live;
  }

  async #start(entry: TaskEntry, request: ExecRequest): Promise<ExecProcess> {
    const log = this.options.log.child({ frameworkId: entry.frameworkId, taskId: entry.taskId });
    const checkpoint = entry.container?.checkpoint;
    try {
      if (entry.executorKind === 'docker') {
        const containerId = checkpoint?.['containerId'];
        if (typeof containerId !== 'string') throw new Error('the task has no container id');
        return await startDockerExec(this.options.dockerSocket, containerId, request, log);
      }
      if (entry.executorKind === 'process' && entry.spec) return startProcessExec(entry.spec, checkpoint, request, log);
    } catch (err) {
      throw new FailedPreconditionError(`cannot exec into task ${entry.taskId}: ${(err as Error).message}`);
    }
    throw new FailedPreconditionError(`task ${entry.taskId} runs on the ${entry.executorKind} executor, which has nothing to exec into`);
  }
}

/** May `principal` exec into tasks of this framework, within its scope? */
function reaches(tasks: TaskManager, principal: Principal, frameworkId: string, scope: 'visible' | 'own'): boolean {
  if (principal.via === 'insecure') return true;
  const owner = tasks.frameworks.get(frameworkId)?.principal;
  const owns = owner !== undefined && owner !== '' && owner === principal.name;
  return owns || (scope === 'visible' && may(principal, 'frameworks.view'));
}

/**
 * Is the task ending or gone? An exec killed with its task (the cgroup's or the container's end) is
 * reported as the task's end, not as the exit status of the kill. The process executor's wrapper
 * is gone before the task's end is reported, so it is asked directly.
 */
function taskEnding(entry: TaskEntry): boolean {
  if (entry.killing || entry.state !== 'TASK_RUNNING') return true;
  const cp = entry.container?.checkpoint;
  if (entry.executorKind === 'process' && typeof cp?.['pid'] === 'number' && typeof cp['startTime'] === 'number') return !isSameProcessAlive(cp['pid'], cp['startTime']);
  return false;
}

/** One running exec: frames in and out of the socket, the idle timer, and one end. */
class ExecSession {
  readonly #reader = new FrameReader();
  #idle: TimerHandle | undefined;
  #ended = false;

  constructor(
    readonly entry: TaskEntry,
    private readonly socket: Duplex,
    private readonly process: ExecProcess,
    private readonly options: ExecSessionsOptions,
    private readonly onEnd: () => void,
    /** Why the session ends, when the task has ended (checked when the command exits). */
    private readonly taskEnded: () => ErrorFrame | undefined,
  ) {
    // Quiet is normal in a session (a shell waiting for input): only --exec-idle-timeout ends it.
    (socket as Partial<Socket>).setTimeout?.(0);
    this.#touch();
    this.#pipe(process.stdout, FRAME.STDOUT);
    if (process.stderr) this.#pipe(process.stderr, FRAME.STDERR);
    process.stdin?.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => this.#close('client gone'));
    void process.exited.then((exit) => this.#exit(exit));
  }

  /** End with an ERROR frame, killing the command. */
  fail(error: ErrorFrame): void {
    if (this.#ended) return;
    this.#write(FRAME.ERROR, error);
    this.#close(error.message);
    this.socket.end();
  }

  #exit(exit: ExitFrame): void {
    if (this.#ended) return;
    const ended = this.taskEnded();
    if (ended) {
      this.fail(ended);
      return;
    }
    this.#write(FRAME.EXIT, exit);
    this.#close(`exited ${exit.exitCode}`);
    this.socket.end();
  }

  #close(why: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.options.clock.clearTimeout(this.#idle);
    this.process.kill();
    this.onEnd();
    this.options.log.info({ why }, 'exec session ended');
  }

  #touch(): void {
    this.options.clock.clearTimeout(this.#idle);
    this.#idle = this.options.clock.setTimeout(
      () => this.fail({ code: 'AGORA_TIMEOUT', message: `the exec session was idle for ${this.options.idleTimeoutMs} ms (--exec-idle-timeout)` }),
      this.options.idleTimeoutMs,
    );
  }

  #pipe(stream: NodeJS.ReadableStream, type: typeof FRAME.STDOUT | typeof FRAME.STDERR): void {
    stream.on('data', (chunk: Buffer) => {
      this.#touch();
      for (let at = 0; at < chunk.length; at += MAX_FRAME_BYTES) {
        if (!this.#write(type, chunk.subarray(at, at + MAX_FRAME_BYTES))) {
          stream.pause();
          this.socket.once('drain', () => stream.resume());
        }
      }
    });
    stream.on('error', () => undefined);
  }

  #write(type: (typeof FRAME)[keyof typeof FRAME], payload: Buffer | object): boolean {
    if (this.socket.destroyed || !this.socket.writable) return true;
    return this.socket.write(encodeFrame(type, payload));
  }

  #onData(chunk: Buffer): void {
    if (this.#ended) return;
    this.#touch();
    let frames;
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.fail({ code: 'AGORA_INVALID_ARGUMENT', message: (err as Error).message });
      return;
    }
    for (const frame of frames) {
      if (frame.type === FRAME.STDIN) this.process.stdin?.write(frame.payload);
      else if (frame.type === FRAME.STDIN_EOF) this.process.stdin?.end();
      else if (frame.type === FRAME.RESIZE) {
        const size = parseSize(frame.payload);
        if (size) this.process.resize(size);
      }
    }
  }
}
