// A seeded fuzz test of the Jobs API on a real `agora up` (TLS and tokens on, as its admin): its
// gRPC service (proto/agora/v1/jobs.proto) and its HTTP/JSON mirror (frameworks/api/http.ts), with
// specs of services, cron jobs and jobs mutated one field at a time (deleted, nulled, of the wrong
// type, at an edge, given an unknown sibling), documents that are broken YAML or JSON, hostile names
// and ids, and bytes that are not protobuf. Judged as in fuzz-http.test.ts: a 4xx / INVALID_ARGUMENT
// family status with a message, never 5xx / INTERNAL / UNKNOWN; /health within a second; the state
// and every workload's spec unchanged after a rejected input; nothing served from outside a sandbox.
//
//   AGORA_FUZZ_SEED=123 npx vitest run test/integration/fuzz-jobs.test.ts   replay a seed
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { bodyOf, edgeNumber, fuzzSettings, hostileString, hostileValue, listOf, mutation, numericText, objectOf, protobufGarbage, query, segment, type Body } from '../support/fuzz.js';
import { runFuzz } from '../support/fuzz-session.js';
import type { FuzzCase, FuzzTarget, GrpcCase, HttpCase } from '../support/fuzz-target.js';
import { FIXTURE_NAMES, fuzzSession, startFuzzCluster } from './fuzz-cluster.js';

const settings = fuzzSettings({ runs: 220, budgetMs: 11_000 });
const TIMEOUT_MS = settings.seeds > 0 ? 6 * 3_600_000 : 60_000;

let target: FuzzTarget;
beforeAll(async () => {
  target = await startFuzzCluster();
});
afterAll(async () => {
  await target?.stop();
});

async function revive(): Promise<FuzzTarget> {
  await target.stop();
  target = await startFuzzCluster();
  return target;
}

// ---- valid specs, each field of which is mutated in turn ----------------------------------------

const TASK = { command: 'true', args: ['a'], resources: { cpus: 0.05, mem: 16, disk: 1, gpus: 0 }, env: { X: '1' }, labels: { a: 'b' }, constraints: [{ field: 'hostname', operator: 'LIKE', value: '127\\..*' }], killGracePeriodSeconds: 1, user: 'nobody', ports: [{ name: 'p', protocol: 'tcp' }] };
const CHECK = { type: 'HTTP', http: { portName: 'http', path: '/', statuses: [200] }, delaySeconds: 1, intervalSeconds: 5, timeoutSeconds: 2, consecutiveFailures: 3, gracePeriodSeconds: 10 };
const SPECS: Record<'SERVICE' | 'CRONJOB' | 'JOB', Record<string, unknown>[]> = {
  SERVICE: [
    {
      name: 'fz-m-svc', instances: 1, command: 'sleep 3600', resources: TASK.resources, ports: [{ name: 'http', protocol: 'tcp', labels: { a: 'b' } }], env: { A: 'b' }, labels: { team: 'fuzz' },
      healthCheck: CHECK, readinessCheck: { type: 'COMMAND', command: { value: 'true' } }, constraints: [{ field: 'hostname', operator: 'LIKE', value: '127\\..*' }, { field: 'hostname', operator: 'MAX_PER', value: '2' }],
      role: '', killGracePeriodSeconds: 1, backoff: { seconds: 1, factor: 1.15, maxLaunchDelaySeconds: 300 }, upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 }, canary: { instances: 0 },
      fetch: [{ value: 'https://example.com/x.tgz', extract: true, outputFile: 'x.tgz' }], user: 'nobody',
    },
    { name: 'fz-m-docker', instances: 1, args: ['sleep', '3600'], resources: TASK.resources, container: { image: 'busybox', network: 'NETWORK_HOST', parameters: [{ key: 'x', value: 'y' }], volumes: [{ containerPath: '/data', hostPath: 'data', mode: 'RO' }] } },
  ],
  CRONJOB: [
    { name: 'fz-m-cron', schedule: '*/5 * * * *', timeZone: 'Europe/Paris', concurrencyPolicy: 'FORBID', startingDeadlineSeconds: 60, retries: 1, backoff: { seconds: 1, factor: 2, maxLaunchDelaySeconds: 60 }, activeDeadlineSeconds: 60, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, suspend: true, task: TASK, labels: { team: 'fuzz' } },
    { name: 'fz-m-after', schedule: '', after: [FIXTURE_NAMES.cron], suspend: true, task: { command: 'true', resources: TASK.resources } },
  ],
  JOB: [{ name: 'fz-m-job', completions: 2, parallelism: 1, backoffLimit: 1, activeDeadlineSeconds: 60, ttlSecondsAfterFinished: 60, completionMode: 'INDEXED', gang: false, priority: 1, suspend: true, task: { ...TASK, healthCheck: CHECK }, labels: { team: 'fuzz' } }],
};
const DOCUMENT_KIND = { SERVICE: 'Service', CRONJOB: 'CronJob', JOB: 'Job' } as const;
const PLURALS = { SERVICE: 'services', CRONJOB: 'cronjobs', JOB: 'jobs' } as const;
type Kind = keyof typeof SPECS;
const KINDS = Object.keys(SPECS) as Kind[];

