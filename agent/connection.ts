// The agent's one stream to the leading master, kept up for the agent's whole life.
//
//   CONNECTING ──hello (register | reregister)──► REGISTERING ──registered──► REGISTERED
//        ▲                                             │ error / end / timeout     │ stream ends,
//        └──────────── BACKOFF (jittered, doubling) ◄──┴───────────────────────────┘ pings stop
//
// Where the leader is comes from core/discovery: a list of masters tried in turn, where a standby's
// UNAVAILABLE names the leader to follow, or the ZooKeeper election, whose every change of leader
// moves the stream. The first message on every new stream comes from `hello()`, so the agent
// decides between register and reregister (with its tasks) each time. While registered, the
// master's pings are answered with pongs; if they stop for longer than the master said it would
// wait (interval × (misses + 1)), the stream is presumed dead and replaced.
//
// When the stream to the leader breaks, the agent also says hello at once to the master next in
// line (read from the election), marking the stream "my stream to the leader broke"
// (LEADER_LOST_HEADER). That master holds it while the old leader still holds the election: if the
// leader is dead, its session expires and the successor, elected, answers the hello it has already
// read — no backoff, no reconnect storm. Meanwhile the agent keeps trying the leader as before;
// whichever answers first is kept and the other stream is cancelled.
//
// The real agent (agent.ts) and the failover benchmark's simulated agents (bench/sim-agent.ts) both
// run this class; the benchmark shares one transport (gateway-transport.ts) and one discovery
// among its agents.
import * as grpc from '@grpc/grpc-js';
import type { TimerHandle } from '../core/clock.js';
import { LEADER_LOST_HEADER } from '../core/discovery.js';
import { NotLeaderError } from '../core/errors.js';
import { fromGrpcError } from '../core/grpc.js';
import { backoffDelay, mathRandom } from '../core/random.js';
import type { AgentMessage, AgentRegistered__Output, MasterMessage__Output } from '../proto/index.js';
import type { ConnectionHandlers, ConnectionOptions, ConnectionState } from './connection-contract.js';
import { GatewayChannels, type GatewayCall, type GatewayTransport } from './gateway-transport.js';

export type { ConnectionHandlers, ConnectionOptions, ConnectionState, RegistrationDetails } from './connection-contract.js';

type Call = GatewayCall;
/** A stream and what the registration details say of it. */
interface Stream {
  readonly call: Call;
  readonly address: string;
  readonly helloSentAtMs: number;
}

/**
 * After "not the leader, no leader known" — a master just elected and still taking over, or an
 * election under way — ask again this soon, at most this many times in a row, rather than after a
 * backoff that grew while the old leader was unreachable.
 */
const NOT_LEADER_RETRY_MS = 50;
const NOT_LEADER_FAST_RETRIES = 40;

