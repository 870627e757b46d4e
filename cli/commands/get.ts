// `agora get agents|frameworks|tasks|services|cronjobs|jobs [NAME]`, with kubectl's habits:
//
//   -o wide|json|yaml|name|jsonpath=TEMPLATE   json and yaml of a workload are the document
//                                              `apply -f` takes back (workload-documents.ts);
//                                              several objects print as `kind: List` + `items`
//   -l, --selector key=value,key!=value,key,!key,key in (a,b),key notin (a,b)   workloads and tasks: their labels; agents:
//                                              their attributes; frameworks have none (refused)
//   --sort-by .field                           a JSONPath into what -o json prints per object
//   -w, --watch                                the table, then a row per change until Ctrl-C
//   tasks: live ones only; -a/--all adds ended ones; --state STATE (any state, ended too)
//
// Agents, frameworks and tasks come from the master's operator API (changes: its /api/v1/events
// stream); services, cron jobs and jobs from the Jobs API (changes: its /api/v1/watch stream).
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { InvalidArgumentError, NotFoundError, UnavailableError } from '../../core/errors.js';
import { parseTaskState } from '../../core/task-state.js';
import { kindFromAlias, namesOf } from '../../frameworks/api/kinds.js';
import { objectKindFromAlias, objectNames } from '../../frameworks/objects/spec.js';
import type { WorkloadKind } from '../../frameworks/workload.js';
import type { WatchEvent, Workload } from '../../proto/index.js';
import type { AgoraClient } from '../client.js';
import { withClientFlags } from '../client.js';
import { sseFrames } from '../sse.js';
import { agentsTable, frameworksTable, tasksTable, type AgentJson, type FrameworkJson, type TaskJson } from './cluster-views.js';
import { parseGetOutput, parseSelector, parseSortBy, renderJsonPath, selects, sortByPath, type GetOutput } from './get-options.js';
import { getObjects } from './objects.js';
import { clientFor } from './shared.js';
import { listDocument, workloadDocument } from './workload-documents.js';
import { cronJobsTable, jobsTable, servicesTable } from './workload-views.js';

type ClusterKind = 'agents' | 'frameworks' | 'tasks';

const CLUSTER_KINDS: Record<string, ClusterKind> = {
  agent: 'agents',
  agents: 'agents',
  framework: 'frameworks',
  frameworks: 'frameworks',
  fw: 'frameworks',
  task: 'tasks',
  tasks: 'tasks',
};

const TASK_LIMIT = 10_000;

interface GetFlags {
  output?: string;
  reveal?: boolean;
  selector?: string;
  sortBy?: string;
  watch?: boolean;
  all?: boolean;
  state?: string;
}

/** One kind as `get` lists, prints and watches it. */
interface Source<R> {
  /** `services`, for "No services found." */
  readonly plural: string;
  /** `service`, for -o name. */
  readonly singular: string;
  list(name: string | undefined): Promise<R[]>;
  /** What -o json|yaml prints for one object, and what paths (-o jsonpath, --sort-by) read. */
  view(row: R): unknown;
  /** -o name: `service/web`. */
  id(row: R): string;
  /** What -l selects on; absent when the kind has no labels. */
  readonly labels?: (row: R) => Readonly<Record<string, string>>;
  table(rows: readonly R[], wide: boolean): string;
  /** Call `change` for each object that changes, until the stream ends or `signal` aborts. */
  watch(name: string | undefined, change: (row: R) => void, signal: AbortSignal): Promise<void>;
}

