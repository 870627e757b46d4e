// Tasks: every task the master holds, filtered by state, framework, agent, workload and a text
// search, 100 a page. The filters live in the route (#/tasks?state=…&page=2), so a link keeps
// them; the master filters and pages, so a cluster of thousands of tasks sends one page. Rows are
// memoised and keyed: a reload after a burst of task events re-renders only the rows that changed,
// and while events stream the list re-reads at most once a second (pace.ts).
import { memo } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { useLive } from '../live.js';
import { href, navigate, type Route } from '../router.js';
import { ErrorBox, Loading, StateBadge, fmt, mib } from '../components/ui.js';
import { When, useNow } from '../components/when.js';
import { ACTIVE, PAGE_SIZE, SEARCH_PAUSE_MS, filtersOf, pageCount, tasksQuery, workloadOf, type AgentJson, type TaskFilters, type TaskJson, type TaskPageJson } from './cluster-model.js';
import { RELOAD_GAP_MS, pacer } from './pace.js';
export { TaskPage } from './task.js';

const STATES = ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_DROPPED'];

interface Names {
  readonly frameworks: ReadonlyMap<string, string>;
  readonly agents: ReadonlyMap<string, string>;
}

async function loadNames(signal: AbortSignal): Promise<Names> {
  const [f, a] = await Promise.all([getJson<{ frameworks: { id: string; name: string }[] }>('/api/v1/frameworks', signal), getJson<{ agents: AgentJson[] }>('/api/v1/agents', signal)]);
  return { frameworks: new Map(f.frameworks.map((x) => [x.id, x.name])), agents: new Map(a.agents.map((x) => [x.id, x.hostname])) };
}

function setFilter(f: TaskFilters, change: Partial<TaskFilters>): void {
  const next = { ...f, ...change, page: change.page ?? 1 };
  navigate(['tasks'], { state: next.state, framework: next.framework, agent: next.agent, workload: next.workload, q: next.q, page: next.page > 1 ? String(next.page) : undefined });
}

export function Tasks({ route }: { route: Route }) {
  const filters = filtersOf(route.params);
  const query = tasksQuery(filters);
  const pace = useMemo(() => pacer(RELOAD_GAP_MS), []);
  const tasks = useLive(
    async (signal) => {
      await pace.wait(query, signal);
      return getJson<TaskPageJson>(`/api/v1/tasks${query}`, signal);
    },
    ['tasks'],
    [query],
  );
  const names = useLive(loadNames, ['frameworks', 'agents']);
  const shown = tasks.data?.tasks;
  return (
    <div>
      <div class="page-head">
        <h1>Tasks</h1>
        {tasks.data ? <span class="muted">{tasks.data.total} matching</span> : null}
      </div>
      <Filters filters={filters} names={names.data} workloads={tasks.data?.tasks} />
      <ErrorBox error={tasks.error ?? names.error} />
      {!shown ? <Loading what="tasks" /> : <TaskTable tasks={shown} names={names.data} />}
      {tasks.data ? <Pager filters={filters} total={tasks.data.total} /> : null}
    </div>
  );
}

function Filters({ filters, names, workloads }: { filters: TaskFilters; names: Names | undefined; workloads: readonly TaskJson[] | undefined }) {
  const [q, setQ] = useState(filters.q ?? '');
  const [workload, setWorkload] = useState(filters.workload ?? '');
  // What this form last put in the route: a route that says otherwise was changed elsewhere (a
  // link, the navigation), and the fields follow it; typing meanwhile is not overwritten.
  const committed = useRef({ q: filters.q ?? '', workload: filters.workload ?? '' });
  useEffect(() => {
    const route = { q: filters.q ?? '', workload: filters.workload ?? '' };
    if (route.q !== committed.current.q || route.workload !== committed.current.workload) {
      committed.current = route;
      setQ(route.q);
      setWorkload(route.workload);
    }
  }, [filters.q, filters.workload]);
  // Typing is debounced: the route (and so the request) changes once the typing pauses.
  useEffect(() => {
    if (q === committed.current.q && workload === committed.current.workload) return;
    const t = setTimeout(() => {
      committed.current = { q, workload };
      setFilter(filters, { q, workload });
    }, SEARCH_PAUSE_MS);
    return () => clearTimeout(t);
  }, [q, workload]);
  const known = useMemo(() => [...new Set((workloads ?? []).map((t) => workloadOf(t.labels)).filter((w) => w))].sort(), [workloads]);
  const select = (name: keyof TaskFilters) => (e: Event) => setFilter(filters, { [name]: (e.target as HTMLSelectElement).value || undefined });
  return (
    <div class="filters card">
      <label>
        State
        <select data-testid="filter-state" value={filters.state ?? ''} onChange={select('state')}>
          <option value="">any</option>
          <option value={ACTIVE}>live (not finished)</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s.replace(/^TASK_/, '').toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label>
        Framework
        <select data-testid="filter-framework" value={filters.framework ?? ''} onChange={select('framework')}>
          <option value="">any</option>
          {[...(names?.frameworks ?? new Map<string, string>())].map(([id, name]) => (
            <option key={id} value={id}>
              {name}
            </option>
          ))}
          {filters.framework && !names?.frameworks.has(filters.framework) ? <option value={filters.framework}>{filters.framework}</option> : null}
        </select>
      </label>
      <label>
        Agent
        <select data-testid="filter-agent" value={filters.agent ?? ''} onChange={select('agent')}>
          <option value="">any</option>
          {[...(names?.agents ?? new Map<string, string>())].map(([id, host]) => (
            <option key={id} value={id}>
              {host} ({id.slice(-6)})
            </option>
          ))}
          {filters.agent && !names?.agents.has(filters.agent) ? <option value={filters.agent}>{filters.agent}</option> : null}
        </select>
      </label>
      <label>
        Workload
        <input data-testid="filter-workload" list="workloads" placeholder="service/web" value={workload} onInput={(e) => setWorkload((e.target as HTMLInputElement).value)} />
        <datalist id="workloads">
          {known.map((w) => (
            <option key={w} value={w} />
          ))}
        </datalist>
      </label>
      <label class="grow">
        Search
        <input data-testid="filter-q" type="search" placeholder="task id or name" value={q} onInput={(e) => setQ((e.target as HTMLInputElement).value)} />
      </label>
    </div>
  );
}

