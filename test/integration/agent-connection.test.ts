// The agent's stream to the master (agent/connection.ts) against a real gRPC AgentGateway on
// loopback that answers like a master just elected and still taking over: UNAVAILABLE, "not the
// leader, no leader known", a few times, then `registered`. The agent asks again within moments
// rather than after its (here 1 s, doubling) reconnect backoff.
import type * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock, systemClock } from '../../core/clock.js';
import { StaticDiscovery, type MasterDiscovery } from '../../core/discovery.js';
import { NotLeaderError } from '../../core/errors.js';
import { createGrpcServer, toGrpcError, type GrpcServer } from '../../core/grpc.js';
import { silentLogger } from '../../core/logger.js';
import { MasterConnection } from '../../agent/connection.js';
import { AgentGatewayService, type AgentGatewayHandlers, type AgentMessage__Output, type MasterMessage } from '../../proto/index.js';
import { eventually } from '../support/master-harness.js';

const closers: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A gateway that refuses the first `refusals` streams as a master still taking over would. */
async function takingOverGateway(refusals: number): Promise<{ address: string; attempts: number[] }> {
  const attempts: number[] = [];
  const grpcServer: GrpcServer = createGrpcServer();
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

/** A started MasterConnection that registers a small agent; `registered` collects the ids it is given. */
function startConnection(options: Omit<ConstructorParameters<typeof MasterConnection>[0], 'logger'>): { registered: string[] } {
  const registered: string[] = [];
  const connection = new MasterConnection(
    { ...options, logger: silentLogger() },
    {
      hello: () => ({ register: { agentInfo: { hostname: 'h', resources: [{ name: 'cpus', type: 'SCALAR', scalar: 1 }] }, version: 'test' } }),
      onRegistered: (answer) => void registered.push(answer.agentId),
      onMessage: () => undefined,
      onDisconnected: () => undefined,
    },
  );
  closers.push(() => connection.stop());
  connection.start();
  return { registered };
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
  constructor(private leader: string) {}
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
  const grpcServer: GrpcServer = createGrpcServer();
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
    const { registered } = startConnection({ discovery, clock, backoffMs: 1000, backoffMaxMs: 30_000, registrationTimeoutMs: 60_000 });
    clock.advance(0);
    // The old leader fails the first stream: backoff (attempt 1); the second stream hangs there.
    await eventually(() => expect(old.streams()).toBe(1), { timeoutMs: 5000 });
    await eventually(() => expect(clock.pending()).toBeGreaterThan(0), { timeoutMs: 5000, what: 'the backoff timer' });
    clock.advance(2000);
    await eventually(() => expect(old.streams()).toBe(2), { timeoutMs: 5000 });

    discovery.move(next.address);
    // No time passes on the clock beyond "now": a backoff (2 s at attempt 1) would never fire.
    clock.advance(0);
    await eventually(() => expect(registered).toEqual(['S1']), { timeoutMs: 5000, what: 'registered with the new leader' });
    expect(next.attempts).toHaveLength(1);
  });
});
