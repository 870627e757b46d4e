// The cluster pages' data, as the master's JSON gives it, and the pure steps between that JSON and
// what the pages draw: usage history → chart series, the task list's filters ↔ the API's query, the
// followed log's bounded buffer, sandbox paths. No DOM here, so the unit tests import it directly.

export interface ResourcesJson {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus?: number;
  readonly ports?: string;
  readonly text?: string;
}

export interface TaskStatusJson {
  readonly state: string;
  readonly reason: string;
  readonly message: string;
  readonly source: string;
  readonly healthy?: boolean;
  readonly ready?: boolean;
  readonly exitCode?: number;
  readonly timestampMs: number;
}

export interface TaskJson {
  readonly id: string;
  readonly name: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly state: string;
  readonly role: string;
  readonly resources: ResourcesJson;
  readonly status: TaskStatusJson;
  readonly labels: Readonly<Record<string, string>>;
  readonly launchedAtMs: number;
  readonly updatedAtMs: number;
  /** Only on the single task (GET /api/v1/frameworks/:id/tasks/:taskId), oldest first. */
  readonly statuses?: readonly TaskStatusJson[];
  /** How many older statuses the bound on the history dropped. */
  readonly statusesDropped?: number;
}

export interface TaskPageJson {
  readonly tasks: readonly TaskJson[];
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
}

export interface AgentJson {
  readonly id: string;
  readonly hostname: string;
  readonly httpAddress?: string;
  readonly state: string;
  readonly drain: { readonly state: string; readonly gracePeriodSeconds: number; readonly startedAtMs: number } | null;
  readonly active: boolean;
  readonly version?: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly resources: { readonly total: ResourcesJson; readonly allocated: ResourcesJson; readonly used: ResourcesJson; readonly offered: ResourcesJson; readonly available: ResourcesJson };
  /** Measured by the agent: cores in use and memory working set; null before its first report. */
  readonly used: { readonly cpus: number; readonly memBytes: number; readonly diskBytes?: number; readonly sampledAtMs: number } | null;
  readonly activeTasks: number;
  readonly registeredAtMs: number;
  readonly reregisteredAtMs: number | null;
  readonly unreachableSinceMs: number | null;
}

export interface UsageSample {
  readonly t: number;
  readonly total: { readonly cpus: number; readonly mem: number; readonly disk: number };
  readonly allocated: { readonly cpus: number; readonly mem: number; readonly disk: number };
  readonly used: { readonly cpus: number; readonly mem: number; readonly disk: number };
}

export interface UsageHistory {
  readonly intervalMs: number;
  readonly samples: readonly UsageSample[];
}

export type ResourceKind = 'cpus' | 'mem' | 'disk';

/** uPlot's aligned data for one resource: x in seconds, then total, allocated and used. */
export function historySeries(samples: readonly UsageSample[], kind: ResourceKind): [number[], number[], number[], number[]] {
  const xs: number[] = [];
  const total: number[] = [];
  const allocated: number[] = [];
  const used: number[] = [];
  for (const s of samples) {
    xs.push(s.t / 1000);
    total.push(s.total[kind]);
    allocated.push(s.allocated[kind]);
    used.push(s.used[kind]);
  }
  return [xs, total, allocated, used];
}

/** How often the overview re-reads the history: the sampler's interval, but not faster than 1 s. */
export function refreshMs(intervalMs: number | undefined, fallback = 5000): number {
  return intervalMs !== undefined && Number.isFinite(intervalMs) && intervalMs > 0 ? Math.max(1000, intervalMs) : fallback;
}

// ---- the task list's filters ----

export interface TaskFilters {
  readonly state?: string;
  readonly framework?: string;
  readonly agent?: string;
  /** `kind/name`, e.g. `service/web`: the label the built-in frameworks put on their tasks. */
  readonly workload?: string;
  readonly q?: string;
  /** 1-based. */
  readonly page?: number;
}

export const PAGE_SIZE = 100;
/** The task search waits for typing to pause this long before it asks the master. */
export const SEARCH_PAUSE_MS = 300;

/** `active` is not a task state but the live ones (the API's `active=1`). */
export const ACTIVE = 'active';

const WORKLOAD_LABEL: Readonly<Record<string, string>> = { service: 'agora.service', cronjob: 'agora.cronjob', job: 'agora.job' };

/** `service/web` → `agora.service=web`; anything else is taken as a label `KEY=VALUE` as typed. */
export function workloadLabel(workload: string): string | undefined {
  const w = workload.trim();
  if (w === '') return undefined;
  const slash = w.indexOf('/');
  const key = slash > 0 ? WORKLOAD_LABEL[w.slice(0, slash)] : undefined;
  if (key) return `${key}=${w.slice(slash + 1)}`;
  return w.includes('=') ? w : undefined;
}

/** The workload a task belongs to, as the filter names it (`service/web`), or ''. */
export function workloadOf(labels: Readonly<Record<string, string>>): string {
  for (const [kind, key] of Object.entries(WORKLOAD_LABEL)) {
    const name = labels[key];
    if (name) return `${kind}/${name}`;
  }
  return '';
}

/** The filters from the route's params (`#/tasks?state=…&page=2`). */
export function filtersOf(params: { get(name: string): string | null }): TaskFilters {
  const text = (name: string): string | undefined => params.get(name) || undefined;
  const page = Number(params.get('page'));
  return { state: text('state'), framework: text('framework'), agent: text('agent'), workload: text('workload'), q: text('q'), page: Number.isInteger(page) && page > 1 ? page : 1 };
}

