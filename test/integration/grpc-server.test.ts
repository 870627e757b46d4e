// A real gRPC server on loopback, over TLS as every Agora server: health (open, as /health),
// reflection (for authenticated callers only), and AgoraError ↔ gRPC status mapping.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgoraError,
  CODE_METADATA_KEY,
  FIELD_METADATA_KEY,
  InvalidArgumentError,
  LEADER_METADATA_KEY,
  NotFoundError,
  NotLeaderError,
} from '../../core/errors.js';
import {
  bindServer,
  createGrpcServer,
  fromGrpcError,
  toGrpcError,
  unary,
  unaryCall,
  type GrpcServer,
} from '../../core/grpc.js';
import {
  LOADER_OPTIONS,
  SchedulerClient,
  SchedulerService,
  SERVICE_NAMES,
  type Ack,
  type Ack__Output,
  type SchedulerHandlers,
} from '../../proto/index.js';
import { adminChannel, channel, testAuthenticator, testPki } from '../support/security.js';

// ---- plain clients for the standard services, loaded from their own protos ----

interface HealthClient extends grpc.Client {
  check(req: { service: string }, cb: grpc.requestCallback<{ status: string }>): grpc.ClientUnaryCall;
}
interface ReflectionResponse {
  listServicesResponse?: { service: Array<{ name: string }> };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}
interface ReflectionClient extends grpc.Client {
  serverReflectionInfo(): grpc.ClientDuplexStream<Record<string, string>, ReflectionResponse>;
}
type ClientCtor<T> = new (address: string, credentials: grpc.ChannelCredentials) => T;

function loadCtor<T>(file: string, includeDir: string, path: string[]): ClientCtor<T> {
  const definition = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [includeDir] });
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const key of path) node = (node as Record<string, unknown>)[key];
  return node as ClientCtor<T>;
}

const Health = loadCtor<HealthClient>('health/v1/health.proto', dirname(dirname(dirname(healthProtoPath))), ['grpc', 'health', 'v1', 'Health']);
const reflectionProtoDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
const Reflection = loadCtor<ReflectionClient>('grpc/reflection/v1/reflection.proto', reflectionProtoDir, ['grpc', 'reflection', 'v1', 'ServerReflection']);

function reflect(client: ReflectionClient, request: Record<string, string>): Promise<ReflectionResponse> {
  return new Promise((resolve, reject) => {
    const call = client.serverReflectionInfo();
    call.once('data', (response: ReflectionResponse) => {
      resolve(response);
      call.end();
    });
    call.once('error', reject);
    call.write(request);
  });
}

function failedCall(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err as grpc.ServiceError,
  );
}

// ---- the server under test ----

const errorsSeen: Array<{ code: string; method: string }> = [];

const handlers: Partial<SchedulerHandlers> = {
  Accept: unary(async () => {
    throw new InvalidArgumentError('tasks[0].resources', 'cpus must be positive');
  }),
  Decline: unary(async () => {
    throw new NotLeaderError('10.0.0.2:5051');
  }),
  Revive: unary(
    async () => {
      throw new Error('boom');
    },
    { onError: (err, method) => errorsSeen.push({ code: err.code, method }) },
  ),
  Kill: unary((): Ack => {
    throw new NotFoundError('task', 't-9'); // thrown synchronously
  }),
  Suppress: unary(async (request) => {
    if (request.frameworkId === 'fw-odd') throw new InvalidArgumentError('spec.env.é\tkey', `unknown name '${'n'.repeat(100_000)}'`);
    if (request.frameworkId !== 'fw-1') throw new InvalidArgumentError('framework_id', 'unknown framework');
    return {};
  }),
};