export function registerGetCommand(program: Command): void {
  const cmd = program
    .command('get')
    .description('list agents, frameworks, tasks, services, cron jobs, jobs, secrets or configs')
    .argument('<what>', 'agents | frameworks | tasks | services | cronjobs | jobs | secrets | configs')
    .argument('[name]', 'one of them, by name (or id)')
    .option('-o, --output <format>', 'wide, json, yaml, name, or jsonpath=TEMPLATE (e.g. jsonpath={.items[*].name})')
    .option('-l, --selector <selector>', 'only those whose labels match: key=value, key!=value, key, !key, key in (a,b), key notin (a,b), comma-separated (agents: attributes)')
    .option('--sort-by <path>', 'sort by a field: a JSONPath into -o json, e.g. .name or {.status.createdAtMs}')
    .option('-w, --watch', 'after the list, print a row for every change until interrupted (Ctrl-C)')
    .option('-a, --all', 'tasks: ended ones too (by default only live tasks)')
    .option('--reveal', "secrets: print one secret's values with -o yaml|json (needs secrets.read on it)")
    .option('--state <state>', 'tasks: only those in this state (running, finished, TASK_FAILED, ...; ended ones included)');
  withClientFlags(cmd).action(async (what: string, name: string | undefined, flags: GetFlags) => {
    const output = parseGetOutput(flags.output);
    const selector = flags.selector === undefined ? undefined : parseSelector(flags.selector);
    const sortBy = flags.sortBy === undefined ? undefined : parseSortBy(flags.sortBy);
    const cluster = CLUSTER_KINDS[what.toLowerCase()];
    if (cluster !== 'tasks' && (flags.all || flags.state !== undefined)) throw new InvalidArgumentError(flags.all ? '--all' : '--state', 'is for tasks only');
    const state = flags.state === undefined ? undefined : parseTaskState(flags.state, '--state');
    const client = clientFor(cmd);
    const object = objectKindFromAlias(what);
    if (flags.reveal && object !== 'SECRET') throw new InvalidArgumentError('--reveal', 'is for secrets only');
    if (object) {
      // Secrets and configs (commands/objects.ts): a table, json or yaml, never their values.
      if (output.kind === 'name' || output.kind === 'jsonpath' || selector || sortBy || flags.watch) {
        throw new InvalidArgumentError('-o', `${objectNames(object).plural} print as a table, wide, json or yaml, without -l, --sort-by or --watch`);
      }
      return getObjects(client, object, name, output.kind, Boolean(flags.reveal));
    }
    let source: Source<unknown>;
    if (cluster === 'agents') source = agentsSource(client) as Source<unknown>;
    else if (cluster === 'frameworks') source = frameworksSource(client) as Source<unknown>;
    else if (cluster === 'tasks') source = (await tasksSource(client, { all: Boolean(flags.all), ...(state ? { state } : {}) })) as Source<unknown>;
    else {
      const kind = kindFromAlias(what);
      if (!kind) throw new InvalidArgumentError('what', `cannot get '${what}': expected agents, frameworks, tasks, services, cronjobs, jobs, secrets or configs`);
      source = workloadSource(client, kind) as Source<unknown>;
    }
    if (selector && !source.labels) throw new InvalidArgumentError('-l', `${source.plural} have no labels to select on`);
    const keep = (row: unknown): boolean => !selector || selects(selector, source.labels?.(row) ?? {});
    let rows = (await source.list(name)).filter(keep);
    if (sortBy) rows = sortByPath(rows, sortBy, (r) => source.view(r));
    process.stdout.write(printed(source, output, rows, name !== undefined));
    if (!flags.watch) return;
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    // A change that prints as the last line printed for that object did (a status field no column
    // shows) is not printed again.
    const last = new Map<string, string>();
    await source.watch(
      name,
      (row) => {
        if (!keep(row)) return;
        const text = changed(source, output, row);
        if (last.get(source.id(row)) === text) return;
        last.set(source.id(row), text);
        process.stdout.write(text);
      },
      abort.signal,
    );
  });
}

/** The whole answer: a table, documents, names or a template's text. */
export function printed<R>(source: Source<R>, output: GetOutput, rows: readonly R[], one: boolean): string {
  const value = (): unknown => (one && rows.length === 1 ? source.view(rows[0] as R) : listDocument(rows.map((r) => source.view(r))));
  switch (output.kind) {
    case 'table':
    case 'wide':
      return rows.length === 0 ? `No ${source.plural} found.\n` : source.table(rows, output.kind === 'wide');
    case 'json':
      return `${JSON.stringify(value(), null, 2)}\n`;
    case 'yaml':
      return toYaml(value());
    case 'name':
      return rows.map((r) => `${source.singular}/${source.id(r)}\n`).join('');
    case 'jsonpath':
      return renderJsonPath(output.template, value());
  }
}

/** One change while watching: a table row without the header, or one object. */
function changed<R>(source: Source<R>, output: GetOutput, row: R): string {
  switch (output.kind) {
    case 'table':
    case 'wide':
      return `${source.table([row], output.kind === 'wide').split('\n').slice(1).join('\n')}`;
    case 'json':
      return `${JSON.stringify(source.view(row))}\n`;
    case 'yaml':
      return `---\n${toYaml(source.view(row))}`;
    case 'name':
      return `${source.singular}/${source.id(row)}\n`;
    case 'jsonpath':
      return `${renderJsonPath(output.template, source.view(row))}\n`;
  }
}

// ---- workloads (the Jobs API) -------------------------------------------------------------------

function workloadSource(client: AgoraClient, kind: WorkloadKind): Source<Workload> {
  const { plural, document } = namesOf(kind);
  return {
    plural,
    singular: document.toLowerCase(),
    list: async (name) =>
      name === undefined ? (await client.jobs<{ items: Workload[] }>('GET', `/api/v1/${plural}`)).items : [await client.jobs<Workload>('GET', `/api/v1/${plural}/${encodeURIComponent(name)}`)],
    view: workloadDocument,
    id: (w) => w.name ?? '',
    labels: (w) => (w.service ?? w.cronjob ?? w.job)?.labels ?? {},
    table: (rows, wide) => ({ SERVICE: servicesTable, CRONJOB: cronJobsTable, JOB: jobsTable })[kind](rows, wide),
    watch: async (name, change, signal) => {
      const query = new URLSearchParams({ kinds: plural, ...(name === undefined ? {} : { names: name }) });
      for await (const frame of framesUntilAborted(await client.jobsStream(`/api/v1/watch?${query.toString()}`, signal), signal)) {
        if (frame.event === 'error') throw new UnavailableError(`the watch ended: ${String((frame.data as { message?: string } | undefined)?.message ?? 'error')}`);
        const e = frame.data as WatchEvent | undefined;
        if (['added', 'modified', 'deleted'].includes(frame.event) && e?.object) change(e.object);
      }
    },
  };
}

