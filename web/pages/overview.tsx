// The overview: how many agents, frameworks and tasks (by state); the cluster's CPU, memory and disk
// — total, allocated and measured use — now and over time; the roles; the leading master; what just
// happened. Counts follow the master's event stream; the usage history is re-read at the
// sampler's interval (no event announces a new sample).
import { useMemo, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { Chart } from '../components/chart.js';
import { ErrorBox, Loading, Section, UsageBar, fmt, mib } from '../components/ui.js';
import { historySeries, refreshMs, unavailable, type AgentJson, type ResourceKind, type ResourcesJson, type UsageHistory } from './cluster-model.js';
import { EventsCard, LeaderCard, RolesCard } from './overview-parts.js';
import { RELOAD_GAP_MS, paced, pacer } from './pace.js';

const MIB = 1024 * 1024;

interface Summary {
  readonly agents: Readonly<Record<'total' | 'connected' | 'disconnected' | 'unreachable' | 'recovering' | 'draining' | 'drained', number>>;
  readonly frameworks: Readonly<Record<'total' | 'connected' | 'disconnected' | 'removed', number>>;
  readonly tasks: { readonly live: number; readonly completed: number; readonly byState: Readonly<Record<string, number>> };
  readonly resources: { readonly total: ResourcesJson; readonly allocated: ResourcesJson };
}

interface Measured {
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
}

async function loadSummary(signal: AbortSignal): Promise<{ summary: Summary; measured: Measured | undefined }> {
  const [summary, { agents }] = await Promise.all([getJson<Summary>('/api/v1/state-summary', signal), getJson<{ agents: AgentJson[] }>('/api/v1/agents', signal)]);
  const reporting = agents.filter((a) => a.used);
  const sum = (f: (u: NonNullable<AgentJson['used']>) => number): number => reporting.reduce((n, a) => n + (a.used ? f(a.used) : 0), 0);
  const measured = reporting.length === 0 ? undefined : { cpus: sum((u) => u.cpus), mem: sum((u) => u.memBytes) / MIB, disk: sum((u) => u.diskBytes ?? 0) / MIB };
  return { summary, measured };
}

export function Overview() {
  const pace = useMemo(() => pacer(RELOAD_GAP_MS), []);
  const live = useLive(paced(pace, loadSummary), ['agents', 'frameworks', 'tasks']);
  const [every, setEvery] = useState(5000);
  const history = useLive(
    async (signal) => {
      const h = await getJson<UsageHistory>('/api/v1/usage/history', signal);
      setEvery(refreshMs(h.intervalMs));
      return h;
    },
    [],
    [every],
    { everyMs: every },
  );
  const s = live.data?.summary;
  return (
    <div>
      <div class="page-head">
        <h1>Overview</h1>
      </div>
      <ErrorBox error={live.error} />
      {s ? <Counts summary={s} /> : <Loading what="the cluster" />}
      {s ? <ResourcesCard summary={s} measured={live.data?.measured} history={history.data} historyError={history.error} /> : null}
      <div class="grid two">
        <RolesCard />
        <LeaderCard />
      </div>
      <EventsCard />
    </div>
  );
}

function Counts({ summary: s }: { summary: Summary }) {
  const running = s.tasks.byState['TASK_RUNNING'] ?? 0;
  const states = Object.entries(s.tasks.byState).filter(([, n]) => n > 0);
  return (
    <div class="grid stats">
      <a class="card stat-card" href={href(['agents'])}>
        <div class="stat-label">Agents</div>
        <div class="stat" data-testid="stat-agents">
          {s.agents.total}
        </div>
        <div class="muted small">
          {s.agents.connected} connected
          {s.agents.disconnected ? `, ${s.agents.disconnected} disconnected` : ''}
          {s.agents.unreachable ? `, ${s.agents.unreachable} unreachable` : ''}
          {s.agents.recovering ? `, ${s.agents.recovering} recovering` : ''}
          {s.agents.draining ? `, ${s.agents.draining} draining` : ''}
          {s.agents.drained ? `, ${s.agents.drained} drained` : ''}
        </div>
      </a>
      <div class="card stat-card">
        <div class="stat-label">Frameworks</div>
        <div class="stat" data-testid="stat-frameworks">
          {s.frameworks.total}
        </div>
        <div class="muted small">
          {s.frameworks.connected} connected{s.frameworks.disconnected ? `, ${s.frameworks.disconnected} disconnected` : ''}
          {s.frameworks.removed ? `, ${s.frameworks.removed} removed` : ''}
        </div>
      </div>
      <a class="card stat-card" href={href(['tasks'], { state: 'TASK_RUNNING' })}>
        <div class="stat-label">Tasks running</div>
        <div class="stat" data-testid="stat-tasks-running">
          {running}
        </div>
        <div class="muted small">
          {s.tasks.live} live, {s.tasks.completed} completed
        </div>
      </a>
      <div class="card stat-card">
        <div class="stat-label">Tasks by state</div>
        <div class="state-counts">
          {states.length === 0 ? <span class="muted">no tasks</span> : null}
          {states.map(([state, n]) => (
            <a key={state} href={href(['tasks'], { state })} class="state-count">
              <span>{state.replace(/^TASK_/, '').toLowerCase()}</span> <strong>{n}</strong>
            </a>
          ))}
        </div>
      </div>
    </div>
  );
}

/** MiB ticks at powers of two: 512 MiB, 1 GiB, 2 GiB… rather than 3.9 GiB. */
const BINARY = Array.from({ length: 30 }, (_, i) => 2 ** (i - 4));

const KINDS: readonly { kind: ResourceKind; label: string; format: (v: number) => string; testId: string; incrs?: readonly number[] }[] = [
  { kind: 'cpus', label: 'CPU', format: (v) => `${fmt(v, 1)}`, testId: 'chart-cpu' },
  { kind: 'mem', label: 'Memory', format: mib, testId: 'chart-mem', incrs: BINARY },
  { kind: 'disk', label: 'Disk', format: mib, testId: 'chart-disk', incrs: BINARY },
];

function ResourcesCard({ summary, measured, history, historyError }: { summary: Summary; measured: Measured | undefined; history: UsageHistory | undefined; historyError: Error | undefined }) {
  const last = history?.samples.at(-1);
  return (
    <Section title="Resources">
      <div class="grid resources">
        {KINDS.map((k) => {
          const total = summary.resources.total[k.kind];
          const allocated = summary.resources.allocated[k.kind];
          const used = last ? last.used[k.kind] : measured?.[k.kind];
          return (
            <div key={k.kind} class="resource">
              <div class="resource-head">
                <strong>{k.label}</strong>
                <span class="muted small">
                  {k.format(allocated)} allocated{used === undefined ? '' : `, ${k.format(used)} used`} of {k.format(total)}
                  {k.kind === 'cpus' ? ' cores' : ''}
                </span>
              </div>
              <UsageBar total={total} allocated={allocated} {...(used === undefined ? {} : { used })} />
              <HistoryChart history={history} error={historyError} kind={k.kind} format={k.format} testId={k.testId} {...(k.incrs ? { incrs: k.incrs } : {})} />
            </div>
          );
        })}
      </div>
      <p class="legend muted small">
        <span class="swatch total" /> total <span class="swatch alloc" /> allocated <span class="swatch used" /> used (measured)
      </p>
    </Section>
  );
}

const SERIES = [
  { label: 'total', color: '#667587', dash: [4, 4] },
  { label: 'allocated', color: '#6f97bf', fill: '#9ab8d633' },
  { label: 'used', color: '#2f5d8a', fill: '#2f5d8a22' },
] as const;

function HistoryChart({ history, error, kind, format, testId, incrs }: { history: UsageHistory | undefined; error: Error | undefined; kind: ResourceKind; format: (v: number) => string; testId: string; incrs?: readonly number[] }) {
  const data = useMemo(() => (history ? historySeries(history.samples, kind) : undefined), [history, kind]);
  if (!history && unavailable(error)) return <p class="muted small" data-testid={testId}>Usage history is not available from this master.</p>;
  if (!history) return error ? <ErrorBox error={error} /> : <p class="muted small">Loading the history…</p>;
  if (!data || data[0].length < 2) return <p class="muted small" data-testid={testId}>Collecting samples (one every {Math.round(history.intervalMs / 1000)} s)…</p>;
  return <Chart data={data} series={SERIES} format={format} testId={testId} {...(incrs ? { incrs } : {})} />;
}