/** A spec of `kind` with one field changed (now and then: replaced by garbage altogether). */
function mutatedSpec(kind: Kind): fc.Arbitrary<{ spec: unknown; note: string }> {
  return fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...SPECS[kind]).chain(mutation) }, { weight: 1, arbitrary: hostileValue().map((v) => ({ spec: v, note: 'the whole spec is garbage' })) });
}

function asDocument(kind: Kind, m: { spec: unknown; note: string }, withKind: boolean): unknown {
  if (m.spec === null || typeof m.spec !== 'object' || Array.isArray(m.spec)) return m.spec;
  return withKind ? { kind: DOCUMENT_KIND[kind], ...m.spec } : m.spec;
}

function http(route: string, method: string, url: string, note: string, extra: { body?: Body; stream?: boolean } = {}): HttpCase {
  return { via: 'http', server: 'master', route, method, url, note: extra.body ? `${note} (${extra.body.note})`.trim() : note, ...extra };
}

function grpc(method: string, note: string, request: Record<string, unknown>, stream = false): GrpcCase {
  return { via: 'grpc', route: `Jobs/${method}`, request, note, stream };
}

/** Mostly a dry run, so accepted specs change nothing; otherwise applied, then deleted (fuzz-cluster.ts undo). */
const dryRunQuery = fc.oneof({ weight: 6, arbitrary: fc.constantFrom('?dryRun=1', '?dryRun=true', '?dryRun=', '?dry_run=1') }, { weight: 1, arbitrary: fc.constantFrom('', '?dryRun=0', '?dryRun=yes') });
const dryRun = fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