// ---- agents, frameworks, tasks (the master) ------------------------------------------------------

function pick<T extends { id: string }>(rows: T[], name: string | undefined, what: string, also: (row: T) => string): T[] {
  if (name === undefined) return rows;
  const found = rows.filter((r) => r.id === name || also(r) === name);
  if (found.length === 0) throw new NotFoundError(what, name);
  return found;
}

/** Watch the master's events; for each of `prefix` (TASK_, AGENT_, FRAMEWORK_) look the object up again. */
async function watchMaster<R>(client: AgoraClient, prefix: string, lookUp: (event: Record<string, unknown>) => Promise<R | undefined>, change: (row: R) => void, signal: AbortSignal): Promise<void> {
  for await (const frame of framesUntilAborted(await client.masterStream('/api/v1/events', signal), signal)) {
    const event = frame.data as Record<string, unknown> | undefined;
    if (!event || typeof event['type'] !== 'string' || !event['type'].startsWith(prefix)) continue;
    const row = await lookUp(event);
    if (row !== undefined) change(row);
  }
}

function agentsSource(client: AgoraClient): Source<AgentJson> {
  const list = async (): Promise<AgentJson[]> => (await client.master<{ agents: AgentJson[] }>('/api/v1/agents')).agents;
  return {
    plural: 'agents',
    singular: 'agent',
    list: async (name) => pick(await list(), name, 'agent', (a) => a.hostname),
    view: (a) => a,
    id: (a) => a.id,
    labels: (a) => attributeLabels(a.attributes),
    table: agentsTable,
    watch: (name, change, signal) =>
      watchMaster(client, 'AGENT_', async (e) => (await list()).find((a) => a.id === e['agentId'] && (name === undefined || a.id === name || a.hostname === name)), change, signal),
  };
}

/** Agent attributes as labels: text and scalar values as text (ranges and sets as JSON). */
export function attributeLabels(attributes: Readonly<Record<string, unknown>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes ?? {})) {
    const inner = typeof v === 'object' && v !== null ? ((v as Record<string, unknown>)['text'] ?? (v as Record<string, unknown>)['scalar']) : v;
    out[k] = typeof inner === 'string' || typeof inner === 'number' || typeof inner === 'boolean' ? String(inner) : JSON.stringify(v);
  }
  return out;
}

function frameworksSource(client: AgoraClient): Source<FrameworkJson> {
  const list = async (): Promise<FrameworkJson[]> => (await client.master<{ frameworks: FrameworkJson[] }>('/api/v1/frameworks')).frameworks;
  return {
    plural: 'frameworks',
    singular: 'framework',
    list: async (name) => pick(await list(), name, 'framework', (f) => f.name),
    view: (f) => f,
    id: (f) => f.id,
    table: frameworksTable,
    watch: (name, change, signal) =>
      watchMaster(client, 'FRAMEWORK_', async (e) => (await list()).find((f) => f.id === e['frameworkId'] && (name === undefined || f.id === name || f.name === name)), change, signal),
  };
}

async function tasksSource(client: AgoraClient, filter: { all: boolean; state?: string }): Promise<Source<TaskJson>> {
  const frameworkNames = new Map((await client.master<{ frameworks: FrameworkJson[] }>('/api/v1/frameworks')).frameworks.map((f) => [f.id, f.name]));
  // The master filters: live tasks only (active=1) unless --all; --state names one state, ended or not.
  const query = new URLSearchParams({ limit: String(TASK_LIMIT), ...(filter.state ? { state: filter.state } : filter.all ? {} : { active: '1' }) });
  return {
    plural: 'tasks',
    singular: 'task',
    list: async (name) => pick((await client.master<{ tasks: TaskJson[] }>(`/api/v1/tasks?${query.toString()}`)).tasks, name, 'task', (t) => t.name),
    view: (t) => t,
    id: (t) => t.id,
    labels: (t) => t.labels ?? {},
    table: (rows, wide) => tasksTable(rows, frameworkNames, wide),
    watch: (name, change, signal) =>
      watchMaster(
        client,
        'TASK_',
        async (e) => {
          const path = `/api/v1/frameworks/${encodeURIComponent(String(e['frameworkId']))}/tasks/${encodeURIComponent(String(e['taskId']))}`;
          const { task } = await client.master<{ task: TaskJson }>(path).catch(() => ({ task: undefined }));
          if (!task || (name !== undefined && task.id !== name && task.name !== name) || (filter.state !== undefined && task.state !== filter.state)) return undefined;
          return task;
        },
        change,
        signal,
      ),
  };
}

/** A stream's frames until it ends (an error: the server closed it) or the user interrupts. */
async function* framesUntilAborted(res: Awaited<ReturnType<AgoraClient['masterStream']>>, signal: AbortSignal): AsyncGenerator<{ event: string; data: unknown }> {
  try {
    yield* sseFrames(res);
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  if (!signal.aborted) throw new UnavailableError('the server ended the watch; run the command again');
}
