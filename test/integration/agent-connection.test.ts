// The agent's stream to the master (agent/connection.ts) against a real gRPC AgentGateway on
// loopback that answers like a master just elected and still taking over: UNAVAILABLE, "not the
// leader, no leader known", a few times, then `registered`. The agent asks again within moments
// rather than after its (here 1 s, doubling) reconnect backoff.
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../core/clock.js';
import { LEADER_LOST_HEADER, StaticDiscovery, type MasterDiscovery } from '../../core/discovery.js';
import { NotLeaderError, UnavailableError } from '../../core/errors.js';
import { createGrpcServer, toGrpcError, type GrpcServer } from '../../core/grpc.js';
import { silentLogger } from '../../core/logger.js';
import { MasterConnection, type RegistrationDetails } from '../../agent/connection.js';
import { encodeAgentMessage, GatewayChannels } from '../../agent/gateway-transport.js';
import { AgentGatewayService, type AgentGatewayHandlers, type AgentMessage__Output, type MasterMessage } from '../../proto/index.js';
import { eventually } from '../support/master-harness.js';
import { agentChannel, testPki } from '../support/security.js';
import { holdsFor } from '../support/waits.js';

const closers: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A gateway that refuses the first `refusals` streams as a master still taking over would. */
async function takingOverGateway(refusals: number): Promise<{ address: string; attempts: number[] }> {
  const attempts: number[] = [];
  const grpcServer: GrpcServer = createGrpcServer({ tls: testPki().serverTls });
  grpcServer.server.addService(AgentGatewayService, {
    Connect: (stream: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>) => {
      attempts.push(Date.now());
      if (attempts.length <= refusals) {
        stream.emit('error', toGrpcError(new NotLeaderError(undefined)));
        return;
      }
      stream.on('data', (m: AgentMessage__Output) => {
        if (m.register) stream.write({ registered: { agentId: 'S1', pingIntervalSeconds: 0, maxMissedPings: 0 } });
      });
      stream.on('error', () => undefined);
    },
  } as AgentGatewayHandlers);
  const port = await grpcServer.bind('127.0.0.1', 0);
  closers.push(() => grpcServer.shutdown(100));
  return { address: `127.0.0.1:${port}`, attempts };
}

/**
 * A started MasterConnection that registers a small agent; `registered` collects the ids it is
 * given, `masters` the master each answer came from (as onRegistered is told).
 */
function startConnection(options: Omit<ConstructorParameters<typeof MasterConnection>[0], 'logger' | 'credentials'>): { registered: string[]; masters: string[]; connection: MasterConnection } {
  const registered: string[] = [];
  const masters: string[] = [];
  const connection = new MasterConnection(
    { ...options, logger: silentLogger(), credentials: agentChannel() },
    {
      hello: () => ({ register: { agentInfo: { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: 1 }] }, version: 'test' } }),
      onRegistered: (answer, master) => {
        registered.push(answer.agentId);
        masters.push(master);
      },
      onMessage: () => undefined,
      onDisconnected: () => undefined,
    },
  );
  closers.push(() => connection.stop());
  connection.start();
  return { registered, masters, connection };
}

describe('agent connection', () => {
  it('asks a master that is still taking over again within moments, not after its backoff', async () => {
    const gateway = await takingOverGateway(3);
    const { registered } = startConnection({ discovery: new StaticDiscovery([gateway.address]), clock: systemClock, backoffMs: 10_000, backoffMaxMs: 30_000, registrationTimeoutMs: 5000 });
    await eventually(() => expect(registered).toEqual(['S1']), { timeoutMs: 5000 });
    // Three quick retries (50 ms each) within the 5 s wait; the 10 s backoff would have missed it.
    expect(gateway.attempts).toHaveLength(4);
  });
});

