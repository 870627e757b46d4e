// The cluster the fuzz tests aim at (test/support/fuzz-target.ts runs it): the workloads put in it
// first, how its state is read and normalised, how an accepted case is undone, and the check that
// no answer ever carries the secret file kept outside every sandbox.
//
//   fz-svc    a service, 1 instance of `sleep 3600`         live task: agent logs, follow, kill
//   fz-idle   a service with 0 instances                    what Scale, Restart, Rollback… may touch
//   fz-cron   a suspended cron job                          Trigger, Suspend
//   fz-job    an indexed job of 3 tasks, finished, whose sandboxes hold traps:
//               0: stdout, stderr, sub/file, and links `escape` → the secret, `updir` → .., `rootdir` → /, a FIFO `pipe`
//               1: stdout a link to the secret, stderr a link to a directory
//               2: stdout a FIFO
import { FuzzSession, type Violation } from '../support/fuzz-session.js';
import { FuzzTarget, type FuzzCase, type Fixtures, type Outcome } from '../support/fuzz-target.js';
import { eventually } from '../support/waits.js';

export const FIXTURE_NAMES = { service: 'fz-svc', idle: 'fz-idle', cron: 'fz-cron', job: 'fz-job' } as const;

function workloads(secretPath: string): unknown[] {
  const traps = [
    'case "$AGORA_JOB_INDEX" in',
    `0) echo hello; echo oops >&2; mkdir sub && echo inner > sub/file; ln -s ${secretPath} escape; ln -s .. updir; ln -s / rootdir; mkfifo pipe;;`,
    `1) echo linked; rm -f stdout stderr; ln -s ${secretPath} stdout; ln -s .. stderr;;`,
    '2) echo fifo; rm -f stdout; mkfifo stdout;;',
    'esac',
  ].join('\n');
  const small = { cpus: 0.05, mem: 16 };
  return [
    { kind: 'Service', name: FIXTURE_NAMES.service, instances: 1, command: 'sleep 3600', resources: small, killGracePeriodSeconds: 0.5 },
    { kind: 'Service', name: FIXTURE_NAMES.idle, instances: 0, command: 'sleep 3600', resources: small, killGracePeriodSeconds: 0.5 },
    { kind: 'CronJob', name: FIXTURE_NAMES.cron, schedule: '0 0 1 1 *', suspend: true, task: { command: 'echo cron', resources: small } },
    { kind: 'Job', name: FIXTURE_NAMES.job, completions: 3, parallelism: 3, completionMode: 'INDEXED', task: { command: traps, resources: small } },
  ];
}

interface StateJson {
  agents: { id: string }[];
  frameworks: { id: string; name: string; tasks: { id: string; state: string }[]; completedTasks: { id: string; state: string; labels?: Record<string, string> }[] }[];
}

/** `agora up` with the fixtures in it, quiet, its health watched. */
export async function startFuzzCluster(): Promise<FuzzTarget> {
  const target = await FuzzTarget.start();
  await target.prepare(workloads(target.secretPath), async (t) => {
    return eventually(async () => {
      const state = (await t.getJson('master', '/api/v1/state')) as StateJson;
      const live = state.frameworks.flatMap((f) => f.tasks).filter((x) => x.id.startsWith(`${FIXTURE_NAMES.service}.`) && x.state === 'TASK_RUNNING');
      const done = state.frameworks.flatMap((f) => f.completedTasks).filter((x) => x.id.startsWith(`${FIXTURE_NAMES.job}.`) && x.state === 'TASK_FINISHED');
      if (live.length === 1 && done.length === 3 && state.agents.length === 1) {
        const tokens = (await t.getJson('master', '/api/v1/acl/tokens')) as { tokens: { accessor: string }[] };
        const byIndex = await jobTasksByIndex(t, done.map((x) => x.id));
        return { agentId: state.agents[0]!.id, frameworkIds: state.frameworks.map((f) => f.id), liveTaskId: live[0]!.id, jobTaskIds: byIndex, accessors: tokens.tokens.map((x) => x.accessor) } satisfies Fixtures;
      }
      throw new Error(`not settled: ${JSON.stringify(state).slice(0, 2000)}\n${t.log().slice(-3000)}`);
    }, { timeoutMs: 30_000, intervalMs: 100, what: 'the fixtures to settle' });
  });
  return target;
}