function httpCases(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const fx = t.fixtures;
  const kind = fc.constantFrom(...KINDS);
  const text = hostileString('url');
  const notFixture = segment(['fz-m-svc', 'fz-nope']).filter((s) => !(Object.values(FIXTURE_NAMES) as string[]).includes(s));
  const number = fc.oneof(edgeNumber(), numericText(), hostileValue());
  const heartbeat = fc.oneof(numericText(), fc.constantFrom('10', '9', '3600000', '3600001'));
  const taskId = segment([fx.liveTaskId, ...fx.jobTaskIds]);
  const apply = (withKind: boolean) => kind.chain((k) => fc.tuple(fc.constant(k), mutatedSpec(k), fc.boolean()).chain(([k2, m, kindToo]) => bodyOf(asDocument(k2, m, withKind || kindToo), { yaml: true }).map((body) => ({ k: k2, m, body }))));
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(apply(true), dryRunQuery).map(([{ m, body }, q]) => http('POST /api/v1/apply', 'POST', `/api/v1/apply${q}`, m.note, { body })) },
    { weight: 6, arbitrary: fc.tuple(apply(false), dryRunQuery, fc.constantFrom('POST', 'PUT')).map(([{ k, m, body }, q, method]) => http(`${method} /api/v1/${PLURALS[k]}`, method, `/api/v1/${PLURALS[k]}${q}`, m.note, { body })) },
    { weight: 1, arbitrary: fc.tuple(kind, query({ x: text })).map(([k, q]) => http(`GET /api/v1/${PLURALS[k]}`, 'GET', `/api/v1/${PLURALS[k]}${q}`, `query ${q}`)) },
    { weight: 2, arbitrary: fc.tuple(kind, segment(Object.values(FIXTURE_NAMES))).map(([k, n]) => http(`GET /api/v1/${PLURALS[k]}/:name`, 'GET', `/api/v1/${PLURALS[k]}/${n}`, `name ${n}`)) },
    { weight: 2, arbitrary: fc.tuple(kind, notFixture).map(([k, n]) => http(`DELETE /api/v1/${PLURALS[k]}/:name`, 'DELETE', `/api/v1/${PLURALS[k]}/${n}`, `name ${n}`)) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          segment([FIXTURE_NAMES.idle]),
          fc.oneof(
            objectOf({ instances: fc.oneof(number, fc.constantFrom(0, 1, 10_000, 10_001)) }).map((b) => ['scale', b] as const),
            objectOf({ toVersion: fc.oneof(hostileString(), fc.constantFrom('v1', 'v0', 'v999')) }).map((b) => ['rollback', b] as const),
            objectOf({ taskIds: listOf(hostileString(), 3), scale: hostileValue() }).map((b) => ['kill', b] as const),
            fc.constantFrom('restart', 'promote', 'abort').chain((a) => hostileValue().map((b) => [a, b] as const)),
          ),
        )
        .chain(([n, [action, b]]) => bodyOf(b).map((body) => http(`POST /api/v1/services/:name/${action}`, 'POST', `/api/v1/services/${n}/${action}`, `name ${n}`, { body }))),
    },
    { weight: 2, arbitrary: fc.tuple(segment([FIXTURE_NAMES.service]), query({ watch: fc.constantFrom('1', '0', 'false', '', 'x'), heartbeatMs: heartbeat })).map(([n, q]) => http('GET /api/v1/services/:name/endpoints', 'GET', `/api/v1/services/${n}/endpoints${q}`, `name ${n}, query ${q}`, { stream: true })) },
    { weight: 1, arbitrary: fc.tuple(segment([FIXTURE_NAMES.service]), query({ heartbeatMs: heartbeat })).map(([n, q]) => http('GET /api/v1/services/:name/endpoints/watch', 'GET', `/api/v1/services/${n}/endpoints/watch${q}`, `name ${n}, query ${q}`, { stream: true })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.constantFrom(['cronjobs', FIXTURE_NAMES.cron] as const, ['jobs', FIXTURE_NAMES.job] as const), fc.constantFrom('trigger', 'suspend', 'resume'), objectOf({ suspend: fc.oneof(fc.boolean(), hostileValue()) }))
        .chain(([[plural, name], action, b]) => fc.tuple(segment([name]), bodyOf(b)).map(([n, body]) => http(`POST /api/v1/${plural}/:name/${action}`, 'POST', `/api/v1/${plural}/${n}/${action}`, `name ${n}`, { body }))),
    },
    // Secrets and Configs: dry runs of hostile documents, reads and deletes of names that are not there.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('secrets', 'configs'), fc.oneof(hostileValue(), objectOf({ name: fc.oneof(hostileString(), fc.constant('fz-db')), data: hostileValue(), labels: hostileValue() })), fc.constantFrom('POST', 'PUT'))
        .chain(([p, v, method]) => bodyOf(v, { yaml: true }).map((body) => http(`${method} /api/v1/${p}`, method, `/api/v1/${p}?dryRun=1`, 'a hostile object', { body }))),
    },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('secrets', 'configs'), notFixture, query({ reveal: fc.constantFrom('1', '', 'x') })).map(([p, n, q]) => http(`GET /api/v1/${p}/:name`, 'GET', `/api/v1/${p}/${n}${q}`, `name ${n}, query ${q}`)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('secrets', 'configs'), notFixture).map(([p, n]) => http(`DELETE /api/v1/${p}/:name`, 'DELETE', `/api/v1/${p}/${n}`, `name ${n}`)) },
    { weight: 2, arbitrary: query({ kinds: fc.oneof(fc.constantFrom('service', 'cronjob,job', 'Service', 'SERVICE', 'svc', ',', 'service,,job'), text), names: fc.oneof(fc.constantFrom(...Object.values(FIXTURE_NAMES)), text), initial: fc.constantFrom('1', 'true', '', '0'), heartbeatMs: heartbeat }).map((q) => http('GET /api/v1/watch', 'GET', `/api/v1/watch${q}`, `query ${q}`, { stream: true })) },
    {
      weight: 4,
      arbitrary: fc
        .tuple(taskId, query({ stream: fc.oneof(fc.constantFrom('stdout', 'stderr'), text), offset: fc.oneof(numericText(), fc.constantFrom('-1', '-4096', '-9223372036854775808')), length: numericText(), follow: fc.constantFrom('1', 'true', '', '0') }))
        .map(([id, q]) => http('GET /api/v1/tasks/:name/logs', 'GET', `/api/v1/tasks/${id}/logs${q}`, `task ${id}, query ${q}`, { stream: /[?&]follow=(1|true)?(&|$)/.test(q) })),
    },
  );
}

