// gRPC servers that shed abuse (issue 16, core/grpc-edge.ts), against a real master and a real
// Jobs API host on loopback: bytes that are not a message are INVALID_ARGUMENT naming `request`
// (not INTERNAL), on unary and streaming methods alike; a message over the limit is
// RESOURCE_EXHAUSTED; connections are capped per client address and in all.
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { CODE_METADATA_KEY, FIELD_METADATA_KEY } from '../../core/errors.js';
import { unaryCall } from '../../core/grpc.js';
import { SchedulerClient } from '../../proto/index.js';
import { closeAbusers, openTcp, tlsRefused } from '../support/abuse.js';
import { FakeServiceController, fakeServicesModule } from '../support/fake-service-controller.js';
import { startJobsHost, stopJobsHosts } from '../support/jobs-host.js';
import { eventually, MasterHarness, stopHarnesses } from '../support/master-harness.js';
import { adminChannel, agentChannel } from '../support/security.js';

const clients = new Set<grpc.Client>();

afterEach(async () => {
  for (const c of clients) c.close();
  clients.clear();
  closeAbusers();
  await stopJobsHosts();
  await stopHarnesses();
});

function rawClient(address: string, credentials: grpc.ChannelCredentials): grpc.Client {
  const client = new grpc.Client(address, credentials);
  clients.add(client);
  return client;
}

const pass = (b: Buffer): Buffer => b;
/** Field 1 with wire type 7, which does not exist: no message decodes from this. */
const GARBAGE = Buffer.from([0x0f, 0xff, 0xff, 0xff, 0xff]);

function unaryBytes(client: grpc.Client, path: string, bytes: Buffer): Promise<grpc.ServiceError> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, pass, pass, bytes, (err) => (err ? resolve(err) : reject(new Error(`${path} accepted the bytes`))));
  });
}

function expectInvalidRequest(err: grpc.ServiceError, method: string): void {
  expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(err.details).toContain(`request: the bytes are not a valid message for ${method}`);
  expect(err.metadata.get(CODE_METADATA_KEY)).toEqual(['AGORA_INVALID_ARGUMENT']);
  expect(err.metadata.get(FIELD_METADATA_KEY)).toEqual(['request']);
}

describe('gRPC servers: bytes that are not a message', () => {
  it('are INVALID_ARGUMENT naming `request` on the master, unary and streaming, and the master keeps serving', async () => {
    const h = await MasterHarness.start();
    const client = rawClient(h.address, adminChannel());
    expectInvalidRequest(await unaryBytes(client, '/agora.v1.Scheduler/Accept', GARBAGE), '/agora.v1.Scheduler/Accept');
    expectInvalidRequest(await unaryBytes(client, '/agora.v1.Access/Authenticate', GARBAGE), '/agora.v1.Access/Authenticate');

    const agent = rawClient(h.address, agentChannel());
    const stream = agent.makeBidiStreamRequest('/agora.v1.AgentGateway/Connect', pass, pass);
    const failed = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => undefined);
    stream.write(GARBAGE);
    expectInvalidRequest(await failed, '/agora.v1.AgentGateway/Connect');

    // Still serving: a real call with a real message.
    const scheduler = new SchedulerClient(h.address, adminChannel());
    clients.add(scheduler);
    await expect(unaryCall((cb) => scheduler.revive({ frameworkId: 'nope' }, cb))).rejects.toMatchObject({ code: expect.not.stringMatching(/INTERNAL/) });
    expect(h.state.frameworkCount()).toBe(0);
  });

  it('are INVALID_ARGUMENT on the Jobs API too', async () => {
    const fake = new FakeServiceController();
    const host = await startJobsHost({ modules: [fakeServicesModule(fake)] });
    const client = rawClient(host.grpcAddress as string, adminChannel());
    expectInvalidRequest(await unaryBytes(client, '/agora.v1.Jobs/Apply', GARBAGE), '/agora.v1.Jobs/Apply');
    expect(fake.entries.size).toBe(0);
  });
});

describe('gRPC servers: limits', () => {
  it('refuses a message over --grpc-max-receive-message with RESOURCE_EXHAUSTED', async () => {
    const h = await MasterHarness.start({ master: { grpcMaxReceiveMessage: '64KiB' } });
    const client = rawClient(h.address, adminChannel());
    const err = await unaryBytes(client, '/agora.v1.Scheduler/Accept', Buffer.alloc(100 * 1024));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('caps connections per client address and in all, and admits again once they go', async () => {
    const h = await MasterHarness.start({ master: { maxConnectionsPerClient: 3, grpcMaxConnections: 6 } });
    const address = h.address;
    const fromTwo = await Promise.all([0, 1, 2].map(() => openTcp(address, { from: '127.0.0.2' })));
    expect(await tlsRefused(address, { from: '127.0.0.2' })).toBe(true);
    expect(await tlsRefused(address, { from: '127.0.0.3' })).toBe(false);
    const fromThree = await Promise.all([0, 1, 2].map(() => openTcp(address, { from: '127.0.0.3' })));
    // Six open: the server is full for everyone.
    expect(await tlsRefused(address, { from: '127.0.0.1' })).toBe(true);
    for (const a of [...fromTwo, ...fromThree]) a.stop();
    await Promise.all([...fromTwo, ...fromThree].map((a) => a.closed));
    // The server counts the closes a moment after the client: a new connection is admitted again.
    await eventually(async () => !(await tlsRefused(address, { from: '127.0.0.1' })), { what: 'a connection admitted again' });
    const scheduler = new SchedulerClient(address, adminChannel());
    clients.add(scheduler);
    await expect(unaryCall((cb) => scheduler.revive({ frameworkId: 'nope' }, cb))).rejects.toMatchObject({ code: expect.stringMatching(/^AGORA_/) });
  });
});