export class MasterConnection {
  #state: ConnectionState = 'IDLE';
  #call: Call | undefined;
  #address: string | undefined;
  #attempt = 0;
  /** Consecutive quick retries after "not the leader" naming no leader. */
  #notLeaderRetries = 0;
  #unwatch: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #pingTimer: TimerHandle | undefined;
  #pingTimeoutMs = 0;
  /** Messages that arrive while onRegistered runs (it checkpoints the agent id first). */
  #held: MasterMessage__Output[] | undefined;
  readonly #transport: GatewayTransport;
  #helloSentAtMs = 0;
  #viaSuccessor = false;
  /** A hello waiting at the successor since the stream to the leader broke (see the top). */
  #standby: Stream | undefined;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly handlers: ConnectionHandlers,
  ) {
    if (!options.transport && !options.credentials) throw new Error('MasterConnection needs credentials or a transport');
    this.#transport = options.transport ?? new GatewayChannels(options.credentials as grpc.ChannelCredentials);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** host:port of the master the agent is registered with. */
  get master(): string | undefined {
    return this.#state === 'REGISTERED' ? this.#address : undefined;
  }

  start(): void {
    if (this.#state !== 'IDLE') return;
    this.#unwatch = this.options.discovery.onChange(() => this.#leaderChanged());
    void this.#connect();
  }

  /** Send on the registered stream; false (nothing sent) when not registered. */
  send(message: AgentMessage): boolean {
    if (this.#state !== 'REGISTERED' || !this.#call) return false;
    this.#call.write(message);
    return true;
  }

  /** Drop the current stream and connect again after a backoff (e.g. after a fatal error). */
  reconnect(reason: string): void {
    if (this.#state === 'CLOSED') return;
    this.#drop(reason);
  }

  stop(): void {
    if (this.#state === 'CLOSED') return;
    const wasRegistered = this.#state === 'REGISTERED';
    this.#state = 'CLOSED';
    this.#unwatch?.();
    this.#clearTimers();
    this.#cancelStandby();
    const call = this.#call;
    this.#call = undefined;
    if (call) {
      call.end();
      call.cancel();
    }
    if (!this.options.transport) this.#transport.close();
    if (wasRegistered) this.handlers.onDisconnected('agent stopping');
  }

  async #connect(): Promise<void> {
    if (this.#state === 'CLOSED') return;
    const address = this.options.discovery.current();
    if (address === undefined) {
      this.options.logger.debug('no leading master known yet');
      this.#backoff();
      return;
    }
    this.#address = address;
    this.#state = 'CONNECTING';
    let hello: AgentMessage | Buffer;
    try {
      hello = await this.handlers.hello();
    } catch (err) {
      this.options.logger.error({ err }, 'could not build the registration message');
      this.#backoff();
      return;
    }
    if (this.#state !== 'CONNECTING') return;
    const call = this.#open(address);
    this.#call = call;
    this.#state = 'REGISTERING';
    this.options.logger.debug({ master: address, type: Buffer.isBuffer(hello) ? 'encoded' : hello.register ? 'register' : 'reregister' }, 'registering with the master');
    this.#helloSentAtMs = this.options.clock.now();
    this.#viaSuccessor = false;
    call.write(hello);
    this.#armRegistrationTimeout();
  }

  /**
   * A Connect stream whose events go to #receive, #failed and #ended: those act on the agent's
   * stream (#call) and, for the stream waiting at the successor, adopt it or forget it.
   */
  #open(address: string, metadata?: grpc.Metadata): Call {
    const call = this.#transport.open(address, metadata ?? new grpc.Metadata());
    call.on('data', (m: MasterMessage__Output) => this.#receive(call, m));
    call.on('error', (err: grpc.ServiceError) => this.#failed(call, address, err));
    call.on('end', () => this.#ended(call, 'the master closed the stream'));
    call.on('close', () => this.#ended(call, 'stream closed'));
    return call;
  }

  #armRegistrationTimeout(): void {
    this.#timer = this.options.clock.setTimeout(() => this.#drop(`no answer to registration within ${this.options.registrationTimeoutMs} ms`), this.options.registrationTimeoutMs);
  }

  /** Not the agent's stream: the stream waiting at the successor is adopted once answered, or forgotten once gone. */
  #notCurrent(call: Call, message?: MasterMessage__Output): boolean {
    if (call === this.#call) return false;
    const standby = this.#standby;
    if (call !== standby?.call) return true;
    if (message === undefined) this.#standby = undefined;
    else if (message.registered ?? message.reregistered) {
      this.#adopt(standby);
      return false;
    }
    return true;
  }

  #receive(call: Call, message: MasterMessage__Output): void {
    if (this.#notCurrent(call, message)) return;
    if (message.error) {
      this.options.logger.warn({ master: this.#address, message: message.error.message, fatal: message.error.fatal }, 'the master rejected a message');
      if (message.error.fatal) this.#drop(`fatal error from the master: ${message.error.message}`);
      return;
    }
    const answer = message.registered ?? message.reregistered;
    if (answer && this.#state === 'REGISTERING' && !this.#held) {
      void this.#registered(call, answer);
      return;
    }
    if (this.#held) {
      this.#held.push(message);
      return;
    }
    if (this.#state !== 'REGISTERED') return;
    this.#dispatch(call, message);
  }

  #dispatch(call: Call, message: MasterMessage__Output): void {
    if (message.ping) {
      this.#armPingWatchdog();
      const usage = this.handlers.usage?.();
      call.write({ pong: { seq: message.ping.seq, ...(usage ? { usage } : {}) } });
      return;
    }
    this.handlers.onMessage(message);
  }

  async #registered(call: Call, answer: AgentRegistered__Output): Promise<void> {
    this.options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = [];
    // The first answer wins: a hello still waiting at the successor can no longer be adopted.
    if (call === this.#call) this.#cancelStandby();
    try {
      await this.handlers.onRegistered(answer, this.#address ?? '', { helloSentAtMs: this.#helloSentAtMs, viaSuccessor: this.#viaSuccessor });
    } catch (err) {
      this.#held = undefined;
      this.options.logger.error({ err }, 'handling registration failed');
      if (call === this.#call) this.#drop('handling registration failed');
      return;
    }
    const held = this.#held ?? [];
    this.#held = undefined;
    if (call !== this.#call || this.#state !== 'REGISTERING') return;
    this.#state = 'REGISTERED';
    this.#attempt = 0;
    this.#notLeaderRetries = 0;
    this.#pingTimeoutMs = answer.pingIntervalSeconds > 0 ? answer.pingIntervalSeconds * 1000 * (Math.max(1, answer.maxMissedPings) + 1) : 0;
    this.#armPingWatchdog();
    this.handlers.onConnected?.();
    for (const message of held) this.#dispatch(call, message);
  }

  #armPingWatchdog(): void {
    this.options.clock.clearTimeout(this.#pingTimer);
    if (this.#pingTimeoutMs <= 0) return;
    this.#pingTimer = this.options.clock.setTimeout(() => this.#lost(`no ping from the master for ${this.#pingTimeoutMs} ms`), this.#pingTimeoutMs);
  }

  #failed(call: Call, address: string, err: grpc.ServiceError): void {
    if (this.#notCurrent(call)) return;
    const error = fromGrpcError(err);
    this.handlers.onStreamLost?.(error instanceof NotLeaderError ? 'not-leader' : 'lost');
    if (error instanceof NotLeaderError && error.leader) {
      this.options.discovery.redirect(error.leader);
      this.#drop(`${address} is not the leader; following it to ${error.leader}`, true);
      return;
    }
    this.options.discovery.failed(address);
    if (error instanceof NotLeaderError && this.#notLeaderRetries < NOT_LEADER_FAST_RETRIES) {
      this.#notLeaderRetries += 1;
      this.#drop(`${address} does not lead yet`, false, Math.min(NOT_LEADER_RETRY_MS, this.options.backoffMs));
      return;
    }
    this.#lost(`stream error: ${error.message}`);
  }

  /** The election moved: leave a master that no longer leads. */
  #leaderChanged(): void {
    const leader = this.options.discovery.current();
    this.#notLeaderRetries = 0;
    // A new leader is a new target: attempts on the old one (often still failing — a dead host)
    // must not make the agent wait out their backoff before it says hello.
    if (leader !== undefined) this.#attempt = 0;
    const standby = this.#standby;
    if (standby && standby.address === leader && this.#state !== 'REGISTERED' && this.#state !== 'CLOSED') {
      // Its hello is already there (read while the old leader's session expired): keep waiting on it.
      this.#adopt(standby);
      return;
    }
    if (standby) this.#cancelStandby();
    if (this.#state === 'BACKOFF' && leader !== undefined) {
      this.#connectNow();
      return;
    }
    if ((this.#state === 'REGISTERED' || this.#state === 'REGISTERING') && leader !== this.#address) {
      this.#drop(`the leading master is now ${leader ?? 'unknown'}`, true);
    }
  }

  /** Connect at once (from BACKOFF): on the next timer turn, or when `wake` runs it. */
  #connectNow(): void {
    this.options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const { wake } = this.options;
    if (!wake) {
      this.#timer = this.options.clock.setTimeout(() => void this.#connect(), 0);
      return;
    }
    wake(() => {
      // Only if nothing has happened since: still waiting, and no backoff timer of its own.
      if (this.#state === 'BACKOFF' && this.#timer === undefined) void this.#connect();
    });
  }

  #ended(call: Call, reason: string): void {
    if (this.#notCurrent(call)) return;
    this.handlers.onStreamLost?.('lost');
    this.#lost(reason);
  }

  /** The stream to the master broke (not a refusal, not a move): reconnect, and wait at the successor. */
  #lost(reason: string): void {
    const lost = this.#address;
    this.#drop(reason);
    if (lost !== undefined) void this.#waitAtSuccessor(lost);
  }

  async #waitAtSuccessor(lost: string): Promise<void> {
    const { discovery } = this.options;
    if (!discovery.successor || this.#standby || discovery.current() !== lost) return;
    const address = await discovery.successor();
    if (address === undefined || address === lost || !this.#mayWait(lost)) return;
    let hello: AgentMessage | Buffer;
    try {
      hello = await this.handlers.hello();
    } catch {
      return; // the stream to the leader reports it
    }
    if (!this.#mayWait(lost)) return;
    const metadata = new grpc.Metadata();
    metadata.set(LEADER_LOST_HEADER, lost);
    const call = this.#open(address, metadata);
    this.#standby = { call, address, helloSentAtMs: this.options.clock.now() };
    this.options.logger.info({ leader: lost, successor: address }, 'lost the stream to the leader; waiting at the master next in line');
    call.write(hello);
  }

  /** Still looking for a master, `lost` still leads, and nothing waits at the successor yet? */
  #mayWait(lost: string): boolean {
    const state: ConnectionState = this.#state;
    return !this.#standby && this.options.discovery.current() === lost && state !== 'CLOSED' && state !== 'REGISTERED';
  }

  /** The stream waiting at the successor becomes the agent's stream (registering). */
  #adopt(standby: Stream): void {
    this.#standby = undefined;
    const old = this.#call;
    this.#clearTimers();
    this.#held = undefined;
    this.#call = standby.call;
    this.#address = standby.address;
    this.#state = 'REGISTERING';
    this.#helloSentAtMs = standby.helloSentAtMs;
    this.#viaSuccessor = true;
    old?.cancel();
    this.#armRegistrationTimeout();
  }

  #cancelStandby(): void {
    const standby = this.#standby;
    this.#standby = undefined;
    standby?.call.cancel();
  }

  #drop(reason: string, immediately = false, delayMs?: number): void {
    if (this.#state === 'CLOSED' || this.#state === 'BACKOFF') return;
    this.#held = undefined;
    const wasRegistered = this.#state === 'REGISTERED';
    const call = this.#call;
    this.#call = undefined;
    this.#clearTimers();
    call?.cancel();
    this.options.logger.warn({ master: this.#address, reason }, wasRegistered ? 'disconnected from the master' : 'could not register with the master');
    if (wasRegistered) this.handlers.onDisconnected(reason);
    this.#backoff(immediately, delayMs);
  }

  #backoff(immediately = false, fixedDelayMs?: number): void {
    if (this.#state === 'CLOSED') return;
    this.#state = 'BACKOFF';
    // Following a new leader is immediate once; masters that keep sending us on are backed off from.
    let delay = fixedDelayMs;
    if (delay === undefined) {
      delay = immediately && this.#attempt === 0 ? 0 : backoffDelay(this.options.random ?? mathRandom, this.#attempt, this.options.backoffMs, this.options.backoffMaxMs);
      this.#attempt += 1;
    }
    this.#timer = this.options.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delay);
  }

  #clearTimers(): void {
    this.options.clock.clearTimeout(this.#timer);
    this.options.clock.clearTimeout(this.#pingTimer);
    this.#timer = undefined;
    this.#pingTimer = undefined;
  }
}