function grpcCases(t: FuzzTarget): fc.Arbitrary<FuzzCase> {
  const fx = t.fixtures;
  const wireKind = fc.constantFrom<unknown>('SERVICE', 'CRONJOB', 'JOB', 'KIND_UNSPECIFIED', 99, -1);
  const name = fc.oneof(fc.constantFrom<string>(...Object.values(FIXTURE_NAMES)), hostileString());
  const notFixture = hostileString().filter((s) => !(Object.values(FIXTURE_NAMES) as string[]).includes(s));
  const idle = fc.oneof({ weight: 3, arbitrary: fc.constant<string>(FIXTURE_NAMES.idle) }, { weight: 1, arbitrary: hostileString() });
  const uint = fc.constantFrom(0, 1, 10_000, 10_001, 2 ** 32 - 1, -1, 0.5, Number.NaN);
  const int64 = fc.constantFrom<unknown>(0, -1, -4096, 2 ** 53, '9223372036854775807', '-9223372036854775808', 4096);
  const METHODS = ['Apply', 'Get', 'List', 'Delete', 'Scale', 'Rollback', 'Restart', 'KillTasks', 'Promote', 'Abort', 'Trigger', 'Suspend', 'Watch', 'TaskLogs'] as const;
  const document = fc.tuple(fc.constantFrom(...KINDS), fc.boolean()).chain(([k, kindToo]) => mutatedSpec(k).chain((m) => bodyOf(asDocument(k, m, kindToo || true), { yaml: true }).map((b) => ({ m, b }))));
  const structured = fc.constantFrom(...KINDS).chain((k) => mutatedSpec(k).map((m) => ({ k, m })));
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(document, fc.constantFrom<unknown>('FORMAT_AUTO', 'YAML', 'JSON', 7), dryRun).map(([{ m, b }, format, dry]) =>
        grpc('Apply', `${m.note} (document ${b.note}, format ${String(format)})`, { document: b.body === undefined ? '' : Buffer.from(b.body).toString('utf8'), format, dryRun: dry }),
      ),
    },
    { weight: 6, arbitrary: fc.tuple(structured, dryRun).map(([{ k, m }, dry]) => grpc('Apply', `structured ${k.toLowerCase()}: ${m.note}`, { [k === 'SERVICE' ? 'service' : k === 'CRONJOB' ? 'cronjob' : 'job']: m.spec, dryRun: dry })) },
    { weight: 2, arbitrary: fc.tuple(wireKind, name).map(([kind, n]) => grpc('Get', `kind ${String(kind)}`, { kind, name: n })) },
    { weight: 2, arbitrary: fc.tuple(fc.array(wireKind, { maxLength: 3 }), fc.dictionary(hostileString(), hostileString(), { maxKeys: 2 })).map(([kinds, labels]) => grpc('List', 'kinds and labels', { kinds, labels })) },
    { weight: 2, arbitrary: fc.tuple(wireKind, notFixture, fc.boolean()).map(([kind, n, force]) => grpc('Delete', `kind ${String(kind)}`, { kind, name: n, force })) },
    { weight: 3, arbitrary: fc.tuple(idle, uint, fc.boolean()).map(([n, instances, force]) => grpc('Scale', `instances ${instances}`, { name: n, instances, force })) },
    { weight: 1, arbitrary: fc.tuple(idle, fc.oneof(fc.constantFrom('v1', 'v0', ''), hostileString())).map(([n, toVersion]) => grpc('Rollback', 'toVersion', { name: n, toVersion })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('Restart', 'Promote', 'Abort'), idle, hostileString()).map(([m, n, id]) => grpc(m, 'name and deployment id', { name: n, deploymentId: id })) },
    { weight: 1, arbitrary: fc.tuple(idle, fc.array(hostileString(), { maxLength: 3 }), fc.boolean()).map(([n, taskIds, scale]) => grpc('KillTasks', 'task ids', { name: n, taskIds, scale })) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom('Trigger', 'Suspend'), wireKind, name, fc.boolean()).map(([m, kind, n, suspend]) => grpc(m, `kind ${String(kind)}`, { kind, name: n, suspend })) },
    { weight: 2, arbitrary: fc.tuple(fc.array(wireKind, { maxLength: 3 }), fc.array(name, { maxLength: 3 }), fc.boolean()).map(([kinds, names, sendInitial]) => grpc('Watch', 'kinds and names', { kinds, names, sendInitial }, true)) },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.oneof(fc.constantFrom(fx.liveTaskId, ...fx.jobTaskIds), hostileString()), fc.constantFrom<unknown>('STDOUT', 'STDERR', 5), int64, int64, fc.boolean())
        .map(([taskId, stream, offset, length, follow]) => grpc('TaskLogs', `offset ${String(offset)}, length ${String(length)}`, { taskId, stream, offset, length, follow }, true)),
    },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.constantFrom(...METHODS), protobufGarbage()).map(([m, raw]): GrpcCase => ({ via: 'grpc', route: `Jobs/${m}`, raw, stream: m === 'Watch' || m === 'TaskLogs', note: 'bytes that are not protobuf' })),
    },
  );
}

async function fuzz(name: string, cases: (t: FuzzTarget) => fc.Arbitrary<FuzzCase>): Promise<void> {
  const session = fuzzSession(target);
  await session.begin();
  const report = await runFuzz(name, session, cases(target), settings, revive);
  console.log(report.text);
  if (report.failures.length > 0) throw new Error(report.text);
}

describe('fuzz: the Jobs API of a secured agora up', () => {
  it('HTTP/JSON mirror: hostile specs, documents and names get a 4xx that says why, and the state and /health hold', () => fuzz('Jobs HTTP', httpCases), TIMEOUT_MS);
  it('gRPC: hostile specs, documents, names and bytes get INVALID_ARGUMENT and kin, never INTERNAL, and the state and /health hold', () => fuzz('Jobs gRPC', grpcCases), TIMEOUT_MS);
});
