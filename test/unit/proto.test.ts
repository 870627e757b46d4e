import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  AgentGatewayService,
  JobsService,
  LOADER_OPTIONS,
  packageDefinition,
  PROTO_FILES,
  PROTO_ROOT,
  SchedulerService,
  SERVICE_NAMES,
  TaskState,
  type AcceptRequest,
  type AgentMessage,
  type ApplyRequest,
  type Event,
  type MasterMessage,
  type TaskInfo,
} from '../../proto/index.js';

type MethodShape = Record<string, { requestStream: boolean; responseStream: boolean }>;

function shape(service: MethodShape): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service).map(([name, m]) => [name, `${m.requestStream ? 'stream' : 'unary'}->${m.responseStream ? 'stream' : 'unary'}`]),
  );
}

describe('proto package', () => {
  it('loads every .proto file under proto/agora/v1', () => {
    const onDisk = readdirSync(join(PROTO_ROOT, 'agora', 'v1'))
      .filter((f) => f.endsWith('.proto'))
      .map((f) => `agora/v1/${f}`)
      .sort();
    expect([...PROTO_FILES].sort()).toEqual(onDisk);
    for (const name of Object.values(SERVICE_NAMES)) expect(packageDefinition).toHaveProperty([name]);
    expect(packageDefinition).toHaveProperty(['agora.v1.TaskInfo']);
  });

  it('uses the loader options the generator was run with', async () => {
    // A path in a variable: the script is plain JS, typed here as unknown.
    const script = pathToFileURL(join(PROTO_ROOT, '..', 'scripts', 'proto-gen.mjs')).href;
    const { GENERATOR_OPTIONS } = (await import(script)) as { GENERATOR_OPTIONS: Record<string, unknown> };
    const runtime = Object.fromEntries(
      Object.entries(LOADER_OPTIONS).map(([k, v]) => [k, typeof v === 'function' ? v.name : v]),
    );
    expect(runtime).toEqual(GENERATOR_OPTIONS);
  });

  it('exports enums as runtime objects holding the task states of ARCHITECTURE.md', () => {
    expect(Object.keys(TaskState)).toEqual([
      'TASK_STATE_UNSPECIFIED',
      'TASK_STAGING',
      'TASK_STARTING',
      'TASK_RUNNING',
      'TASK_KILLING',
      'TASK_FINISHED',
      'TASK_FAILED',
      'TASK_KILLED',
      'TASK_ERROR',
      'TASK_LOST',
      'TASK_UNREACHABLE',
      'TASK_GONE',
      'TASK_DROPPED',
      'TASK_UNKNOWN',
    ]);
    expect(TaskState.TASK_RUNNING).toBe('TASK_RUNNING');
  });
});

describe('services', () => {
  it('Scheduler: a server-streaming Subscribe and unary calls', () => {
    expect(shape(SchedulerService)).toEqual({
      Subscribe: 'unary->stream',
      Accept: 'unary->unary',
      Decline: 'unary->unary',
      Revive: 'unary->unary',
      Suppress: 'unary->unary',
      Kill: 'unary->unary',
      Acknowledge: 'unary->unary',
      AcknowledgeBatch: 'unary->unary',
      Reconcile: 'unary->unary',
      Message: 'unary->unary',
      UpdateFramework: 'unary->unary',
      Teardown: 'unary->unary',
    });
    expect(SchedulerService.Accept.path).toBe('/agora.v1.Scheduler/Accept');
  });

  it('AgentGateway: one bidirectional Connect', () => {
    expect(shape(AgentGatewayService)).toEqual({ Connect: 'stream->stream' });
  });

  it('Jobs: unary calls plus streaming Watch and TaskLogs', () => {
    expect(shape(JobsService)).toEqual({
      Apply: 'unary->unary',
      Get: 'unary->unary',
      List: 'unary->unary',
      Delete: 'unary->unary',
      Scale: 'unary->unary',
      Rollback: 'unary->unary',
      Restart: 'unary->unary',
      KillTasks: 'unary->unary',
      Promote: 'unary->unary',
      Abort: 'unary->unary',
      Trigger: 'unary->unary',
      Suspend: 'unary->unary',
      Watch: 'unary->stream',
      TaskLogs: 'unary->stream',
    });
  });
});