function TaskTable({ tasks, names }: { tasks: readonly TaskJson[]; names: Names | undefined }) {
  const now = useNow(30_000);
  return (
    <div class="card table-wrap">
      <table class="tasks">
        <thead>
          <tr>
            <th>Task</th>
            <th>State</th>
            <th class="hide-narrow">Workload</th>
            <th class="hide-narrow">Framework</th>
            <th class="hide-narrow">Agent</th>
            <th class="num hide-narrow">CPU</th>
            <th class="num hide-narrow">Memory</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {tasks.length === 0 ? (
            <tr>
              <td colSpan={8} class="muted">
                No tasks match.
              </td>
            </tr>
          ) : null}
          {tasks.map((t) => (
            <TaskRow key={`${t.frameworkId}/${t.id}/${t.launchedAtMs}`} task={t} framework={names?.frameworks.get(t.frameworkId)} agent={names?.agents.get(t.agentId)} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A row re-renders only when its task changed (a new update time or state), a name arrived, or the
 * table's clock ticked (one timer for the table, none per row).
 */
const TaskRow = memo(
  function TaskRow({ task: t, framework, agent, now }: { task: TaskJson; framework: string | undefined; agent: string | undefined; now: number }) {
    const workload = workloadOf(t.labels);
    return (
      <tr data-testid={`task-row-${t.id}`}>
        <td>
          <a href={href(['tasks', t.frameworkId, t.id])}>{t.id}</a>
          {t.name && t.name !== t.id ? <div class="muted small">{t.name}</div> : null}
          {workload ? <div class="muted small show-narrow">{workload}</div> : null}
        </td>
        <td>
          <StateBadge state={t.state} />
        </td>
        <td class="hide-narrow">{workload || <span class="muted">—</span>}</td>
        <td class="hide-narrow">{framework ?? <span class="mono small">{t.frameworkId}</span>}</td>
        <td class="hide-narrow">
          <a href={href(['agents', t.agentId])}>{agent ?? t.agentId}</a>
        </td>
        <td class="num hide-narrow">{fmt(t.resources.cpus)}</td>
        <td class="num hide-narrow">{mib(t.resources.mem)}</td>
        <td>
          <When ms={t.updatedAtMs} now={now} />
        </td>
      </tr>
    );
  },
  (a, b) => a.task.updatedAtMs === b.task.updatedAtMs && a.task.state === b.task.state && a.framework === b.framework && a.agent === b.agent && a.now === b.now,
);

function Pager({ filters, total }: { filters: TaskFilters; total: number }) {
  const pages = pageCount(total);
  const page = Math.min(filters.page ?? 1, pages);
  const from = total === 0 ? 0 : (page - 1) * PAGE_SIZE + 1;
  const to = Math.min(total, page * PAGE_SIZE);
  return (
    <div class="pager">
      <button type="button" disabled={page <= 1} onClick={() => setFilter(filters, { page: page - 1 })}>
        ← Previous
      </button>
      <span class="muted">
        {from}–{to} of {total} · page {page} of {pages}
      </span>
      <button type="button" disabled={page >= pages} onClick={() => setFilter(filters, { page: page + 1 })}>
        Next →
      </button>
    </div>
  );
}