/** The job's task ids in index order (the job's status knows each task's index). */
async function jobTasksByIndex(t: FuzzTarget, ids: string[]): Promise<string[]> {
  const job = (await t.getJson('master', `/api/v1/jobs/${FIXTURE_NAMES.job}`)) as { jobStatus: { tasks: { taskId: string; index?: number }[] } };
  const out: string[] = [];
  for (const task of job.jobStatus.tasks) if (ids.includes(task.taskId)) out[task.index ?? 0] = task.taskId;
  if (out.filter(Boolean).length !== 3) throw new Error(`fz-job's tasks by index: ${JSON.stringify(job.jobStatus.tasks)}`);
  return out;
}

// ---- the state a rejected input must not change --------------------------------------------------

type Json = Record<string, unknown>;
const pick = (o: unknown, keys: readonly string[]): Json => Object.fromEntries(keys.filter((k) => (o as Json)[k] !== undefined).map((k) => [k, (o as Json)[k]]));
const tasks = (list: unknown): unknown => (list as Json[]).map((t) => pick(t, ['id', 'state', 'agentId']));

/**
 * What must stay put: the master's agents, frameworks and tasks (not offers, allocations, shares or
 * times, which move by themselves), weights, quota, tokens, policies, and every workload's spec
 * and version (not its status).
 */
export async function clusterSnapshot(t: FuzzTarget): Promise<unknown> {
  const [state, weights, quota, tokens, policies, workloads] = await Promise.all([
    t.getJson('master', '/api/v1/state') as Promise<Json>,
    t.getJson('master', '/api/v1/weights'),
    t.getJson('master', '/api/v1/quota'),
    t.getJson('master', '/api/v1/acl/tokens') as Promise<{ tokens: Json[] }>,
    t.getJson('master', '/api/v1/acl/policies'),
    t.listWorkloads(),
  ]);
  return {
    master: pick(state['master'], ['id', 'lifecycle']),
    agents: (state['agents'] as Json[]).map((a) => ({ ...pick(a, ['id', 'state', 'drain', 'attributes', 'activeTasks']), total: ((a['resources'] as Json)['total'] as Json)['text'] })),
    frameworks: (state['frameworks'] as Json[]).map((f) => ({ ...pick(f, ['id', 'name', 'roles', 'state', 'capabilities', 'failoverTimeoutSeconds', 'principal']), tasks: tasks(f['tasks']), completedTasks: tasks(f['completedTasks']) })),
    removedFrameworks: (state['removedFrameworks'] as Json[]).map((r) => pick(r, ['id', 'name', 'reason'])),
    weights,
    quota,
    tokens: tokens.tokens.map((x) => pick(x, ['accessor', 'principal', 'policies', 'description', 'expiresAtMs'])),
    policies,
    workloads: (workloads as Json[]).map((w) => ({ ...pick(w, ['kind', 'name', 'version']), spec: w['service'] ?? w['cronjob'] ?? w['job'] ?? null })),
  };
}

// ---- undoing what an accepted case did ------------------------------------------------------------

function answer(o: Outcome): Json {
  try {
    return JSON.parse(o.text ?? '') as Json;
  } catch {
    return {};
  }
}