describe('gRPC server helpers on loopback', () => {
  let server: GrpcServer;
  let address: string;
  let scheduler: SchedulerClient;
  let health: HealthClient;
  let reflection: ReflectionClient;

  beforeAll(async () => {
    server = createGrpcServer({ health: { '': 'SERVING', [SERVICE_NAMES.Scheduler]: 'SERVING' }, tls: testPki().serverTls, reflectionAuth: await testAuthenticator() });
    // Partial on purpose: grpc-js answers the missing methods with UNIMPLEMENTED.
    server.server.addService(SchedulerService, handlers as grpc.UntypedServiceImplementation);
    const port = await server.bind('127.0.0.1', 0);
    expect(port).toBeGreaterThan(0);
    address = `127.0.0.1:${port}`;
    scheduler = new SchedulerClient(address, adminChannel());
    health = new Health(address, channel({}));
    reflection = new Reflection(address, adminChannel());
  });

  afterAll(async () => {
    scheduler?.close();
    health?.close();
    reflection?.close();
    await server?.shutdown(1_000);
  });

  it('answers health checks, and NOT_SERVING once told', async () => {
    const check = (service: string): Promise<{ status: string }> => unaryCall((cb) => health.check({ service }, cb));
    expect(await check('')).toEqual({ status: 'SERVING' });
    expect(await check(SERVICE_NAMES.Scheduler)).toEqual({ status: 'SERVING' });

    server.setServingStatus(SERVICE_NAMES.Scheduler, 'NOT_SERVING');
    expect(await check(SERVICE_NAMES.Scheduler)).toEqual({ status: 'NOT_SERVING' });
    server.setServingStatus(SERVICE_NAMES.Scheduler, 'SERVING');
    expect(await check(SERVICE_NAMES.Scheduler)).toEqual({ status: 'SERVING' });

    const unknown = await failedCall(check('agora.v1.Nope'));
    expect(fromGrpcError(unknown).code).toBe('AGORA_NOT_FOUND');
  });

  it('answers health checks without credentials, but reflection only with them', async () => {
    const anonymous = new Reflection(address, channel({}));
    try {
      const refused = await failedCall(reflect(anonymous, { listServices: '' }));
      expect(fromGrpcError(refused).code).toBe('AGORA_UNAUTHENTICATED');
    } finally {
      anonymous.close();
    }
    const plaintext = new SchedulerClient(address, grpc.credentials.createInsecure());
    try {
      const err = await failedCall(unaryCall<Ack__Output>((cb) => plaintext.suppress({ frameworkId: 'fw-1' }, { deadline: Date.now() + 3_000 }, cb)));
      expect((err as unknown as AgoraError).code).toBe('AGORA_UNAVAILABLE');
    } finally {
      plaintext.close();
    }
  });

  it('lists the Agora services and health through reflection', async () => {
    const response = await reflect(reflection, { listServices: '' });
    const names = response.listServicesResponse?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['agora.v1.Scheduler', 'agora.v1.AgentGateway', 'agora.v1.Jobs', 'grpc.health.v1.Health']));

    const file = await reflect(reflection, { fileContainingSymbol: 'agora.v1.TaskInfo' });
    expect(file.errorResponse).toBeUndefined();
    expect(file.fileDescriptorResponse?.fileDescriptorProto.length).toBeGreaterThan(0);
  });

  it('sends InvalidArgumentError as INVALID_ARGUMENT with the field in metadata', async () => {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      scheduler.accept({ frameworkId: 'fw-1' }, (e) => resolve(e as grpc.ServiceError));
    });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toBe('tasks[0].resources: cpus must be positive');
    expect(err.metadata.get(CODE_METADATA_KEY)).toEqual(['AGORA_INVALID_ARGUMENT']);
    expect(err.metadata.get(FIELD_METADATA_KEY)).toEqual(['tasks[0].resources']);

    const typed = fromGrpcError(err);
    expect(typed).toBeInstanceOf(InvalidArgumentError);
    expect(typed.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(typed.field).toBe('tasks[0].resources');
    expect(typed.message).toBe('tasks[0].resources: cpus must be positive');
  });

  it('sends a status for a field outside printable ASCII and a message that echoes a huge input', async () => {
    // grpc-js throws on a text metadata value outside printable ASCII, and a message too big for the
    // trailers stalls the call: either used to leave the client without a status until its deadline.
    const err = await failedCall(unaryCall<Ack__Output>((cb) => scheduler.suppress({ frameworkId: 'fw-odd' }, { deadline: Date.now() + 5_000 }, cb)));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    const typed = err as unknown as AgoraError;
    expect(typed.field).toBe('spec.env.é\tkey');
    expect(typed.message.length).toBeLessThan(5_000);
    expect(typed.message).toMatch(/^spec\.env\.é\tkey: unknown name 'n+… \(\d+ more characters\)$/);
  });

  it('rejects unaryCall with the typed error directly', async () => {
    const err = await failedCall(unaryCall<Ack__Output>((cb) => scheduler.suppress({ frameworkId: 'fw-2' }, cb)));
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as unknown as AgoraError).field).toBe('framework_id');
    await expect(unaryCall<Ack__Output>((cb) => scheduler.suppress({ frameworkId: 'fw-1' }, cb))).resolves.toEqual({});
  });

  it('carries the leader address of a NotLeaderError', async () => {
    const raw = await new Promise<grpc.ServiceError>((resolve) => {
      scheduler.decline({ frameworkId: 'fw-1' }, (err) => resolve(err as grpc.ServiceError));
    });
    expect(raw.code).toBe(grpc.status.UNAVAILABLE);
    expect(raw.metadata.get(LEADER_METADATA_KEY)).toEqual(['10.0.0.2:5051']);

    const typed = fromGrpcError(raw);
    expect(typed).toBeInstanceOf(NotLeaderError);
    expect(typed.code).toBe('AGORA_NOT_LEADER');
    expect((typed as NotLeaderError).leader).toBe('10.0.0.2:5051');
  });

  it('turns unexpected and synchronous throws into statuses and keeps serving', async () => {
    const internal = await failedCall(unaryCall<Ack__Output>((cb) => scheduler.revive({ frameworkId: 'fw-1' }, cb)));
    expect((internal as unknown as AgoraError).code).toBe('AGORA_INTERNAL');
    expect(internal.message).toBe('boom');
    expect(errorsSeen).toEqual([{ code: 'AGORA_INTERNAL', method: '/agora.v1.Scheduler/Revive' }]);

    const notFound = await failedCall(unaryCall<Ack__Output>((cb) => scheduler.kill({ frameworkId: 'fw-1', taskId: 't-9' }, cb)));
    expect((notFound as unknown as AgoraError).code).toBe('AGORA_NOT_FOUND');
    expect(notFound.message).toBe("task 't-9' not found");

    const unimplemented = await failedCall(unaryCall<Ack__Output>((cb) => scheduler.teardown({ frameworkId: 'fw-1' }, cb)));
    expect((unimplemented as unknown as AgoraError).code).toBe('AGORA_UNIMPLEMENTED');

    await expect(unaryCall<Ack__Output>((cb) => scheduler.suppress({ frameworkId: 'fw-1' }, cb))).resolves.toEqual({});
  });

  it('fails to bind a port already in use with AGORA_UNAVAILABLE', async () => {
    const other = new grpc.Server();
    try {
      const port = Number(address.split(':')[1]);
      const err = await failedCall(bindServer(other, '127.0.0.1', port));
      expect((err as unknown as AgoraError).code).toBe('AGORA_UNAVAILABLE');
    } finally {
      other.forceShutdown();
    }
  });
});

