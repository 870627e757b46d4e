// The Jobs API: how people and tools submit work to the built-in frameworks.
//
//   gRPC Jobs (grpc.ts) ──┐                    ┌─► ServiceController (frameworks/services)
//                         ├─► JobsApi ─► ControllerRegistry ─► cron, batch (later)
//   HTTP mirror (http.ts) ┘   (jobs-api.ts)    └─ TaskLocator ─► master /api/v1/tasks ─► agent logs
//
// ServingGate says whether this instance serves (the elected one) or redirects to the leader.
export { JobsApi, type ApplyInput } from './jobs-api.js';
export { ControllerRegistry } from './registry.js';
export { jobsGrpcHandlers } from './grpc.js';
export { registerJobsHttp, type JobsHttpOptions } from './http.js';
export { ALWAYS_SERVING, checkServing, type LeaderAddresses, type ServingGate } from './gate.js';
export { MasterTaskLocator, readTaskLogs, type LogChunk, type LogRequest } from './task-logs.js';
export { parseDocument, fromObject, specFromWire, type ParsedSpec } from './document.js';
export { KINDS, kindFromAlias, kindFromDocument, kindFromWire, namesOf, type KindNames } from './kinds.js';
export { httpBase, request, requestJson, errorFromResponse, type RequestOptions } from './http-client.js';
export type { WatchFilter, WatchSink } from './watch.js';