async function call(t: FuzzTarget, method: string, url: string, body?: unknown): Promise<void> {
  await t.up.fetch(`${t.up.masterUrl}${url}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
}

const PLURAL: Record<string, string> = { SERVICE: 'services', CRONJOB: 'cronjobs', JOB: 'jobs' };

/** Delete what an accepted case created, put the fixtures back as they were. */
export async function undo(t: FuzzTarget, c: FuzzCase, o: Outcome): Promise<void> {
  const res = answer(o);
  const fixtures = Object.values(FIXTURE_NAMES) as string[];
  if (/Apply$| \/api\/v1\/(apply|services|cronjobs|jobs)$/.test(c.route) && typeof res['name'] === 'string' && typeof res['kind'] === 'string' && res['version'] !== '') {
    if (!fixtures.includes(res['name'])) await call(t, 'DELETE', `/api/v1/${PLURAL[res['kind']] ?? 'services'}/${encodeURIComponent(res['name'])}`);
  }
  if (c.route.includes('/quota') && typeof res['role'] === 'string' && c.via === 'http' && c.method === 'PUT') await call(t, 'DELETE', `/api/v1/quota/${encodeURIComponent(res['role'])}`);
  if (c.route === 'POST /api/v1/acl/tokens' && typeof res['accessor'] === 'string') await call(t, 'DELETE', `/api/v1/acl/tokens/${res['accessor']}`);
  if (c.route === 'PUT /api/v1/acl/policies/:name' && typeof res['name'] === 'string') await call(t, 'DELETE', `/api/v1/acl/policies/${encodeURIComponent(res['name'])}`);
  if (c.route.endsWith('/drain')) await call(t, 'POST', `/api/v1/agents/${encodeURIComponent(t.fixtures.agentId)}/undrain`);
  // fz-idle back to 0 instances, fz-cron suspended again.
  if (/scale|Scale|rollback|Rollback|kill|KillTasks/.test(c.route)) await call(t, 'POST', `/api/v1/services/${FIXTURE_NAMES.idle}/scale`, { instances: 0 });
  if (/suspend|resume|Suspend/.test(c.route)) {
    await call(t, 'POST', `/api/v1/cronjobs/${FIXTURE_NAMES.cron}/suspend`, { suspend: true });
    await call(t, 'POST', `/api/v1/jobs/${FIXTURE_NAMES.job}/resume`);
  }
}

/** The task id in /api/v1/tasks/:id/… */
function taskOf(c: FuzzCase): string | undefined {
  if (c.via === 'grpc') return typeof c.request?.['taskId'] === 'string' ? c.request['taskId'] : undefined;
  const m = /^\/api\/v1\/tasks\/([^/?]*)\//.exec(c.url);
  try {
    return m ? decodeURIComponent(m[1] ?? '') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Does this case read a log the task replaced by something else (fz-job task 1: stdout a link to
 * the secret, stderr a link to a directory; task 2: stdout a FIFO), through the agent, the Jobs
 * HTTP mirror or TaskLogs?
 */
export function readsPlantedLog(c: FuzzCase, t: FuzzTarget): boolean {
  const [, linked, fifo] = t.fixtures.jobTaskIds;
  const task = taskOf(c);
  if (task === undefined || (task !== linked && task !== fifo)) return false;
  let stream: string;
  if (c.via === 'grpc') {
    if (c.route !== 'Jobs/TaskLogs') return false;
    stream = c.request?.['stream'] === 'STDERR' || c.request?.['stream'] === 1 ? 'stderr' : 'stdout';
  } else {
    if (!c.route.endsWith('/logs')) return false;
    const streams = new URLSearchParams(c.url.split('?')[1] ?? '').getAll('stream');
    if (streams.length > 1) return false;
    stream = streams[0] === undefined || streams[0] === '' ? 'stdout' : streams[0];
  }
  return task === linked ? stream === 'stdout' || stream === 'stderr' : stream === 'stdout';
}

/**
 * Sandbox reads (issue 16): no answer, of any route, carries the secret kept outside every sandbox;
 * and a log that is not a regular file is refused with a 4xx, not served.
 */
export function sandboxChecks(t: FuzzTarget, c: FuzzCase, o: Outcome): Violation[] {
  if (!o.accepted) return [];
  if (o.text?.includes(t.secret)) return [{ kind: 'sandbox-escape', detail: `${c.route} served the secret file ${t.secretPath}` }];
  if (readsPlantedLog(c, t)) return [{ kind: 'unexpected-status', detail: `a log the task replaced by a link or a FIFO must be refused with a 4xx, got ${String(o.status)}` }];
  return [];
}

/**
 * A planted log must be refused; over gRPC the refusal is the stream's status, which comes after the
 * Jobs API has asked the master and the agent — on a loaded machine later than the usual 250 ms
 * after which a quiet stream is taken for an open follow.
 */
const PLANTED_LOG_WAIT_MS = 5_000;

export function fuzzSession(target: FuzzTarget): FuzzSession {
  return new FuzzSession(target, {
    snapshot: clusterSnapshot,
    cleanup: undo,
    check: sandboxChecks,
    streamWaitMs: (t, c) => (readsPlantedLog(c, t) ? PLANTED_LOG_WAIT_MS : undefined),
  });
}