/** GET /api/v1/tasks's query for these filters, filtered and paged by the master. */
export function tasksQuery(f: TaskFilters): string {
  const q = new URLSearchParams();
  if (f.state === ACTIVE) q.set('active', '1');
  else if (f.state) q.set('state', f.state);
  if (f.framework) q.set('frameworkId', f.framework);
  if (f.agent) q.set('agentId', f.agent);
  const label = workloadLabel(f.workload ?? '');
  if (label) q.append('label', label);
  if (f.q?.trim()) q.set('q', f.q.trim());
  q.set('limit', String(PAGE_SIZE));
  q.set('offset', String(((f.page ?? 1) - 1) * PAGE_SIZE));
  return `?${q.toString()}`;
}

const ACTIVE_STATES = new Set(['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_UNREACHABLE']);

export function isActiveState(state: string): boolean {
  return ACTIVE_STATES.has(state);
}

export function pageCount(total: number, size = PAGE_SIZE): number {
  return Math.max(1, Math.ceil(total / size));
}

// ---- the followed log ----

/** Where a log's tail starts: the last `window` bytes of it. */
export const LOG_TAIL_BYTES = 64 * 1024;
/** What the page keeps of a followed log at most (characters). */
export const LOG_KEEP_CHARS = 1024 * 1024;

export function tailOffset(size: number, window = LOG_TAIL_BYTES): number {
  return Number.isFinite(size) && size > window ? size - window : 0;
}

// ---- sandbox paths and sizes ----

/** `a/b/c` → `a/b`; `a` → ''. */
export function parentPath(path: string): string {
  const i = path.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

/** `a/b` → [{name:'a', path:'a'}, {name:'b', path:'a/b'}]. */
export function crumbs(path: string): { name: string; path: string }[] {
  const parts = path.split('/').filter((p) => p !== '');
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join('/') }));
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[u]}`;
}

/** A share (0..1) as a percentage. */
export function percent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '—';
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;
}

// ---- the master's events ----

export interface MasterEventJson {
  readonly type: string;
  readonly timestampMs: number;
  readonly id?: string | number;
  readonly agentId?: string;
  readonly frameworkId?: string;
  readonly taskId?: string;
  readonly hostname?: string;
  readonly name?: string;
  readonly state?: string;
  readonly previous?: string;
  readonly reason?: string;
}

/** One event in a line: `task web.1 RUNNING (was STARTING)`. */
export function eventText(e: MasterEventJson): string {
  const state = (s: string | undefined): string => (s ?? '').replace(/^TASK_/, '');
  const reason = e.reason ? ` — ${e.reason}` : '';
  const what = e.type.toLowerCase().replace(/_/g, ' ');
  if (e.type.startsWith('TASK_')) return `task ${e.taskId ?? ''} ${state(e.state)}${e.previous ? ` (was ${state(e.previous)})` : ''}${reason}`;
  if (e.type.startsWith('AGENT_')) return `${what} ${e.hostname ?? e.agentId ?? ''}${reason}`;
  if (e.type.startsWith('FRAMEWORK_')) return `${what} ${e.name ?? e.frameworkId ?? ''}${reason}`;
  return what;
}

/** One event's identity: the same event from the recent list and the stream is one row. */
export function eventKey(e: MasterEventJson): string {
  return [e.type, e.timestampMs, e.agentId, e.frameworkId, e.taskId, e.state].join('|');
}

/** The recent events and the ones streamed since, once each, oldest first, the last `keep`. */
export function mergeEvents(current: readonly MasterEventJson[], incoming: readonly MasterEventJson[], keep = 50): MasterEventJson[] {
  const byKey = new Map<string, MasterEventJson>();
  for (const e of [...current, ...incoming]) if (e && typeof e.type === 'string') byKey.set(eventKey(e), e);
  return [...byKey.values()].sort((a, b) => a.timestampMs - b.timestampMs).slice(-keep);
}

/** A route the master does not have (an older master): a quiet note, not an error. */
export function unavailable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { status?: unknown }).status === 404;
}

/** The master has no such route at all (not: the route is there and the thing is not). */
export function missingRoute(error: unknown): boolean {
  return unavailable(error) && /^no route for /.test(String((error as { message?: unknown }).message ?? ''));
}

/**
 * The followed log as the page holds it: a list of chunks (one text node each), the oldest dropped
 * whole once the total passes the cap, so an append never rewrites what is already shown.
 */
export class LogTail {
  readonly #sizes: number[] = [];
  #total = 0;
  #dropped = false;

  constructor(readonly cap = LOG_KEEP_CHARS) {}

  /** Add a chunk (its end, if it alone is over the cap): what to show, and how many of the oldest chunks to remove. */
  push(chunk: string): { kept: string; drop: number } {
    const kept = chunk.length > this.cap ? chunk.slice(chunk.length - this.cap) : chunk;
    if (kept.length < chunk.length) this.#dropped = true;
    this.#sizes.push(kept.length);
    this.#total += kept.length;
    let drop = 0;
    while (this.#total > this.cap && this.#sizes.length > 1) {
      this.#total -= this.#sizes.shift() ?? 0;
      drop += 1;
    }
    if (drop > 0) this.#dropped = true;
    return { kept, drop };
  }

  get length(): number {
    return this.#total;
  }

  /** Whether anything was dropped. */
  get cut(): boolean {
    return this.#dropped;
  }
}