describe('encoding', () => {
  const task: TaskInfo = {
    name: 'web-1',
    taskId: 'web.1',
    agentId: 'agent-1',
    resources: [
      { name: 'cpus', type: 'SCALAR', scalar: 0.5 },
      { name: 'ports', type: 'RANGES', ranges: [{ begin: 31000, end: 31001 }], role: 'web' },
    ],
    command: { shell: false, value: '/bin/server', arguments: ['/bin/server', '--port=31000'], environment: { variables: [{ name: 'A', value: '1' }] } },
    container: { type: 'CONTAINER_DOCKER', docker: { image: 'busybox', network: 'NETWORK_BRIDGE', portMappings: [{ containerPort: 80, protocol: 'tcp' }] } },
    healthCheck: { type: 'HTTP', http: { portIndex: 0, path: '/health' }, intervalSeconds: 2.5, consecutiveFailures: 3 },
    killPolicy: { gracePeriodSeconds: 1.5 },
    labels: { app: 'web' },
    maxCompletionTimeSeconds: 3600,
    data: Buffer.from([0, 1, 2, 255]),
    fake: { durationSeconds: 0.25, exitCode: 3 },
  };

  it('round-trips a TaskInfo inside an AcceptRequest', () => {
    const request: AcceptRequest = {
      frameworkId: 'fw-1',
      offerIds: ['o-1', 'o-2'],
      operations: [{ launch: { taskInfos: [task] } }],
      filters: { refuseSeconds: 10 },
    };
    const bytes = SchedulerService.Accept.requestSerialize(request);
    const decoded = SchedulerService.Accept.requestDeserialize(bytes);

    expect(decoded.frameworkId).toBe('fw-1');
    expect(decoded.offerIds).toEqual(['o-1', 'o-2']);
    expect(decoded.filters?.refuseSeconds).toBe(10);
    const op = decoded.operations[0];
    expect(op?.type).toBe('launch');
    const t = op?.launch?.taskInfos[0];
    expect(t).toBeDefined();
    expect(t?.taskId).toBe('web.1');
    expect(t?.resources[0]).toMatchObject({ name: 'cpus', type: 'SCALAR', scalar: 0.5, ranges: [], set: [] });
    expect(t?.resources[0]?.role).toBeUndefined(); // optional, absent
    expect(t?.resources[1]).toMatchObject({ type: 'RANGES', ranges: [{ begin: 31000, end: 31001 }], role: 'web' });
    expect(t?.command?.shell).toBe(false); // optional, present although false
    expect(t?.command?.arguments).toEqual(['/bin/server', '--port=31000']);
    expect(t?.container?.docker?.portMappings[0]).toEqual({ hostPort: 0, containerPort: 80, protocol: 'tcp', name: '' });
    expect(t?.healthCheck?.http?.portIndex).toBe(0);
    expect(t?.healthCheck?.intervalSeconds).toBe(2.5);
    expect(t?.healthCheck?.delaySeconds).toBeUndefined(); // absent → the default applies
    expect(t?.killPolicy?.gracePeriodSeconds).toBe(1.5);
    expect(t?.labels).toEqual({ app: 'web' });
    expect(t?.maxCompletionTimeSeconds).toBe(3600);
    expect(Buffer.from(t?.data ?? []).equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    expect(t?.fake).toMatchObject({ durationSeconds: 0.25, exitCode: 3 });
    expect(t?.readinessCheck).toBeNull(); // absent message
  });

  it('round-trips Events with their oneof discriminant', () => {
    const events: Event[] = [
      { subscribed: { frameworkId: 'fw-1', heartbeatIntervalSeconds: 15, masterInfo: { id: 'm1', grpcAddress: '127.0.0.1:5051' } } },
      { offers: { offers: [{ id: 'o-1', agentId: 'a-1', hostname: 'h', resources: [{ name: 'mem', scalar: 1024 }], allocationRole: '*' }] } },
      { update: { status: { taskId: 't', state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LIMITATION_MEMORY', healthy: false, exitCode: 0, timestampMs: 1_767_225_600_123, uuid: 'u-1' } } },
      { heartbeat: {} },
    ];
    const decoded = events.map((e) => SchedulerService.Subscribe.responseDeserialize(SchedulerService.Subscribe.responseSerialize(e)));

    expect(decoded.map((e) => e.type)).toEqual(['subscribed', 'offers', 'update', 'heartbeat']);
    expect(decoded[0]?.subscribed?.masterInfo?.grpcAddress).toBe('127.0.0.1:5051');
    expect(decoded[1]?.offers?.offers[0]?.resources[0]).toMatchObject({ name: 'mem', type: 'SCALAR', scalar: 1024 });
    const status = decoded[2]?.update?.status;
    expect(status?.state).toBe('TASK_FAILED');
    expect(status?.reason).toBe('REASON_CONTAINER_LIMITATION_MEMORY');
    expect(status?.healthy).toBe(false); // presence kept: false, not absent
    expect(status?.ready).toBeUndefined();
    expect(status?.exitCode).toBe(0);
    expect(status?.timestampMs).toBe(1_767_225_600_123); // int64 as a JS number
    expect(status?.source).toBe('SOURCE_UNSPECIFIED'); // enum default as its name
    expect(decoded[3]?.heartbeat).toEqual({});
    expect(decoded[3]?.subscribed).toBeUndefined();
  });

  it('round-trips agent protocol messages in both directions', () => {
    const up: AgentMessage = { statusUpdate: { frameworkId: 'fw', status: { taskId: 't', state: 'TASK_RUNNING', uuid: 'u' } } };
    const down: MasterMessage = { ping: { seq: 42 } };
    const upDecoded = AgentGatewayService.Connect.requestDeserialize(AgentGatewayService.Connect.requestSerialize(up));
    const downDecoded = AgentGatewayService.Connect.responseDeserialize(AgentGatewayService.Connect.responseSerialize(down));
    expect(upDecoded.type).toBe('statusUpdate');
    expect(upDecoded.statusUpdate?.status?.state).toBe('TASK_RUNNING');
    expect(downDecoded).toMatchObject({ type: 'ping', ping: { seq: 42 } });
  });

  it('carries a Jobs spec as a document or as a structured message', () => {
    const asText: ApplyRequest = { document: 'kind: Service\nname: web\n', format: 'YAML' };
    const structured: ApplyRequest = {
      service: { name: 'web', instances: 2, resources: { cpus: 0.1, mem: 64 }, constraints: [{ field: 'hostname', operator: 'UNIQUE' }] },
    };
    const a = JobsService.Apply.requestDeserialize(JobsService.Apply.requestSerialize(asText));
    const b = JobsService.Apply.requestDeserialize(JobsService.Apply.requestSerialize(structured));
    expect(a).toMatchObject({ spec: 'document', document: 'kind: Service\nname: web\n', format: 'YAML' });
    expect(b.spec).toBe('service');
    expect(b.service?.constraints[0]).toEqual({ field: 'hostname', operator: 'UNIQUE', value: '' });
    expect(b.format).toBe('FORMAT_AUTO');
  });
});
