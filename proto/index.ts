// The wire contract at runtime: loads proto/agora/v1/*.proto with @grpc/proto-loader, using the
// same options the generated types in ./gen describe, and exports the service constructors,
// service definitions and every generated type. A leaf: imports nothing from the project.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as AccessRoot } from './gen/access.js';
import type { ProtoGrpcType as AgentRoot } from './gen/agent.js';
import type { ProtoGrpcType as CommonRoot } from './gen/common.js';
import type { ProtoGrpcType as JobsRoot } from './gen/jobs.js';
import type { ProtoGrpcType as SchedulerRoot } from './gen/scheduler.js';
import type { AccessClient as AccessClientInstance } from './gen/agora/v1/Access.js';
import type { AgentGatewayClient as AgentGatewayClientInstance } from './gen/agora/v1/AgentGateway.js';
import type { JobsClient as JobsClientInstance } from './gen/agora/v1/Jobs.js';
import type { SchedulerClient as SchedulerClientInstance } from './gen/agora/v1/Scheduler.js';

export * from './gen/index.js';

/**
 * Loader options, shared with the generator (scripts/proto-gen.mjs): camelCase field names,
 * 64-bit integers as JS numbers (safe to 2^53: epoch milliseconds, byte offsets, sequence
 * numbers), enums as their string names, bytes as Buffer, defaults filled in for absent
 * scalars, repeated and map fields, and a virtual field naming the set member of each oneof.
 */
export const LOADER_OPTIONS = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
} satisfies protoLoader.Options);

/** Fully qualified names of the Agora services (for health statuses, reflection, logs). */
export const SERVICE_NAMES = Object.freeze({
  Scheduler: 'agora.v1.Scheduler',
  AgentGateway: 'agora.v1.AgentGateway',
  Jobs: 'agora.v1.Jobs',
  Access: 'agora.v1.Access',
} as const);

/** The .proto files, relative to PROTO_ROOT. */
export const PROTO_FILES: readonly string[] = Object.freeze([
  'agora/v1/common.proto',
  'agora/v1/scheduler.proto',
  'agora/v1/agent.proto',
  'agora/v1/workload.proto',
  'agora/v1/jobs.proto',
  'agora/v1/access.proto',
]);

/**
 * The proto/ directory holding agora/v1/*.proto. Found by walking up from this module, so it
 * works from source (proto/index.ts) and from the build (dist/proto/index.js).
 */
export const PROTO_ROOT: string = findProtoRoot(dirname(fileURLToPath(import.meta.url)));

function findProtoRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, 'agora', 'v1', 'common.proto'))) return candidate;
    if (dirname(dir) === dir) throw new Error(`cannot find proto/agora/v1/common.proto above ${start}`);
  }
}

/** Everything in package agora.v1, as loaded. */
export type AgoraProtoGrpcType = CommonRoot & SchedulerRoot & AgentRoot & JobsRoot & AccessRoot;

/** The package definition (for grpc.loadPackageDefinition and server reflection). */
export const packageDefinition: protoLoader.PackageDefinition = protoLoader.loadSync([...PROTO_FILES], {
  ...LOADER_OPTIONS,
  includeDirs: [PROTO_ROOT],
});

/** The loaded package: message and enum definitions and service constructors under agora.v1. */
export const agoraV1: AgoraProtoGrpcType['agora']['v1'] = (
  grpc.loadPackageDefinition(packageDefinition) as unknown as AgoraProtoGrpcType
).agora.v1;

/** `new SchedulerClient(address, credentials)`; the type is a connected client. */
export const SchedulerClient = agoraV1.Scheduler;
export type SchedulerClient = SchedulerClientInstance;
/** `new AgentGatewayClient(address, credentials)`. */
export const AgentGatewayClient = agoraV1.AgentGateway;
export type AgentGatewayClient = AgentGatewayClientInstance;
/** `new JobsClient(address, credentials)`. */
export const JobsClient = agoraV1.Jobs;
export type JobsClient = JobsClientInstance;
/** `new AccessClient(address, credentials)`. */
export const AccessClient = agoraV1.Access;
export type AccessClient = AccessClientInstance;

/** Service definitions, for `server.addService(SchedulerService, handlers)`. */
export const SchedulerService = agoraV1.Scheduler.service;
export const AgentGatewayService = agoraV1.AgentGateway.service;
export const JobsService = agoraV1.Jobs.service;
export const AccessService = agoraV1.Access.service;