describe('clients of an absent server', () => {
  it('get AGORA_UNAVAILABLE', async () => {
    const server = createGrpcServer({ tls: testPki().serverTls });
    const port = await server.bind('127.0.0.1', 0);
    await server.shutdown(0);
    const client = new SchedulerClient(`127.0.0.1:${port}`, adminChannel());
    try {
      const err = await failedCall(
        unaryCall<Ack__Output>((cb) => client.suppress({}, { deadline: Date.now() + 5_000 }, cb)),
      );
      expect((err as unknown as AgoraError).code).toBe('AGORA_UNAVAILABLE');
    } finally {
      client.close();
    }
  });
});

describe('error mapping without a network', () => {
  it('keeps the Agora code of a status error passed through another server', () => {
    const upstream = toGrpcError(new NotLeaderError('10.0.0.3:5051'));
    const relayed = toGrpcError(upstream);
    expect(relayed.code).toBe(grpc.status.UNAVAILABLE);
    expect(relayed.metadata.get(LEADER_METADATA_KEY)).toEqual(['10.0.0.3:5051']);
  });

  it('maps a status without Agora metadata by its gRPC code', () => {
    const bare = Object.assign(new Error('14 UNAVAILABLE: no connection'), {
      code: grpc.status.UNAVAILABLE,
      details: 'no connection',
      metadata: new grpc.Metadata(),
    });
    const typed = fromGrpcError(bare);
    expect(typed.code).toBe('AGORA_UNAVAILABLE');
    expect(typed.message).toBe('no connection');
    expect(fromGrpcError(new Error('plain')).code).toBe('AGORA_INTERNAL');
  });

  it('does not invent a field for INVALID_ARGUMENT without one', () => {
    const status = toGrpcError(new AgoraError('AGORA_INVALID_ARGUMENT', 'bad input'));
    expect(status.metadata.get(FIELD_METADATA_KEY)).toEqual([]);
    const typed = fromGrpcError(status);
    expect(typed.code).toBe('AGORA_INVALID_ARGUMENT');
    expect(typed.field).toBeUndefined();
  });
});