/** Discovery whose leader the test moves. */
class MovableDiscovery implements MasterDiscovery {
  readonly #listeners = new Set<() => void>();
  constructor(protected leader: string) {}
  current(): string | undefined {
    return this.leader;
  }
  failed(): void {}
  redirect(): void {}
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  async close(): Promise<void> {}
  move(leader: string): void {
    this.leader = leader;
    for (const l of this.#listeners) l();
  }
}

/** A gateway that fails its first stream, then takes streams and never answers (a master dying). */
async function failingThenSilentGateway(): Promise<{ address: string; streams: () => number }> {
  let streams = 0;
  const grpcServer: GrpcServer = createGrpcServer({ tls: testPki().serverTls });
  grpcServer.server.addService(AgentGatewayService, {
    Connect: (stream: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>) => {
      streams += 1;
      stream.on('error', () => undefined);
      if (streams === 1) stream.emit('error', toGrpcError(new Error('the master is going down')));
    },
  } as AgentGatewayHandlers);
  const port = await grpcServer.bind('127.0.0.1', 0);
  closers.push(() => grpcServer.shutdown(100));
  return { address: `127.0.0.1:${port}`, streams: () => streams };
}

describe('agent connection, leader moves', () => {
  it('says hello to a new leader at once, whatever its attempts on the old one', async () => {
    const old = await failingThenSilentGateway();
    const next = await takingOverGateway(0);
    const discovery = new MovableDiscovery(old.address);
    const clock = new FakeClock();
    const { registered, connection } = startConnection({ discovery, clock, backoffMs: 1000, backoffMaxMs: 30_000, registrationTimeoutMs: 60_000 });
    clock.advance(0);
    // The old leader fails the first stream: backoff (attempt 1); the second stream hangs there.
    // (Wait for the backoff itself: a pending timer may still be the first stream's registration timeout.)
    await eventually(() => expect(old.streams()).toBe(1), { timeoutMs: 5000 });
    await eventually(() => expect(connection.state).toBe('BACKOFF'), { timeoutMs: 5000, what: 'the backoff after the failed stream' });
    clock.advance(2000);
    await eventually(() => expect(old.streams()).toBe(2), { timeoutMs: 5000 });

    discovery.move(next.address);
    // No time passes on the clock beyond "now": a backoff (2 s at attempt 1) would never fire.
    clock.advance(0);
    await eventually(() => expect(registered).toEqual(['S1']), { timeoutMs: 5000, what: 'registered with the new leader' });
    expect(next.attempts).toHaveLength(1);
  });
});

// ---- waiting at the successor ----------------------------------------------------------------
// When the stream to the leader breaks (not a refusal), the agent also says hello to the master
// next in line, marked LEADER_LOST_HEADER = the lost leader, and keeps that stream: the successor
// answering it, or the election naming the successor, makes it the agent's stream; the agent
// getting back to the old leader first cancels it.

/** MovableDiscovery that also names the master next in line, as the election would. */
class SuccessorDiscovery extends MovableDiscovery {
  /** How many times the agent asked for the successor: its first step, taken at once, towards waiting there. */
  asked = 0;
  /** When set, a failed leader makes current() move here silently (as an address list rotates). */
  rotateTo: string | undefined;
  constructor(
    leader: string,
    public next: string | undefined,
  ) {
    super(leader);
  }
  override failed(address?: string): void {
    if (this.rotateTo !== undefined && address === this.leader) this.leader = this.rotateTo;
  }
  async successor(): Promise<string | undefined> {
    this.asked += 1;
    return this.next;
  }
}

/** One Connect a recording gateway took. */
interface TakenStream {
  readonly stream: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>;
  /** The call's LEADER_LOST_HEADER values. */
  readonly leaderLost: grpc.MetadataValue[];
  /** What the agent sent on it, in order. */
  readonly messages: AgentMessage__Output[];
  /** The agent cancelled it. */
  cancelled: boolean;
  /** Answer the hello: `registered`, with the gateway's agent id. */
  answer(): void;
}

/**
 * A gateway that records every Connect (its metadata and messages). Stream i is answered
 * `registered` (agent id `agentId`) as soon as its hello arrives when `answers(i)`; otherwise it is
 * held without a word until the test answers, ends or fails it.
 */
async function recordingGateway(
  agentId: string,
  answers: (index: number) => boolean,
  ping: { intervalSeconds: number; maxMissed: number } = { intervalSeconds: 0, maxMissed: 0 },
): Promise<{ address: string; streams: TakenStream[] }> {
  const streams: TakenStream[] = [];
  const grpcServer: GrpcServer = createGrpcServer({ tls: testPki().serverTls });
  grpcServer.server.addService(AgentGatewayService, {
    Connect: (stream: grpc.ServerDuplexStream<AgentMessage__Output, MasterMessage>) => {
      const index = streams.length;
      const taken: TakenStream = {
        stream,
        leaderLost: stream.metadata.get(LEADER_LOST_HEADER),
        messages: [],
        cancelled: false,
        answer: () => void stream.write({ registered: { agentId, pingIntervalSeconds: ping.intervalSeconds, maxMissedPings: ping.maxMissed } }),
      };
      streams.push(taken);
      stream.on('cancelled', () => (taken.cancelled = true));
      stream.on('error', () => undefined);
      stream.on('data', (m: AgentMessage__Output) => {
        taken.messages.push(m);
        if (taken.messages.length === 1 && answers(index)) taken.answer();
      });
    },
  } as AgentGatewayHandlers);
  const port = await grpcServer.bind('127.0.0.1', 0);
  closers.push(() => grpcServer.shutdown(100));
  return { address: `127.0.0.1:${port}`, streams };
}

/** Backoff without jitter: attempt 0 waits exactly BACKOFF_MS. */
const BACKOFF_MS = 1000;
const noJitter = { next: () => 0.5 };
const connectionOptions = { backoffMs: BACKOFF_MS, backoffMaxMs: 30_000, registrationTimeoutMs: 60_000, random: noJitter };


/** The agent registered with `leader` (stream 0 answered). */
async function registeredWithLeader(leader: string, discovery: MasterDiscovery, clock: FakeClock): Promise<ReturnType<typeof startConnection>> {
  const started = startConnection({ discovery, clock, ...connectionOptions });
  clock.advance(0);
  await eventually(() => expect(started.masters).toEqual([leader]), { timeoutMs: 5000, what: 'registered with the leader' });
  return started;
}

/** The successor's first stream carries the lost leader's address and the agent's hello. */
async function helloAtSuccessor(successor: { streams: TakenStream[] }, lostLeader: string): Promise<TakenStream> {
  await eventually(() => expect(successor.streams[0]?.messages).toHaveLength(1), { timeoutMs: 5000, what: 'the hello at the successor' });
  const [held] = successor.streams;
  expect(held!.leaderLost).toEqual([lostLeader]);
  expect(held!.messages[0]!.register?.agentInfo?.hostname).toBe('h');
  return held!;
}

describe('agent connection, waiting at the successor', () => {
  it('when the leader ends the stream, says hello to the successor; once it is elected, that stream registers the agent', async () => {
    // The leader registers the agent once; later streams to it hang (a dying master).
    const leader = await recordingGateway('L', (i) => i === 0);
    const successor = await recordingGateway('S', () => false);
    const discovery = new SuccessorDiscovery(leader.address, successor.address);
    const clock = new FakeClock();
    const { registered, masters, connection } = await registeredWithLeader(leader.address, discovery, clock);
    expect(leader.streams[0]!.leaderLost).toEqual([]);

    leader.streams[0]!.stream.end();
    const held = await helloAtSuccessor(successor, leader.address);
    expect(successor.streams).toHaveLength(1);

    // Meanwhile the agent keeps trying the leader, after its backoff: that stream hangs.
    clock.advance(BACKOFF_MS);
    await eventually(() => expect(leader.streams[1]?.messages).toHaveLength(1), { timeoutMs: 5000, what: 'the retry at the leader' });
    expect(leader.streams[1]!.leaderLost).toEqual([]);

    // The old leader's session expires: the election names the successor, which answers the hello
    // it holds. The agent opens nothing new (a timer due "now" would have fired here).
    discovery.move(successor.address);
    clock.advance(0);
    held.answer();
    await eventually(() => expect(masters).toEqual([leader.address, successor.address]), { timeoutMs: 5000, what: 'registered with the successor' });
    expect(registered).toEqual(['L', 'S']);
    expect(connection.state).toBe('REGISTERED');
    expect(connection.master).toBe(successor.address);
    expect(successor.streams).toHaveLength(1);
    // The hanging retry at the old leader is given up.
    await eventually(() => expect(leader.streams[1]!.cancelled).toBe(true), { timeoutMs: 5000, what: 'the retry at the old leader cancelled' });
    expect(held.cancelled).toBe(false);
    expect(leader.streams).toHaveLength(2);
  });

  it('registers with the successor when it answers before the election is seen, and stops retrying the old leader', async () => {
    const leader = await recordingGateway('L', (i) => i === 0);
    const successor = await recordingGateway('S', () => false);
    const discovery = new SuccessorDiscovery(leader.address, successor.address);
    const clock = new FakeClock();
    const { masters, connection } = await registeredWithLeader(leader.address, discovery, clock);

    // A transport-ish failure (UNAVAILABLE naming no leader), not a refusal.
    leader.streams[0]!.stream.emit('error', toGrpcError(new UnavailableError('connection reset')));
    const held = await helloAtSuccessor(successor, leader.address);
    expect(connection.state).toBe('BACKOFF');

    // Elected before the agent's watch fires: the successor answers; discovery still names the old leader.
    held.answer();
    await eventually(() => expect(masters).toEqual([leader.address, successor.address]), { timeoutMs: 5000, what: 'registered with the successor' });
    expect(connection.state).toBe('REGISTERED');
    expect(connection.master).toBe(successor.address);
    expect(discovery.current()).toBe(leader.address);

    // The backoff towards the old leader is gone: no timer left, and time passing opens nothing there.
    expect(clock.pending()).toBe(0);
    clock.advance(60_000);
    // Long enough for a stream opened on loopback to reach its gateway.
    await holdsFor(300, () => {
      expect(leader.streams).toHaveLength(1);
      expect(successor.streams).toHaveLength(1);
    }, 'no stream opened after the backoff was cancelled');
    expect(connection.master).toBe(successor.address);
    expect(held.cancelled).toBe(false);
  });

  it('when only the link to the leader broke, registers with the leader again and cancels the stream at the successor', async () => {
    // The leader is alive: it answers every stream.
    const leader = await recordingGateway('L', () => true);
    const successor = await recordingGateway('S', () => false);
    const discovery = new SuccessorDiscovery(leader.address, successor.address);
    const clock = new FakeClock();
    const { masters, connection } = await registeredWithLeader(leader.address, discovery, clock);

    leader.streams[0]!.stream.end();
    const held = await helloAtSuccessor(successor, leader.address);

    clock.advance(BACKOFF_MS);
    await eventually(() => expect(masters).toEqual([leader.address, leader.address]), { timeoutMs: 5000, what: 'registered with the leader again' });
    expect(connection.master).toBe(leader.address);
    await eventually(() => expect(held.cancelled).toBe(true), { timeoutMs: 5000, what: 'the stream at the successor cancelled' });
    expect(successor.streams).toHaveLength(1);
    expect(leader.streams).toHaveLength(2);
  });

  it('waits at the successor when the master\'s pings stop too', async () => {
    // Pings every second, two missed tolerated: 2 s of silence and the stream is presumed dead.
    const leader = await recordingGateway('L', (i) => i === 0, { intervalSeconds: 1, maxMissed: 1 });
    const successor = await recordingGateway('S', () => false);
    const discovery = new SuccessorDiscovery(leader.address, successor.address);
    const clock = new FakeClock();
    const { masters, connection } = await registeredWithLeader(leader.address, discovery, clock);

    clock.advance(2000);
    expect(connection.state).toBe('BACKOFF');
    const held = await helloAtSuccessor(successor, leader.address);
    await eventually(() => expect(leader.streams[0]!.cancelled).toBe(true), { timeoutMs: 5000, what: 'the silent stream cancelled' });

    held.answer();
    await eventually(() => expect(masters).toEqual([leader.address, successor.address]), { timeoutMs: 5000, what: 'registered with the successor' });
    expect(successor.streams).toHaveLength(1);
  });

  it.each([
    ['a discovery without successor()', (leader: string) => new StaticDiscovery([leader])],
    ['a discovery that knows no successor', (leader: string) => new SuccessorDiscovery(leader, undefined)],
  ])('with %s, reconnects to the leader as before', async (_, makeDiscovery) => {
    const leader = await recordingGateway('L', () => true);
    const discovery = makeDiscovery(leader.address);
    const clock = new FakeClock();
    const { masters, connection } = await registeredWithLeader(leader.address, discovery, clock);

    leader.streams[0]!.stream.end();
    await eventually(() => expect(connection.state).toBe('BACKOFF'), { timeoutMs: 5000 });
    if (discovery instanceof SuccessorDiscovery) await eventually(() => expect(discovery.asked).toBe(1), { timeoutMs: 5000, what: 'the successor asked for' });
    // Only the backoff timer: nothing else waits anywhere.
    expect(clock.pending()).toBe(1);
    // A timer that fires starts connecting at once, so the state tells.
    clock.advance(BACKOFF_MS - 1);
    expect(connection.state).toBe('BACKOFF');
    clock.advance(1);
    await eventually(() => expect(masters).toEqual([leader.address, leader.address]), { timeoutMs: 5000, what: 'registered with the leader again' });
    expect(leader.streams).toHaveLength(2);
    expect(leader.streams[1]!.leaderLost).toEqual([]);
  });

  it('does not wait at the successor when discovery has already moved past the lost leader', async () => {
    const leader = await recordingGateway('L', (i) => i === 0);
    const other = await recordingGateway('O', () => true);
    const successor = await recordingGateway('S', () => false);
    const discovery = new SuccessorDiscovery(leader.address, successor.address);
    discovery.rotateTo = other.address;
    const clock = new FakeClock();
    const { masters } = await registeredWithLeader(leader.address, discovery, clock);

    // The stream error marks the leader failed: discovery now names another master.
    leader.streams[0]!.stream.emit('error', toGrpcError(new UnavailableError('connection reset')));
    await eventually(() => expect(discovery.current()).toBe(other.address), { timeoutMs: 5000 });
    expect(discovery.asked).toBe(0);

    clock.advance(BACKOFF_MS);
    await eventually(() => expect(masters).toEqual([leader.address, other.address]), { timeoutMs: 5000, what: 'registered with the next master' });
    expect(successor.streams).toHaveLength(0);
  });

  it('does not wait at the successor when the leader refuses ("not the leader"), only when the stream breaks', async () => {
    const leader = await recordingGateway('L', () => true);
    const successor = await recordingGateway('S', () => false);
    const discovery = new SuccessorDiscovery(leader.address, successor.address);
    const clock = new FakeClock();
    const { masters, connection } = await registeredWithLeader(leader.address, discovery, clock);

    leader.streams[0]!.stream.emit('error', toGrpcError(new NotLeaderError(undefined)));
    await eventually(() => expect(connection.state).toBe('BACKOFF'), { timeoutMs: 5000, what: 'the refusal' });
    expect(discovery.asked).toBe(0);
    // Asked again shortly (a master still taking over), and answered.
    clock.advance(50);
    await eventually(() => expect(masters).toEqual([leader.address, leader.address]), { timeoutMs: 5000, what: 'registered with the leader again' });
    expect(successor.streams).toHaveLength(0);
  });
});

// ---- shared by many (the failover benchmark's simulated agents) --------------------------------

describe('agent connection over a shared transport', () => {
  it('sends an encoded hello, says when the answered hello left, wakes through the hook, and stop() leaves the transport open', async () => {
    const good = await takingOverGateway(0);
    const dying = await failingThenSilentGateway();
    const transport = new GatewayChannels(agentChannel());
    closers.push(() => transport.close());
    const woken: Array<() => void> = [];
    const details: RegistrationDetails[] = [];
    const connect = (discovery: MasterDiscovery): MasterConnection => {
      const connection = new MasterConnection(
        { discovery, clock: systemClock, backoffMs: 60_000, backoffMaxMs: 60_000, registrationTimeoutMs: 5000, logger: silentLogger(), transport, wake: (c) => woken.push(c) },
        {
          hello: () => encodeAgentMessage({ register: { agentInfo: { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: 1 }] }, version: 'test' } }),
          onRegistered: (_answer, _master, d) => void details.push(d),
          onMessage: () => undefined,
          onDisconnected: () => undefined,
        },
      );
      closers.push(() => connection.stop());
      connection.start();
      return connection;
    };
    const started = Date.now();
    const first = connect(new StaticDiscovery([good.address]));
    await eventually(() => expect(first.state).toBe('REGISTERED'), { timeoutMs: 5000 });
    expect(details).toEqual([{ helloSentAtMs: expect.any(Number), viaSuccessor: false }]);
    expect(details[0]!.helloSentAtMs).toBeGreaterThanOrEqual(started);
    expect(details[0]!.helloSentAtMs).toBeLessThanOrEqual(Date.now());
    first.stop();

    // A second connection on the same transport: its master fails the stream (a 60 s backoff).
    const discovery = new MovableDiscovery(dying.address);
    const second = connect(discovery);
    await eventually(() => expect(second.state).toBe('BACKOFF'), { timeoutMs: 5000 });
    // The election moves: the connect waits for the hook to run it, not for the backoff.
    discovery.move(good.address);
    expect(woken).toHaveLength(1);
    await holdsFor(100, () => expect(good.attempts).toHaveLength(1), 'no connect before the hook runs it');
    woken[0]!();
    await eventually(() => expect(second.state).toBe('REGISTERED'), { timeoutMs: 5000 });
    expect(good.attempts).toHaveLength(2);
  });
});
