// One task (#/tasks/<frameworkId>/<taskId>): its fields, its status history, its usage as its agent
// measures it, its stdout / stderr followed live, and its sandbox. The master forwards the usage,
// log and file requests to the task's agent, after checking the caller may see the framework's
// tasks.
import { getJson, pathOf } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { LogView } from '../components/log-view.js';
import { Sandbox } from '../components/sandbox.js';
import { Badge, ErrorBox, Loading, Section, StateBadge, Time, UsageBar, fmt, mib } from '../components/ui.js';
import { bytes, isActiveState, missingRoute, unavailable, workloadOf, type TaskJson, type TaskPageJson, type TaskStatusJson } from './cluster-model.js';

interface Container {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly executor: string;
  readonly allocation: { readonly cpus: number; readonly memBytes: number; readonly diskBytes: number };
  readonly usage: {
    readonly cpuUtilization: number | null;
    readonly cpuSeconds: number;
    readonly memoryWorkingSetBytes: number;
    readonly memoryRssBytes: number;
    readonly memoryLimitBytes: number | null;
    readonly oomKills: number;
    readonly cpuThrottledSeconds: number;
    readonly diskBytes: number | null;
    readonly sampledAtMs: number;
  } | null;
}

/** The task with its history; from the task list when the master has no single-task route. */
async function loadTask(frameworkId: string, taskId: string, signal: AbortSignal): Promise<TaskJson> {
  try {
    return (await getJson<{ task: TaskJson }>(pathOf('/api/v1/frameworks', frameworkId, 'tasks', taskId), signal)).task;
  } catch (err) {
    if (!unavailable(err)) throw err;
    const page = await getJson<TaskPageJson>(`/api/v1/tasks?${new URLSearchParams({ frameworkId, q: taskId, limit: '10000' }).toString()}`, signal);
    const found = page.tasks.filter((t) => t.id === taskId).at(-1);
    if (!found) throw err;
    return found;
  }
}

export function TaskPage({ frameworkId, taskId }: { frameworkId: string; taskId: string }) {
  const task = useLive((signal) => loadTask(frameworkId, taskId, signal), ['tasks'], [frameworkId, taskId], {
    filter: (_topic, data) => !data || (data as { taskId?: string }).taskId === taskId,
  });
  const t = task.data;
  // Keyed by it below: another task starts on stdout at the sandbox's top, not where this one was.
  const base = t ? pathOf('/api/v1/agents', t.agentId, 'tasks', t.id) : '';
  return (
    <div>
      <div class="page-head">
        <h1 class="wrap-anywhere">{taskId}</h1>
        {t ? <StateBadge state={t.state} /> : null}
        {t?.status.healthy !== undefined ? <Badge kind={t.status.healthy ? 'ok' : 'bad'}>{t.status.healthy ? 'healthy' : 'unhealthy'}</Badge> : null}
        {t?.status.ready !== undefined ? <Badge kind={t.status.ready ? 'ok' : 'wait'}>{t.status.ready ? 'ready' : 'not ready'}</Badge> : null}
      </div>
      <ErrorBox error={task.error} />
      {!t ? (
        task.error ? null : <Loading what="the task" />
      ) : (
        <>
          <div class="grid two">
            <TaskFields task={t} />
            <UsageCard task={t} />
          </div>
          <Section title="Status history">
            <StatusHistory task={t} />
          </Section>
          <Section title="Output">
            <LogView key={base} base={base} frameworkId={t.frameworkId} live={isActiveState(t.state)} />
          </Section>
          <Section title="Sandbox">
            <Sandbox key={base} base={base} frameworkId={t.frameworkId} />
          </Section>
        </>
      )}
    </div>
  );
}

function TaskFields({ task: t }: { task: TaskJson }) {
  const workload = workloadOf(t.labels);
  const [kind, name] = workload.split('/');
  const workloadRoute = kind === 'service' ? 'services' : kind === 'cronjob' ? 'cronjobs' : kind === 'job' ? 'jobs' : '';
  return (
    <Section title="Task">
      <dl class="kv">
        <dt>Name</dt>
        <dd>{t.name || '—'}</dd>
        <dt>Workload</dt>
        <dd>{workloadRoute && name ? <a href={href([workloadRoute, name])}>{workload}</a> : <span class="muted">—</span>}</dd>
        <dt>Framework</dt>
        <dd class="mono">{t.frameworkId}</dd>
        <dt>Agent</dt>
        <dd>
          <a href={href(['agents', t.agentId])} class="mono">
            {t.agentId}
          </a>
        </dd>
        <dt>Role</dt>
        <dd>{t.role}</dd>
        <dt>Resources</dt>
        <dd class="mono">{t.resources.text ?? `cpus:${t.resources.cpus};mem:${t.resources.mem}`}</dd>
        <dt>Launched</dt>
        <dd>
          <Time ms={t.launchedAtMs} />
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time ms={t.updatedAtMs} />
        </dd>
        {t.status.message ? (
          <>
            <dt>Message</dt>
            <dd>{t.status.message}</dd>
          </>
        ) : null}
        {t.status.exitCode !== undefined ? (
          <>
            <dt>Exit code</dt>
            <dd>{t.status.exitCode}</dd>
          </>
        ) : null}
        <dt>Labels</dt>
        <dd>
          {Object.entries(t.labels).map(([k, v]) => (
            <code key={k} class="attr">
              {k}={v}
            </code>
          ))}
        </dd>
      </dl>
    </Section>
  );
}

function StatusHistory({ task: t }: { task: TaskJson }) {
  const statuses: readonly TaskStatusJson[] = t.statuses ?? [t.status];
  return (
    <div class="table-wrap" data-testid="status-history">
      {t.statuses ? null : <p class="muted small">This master keeps no status history; the latest status is shown.</p>}
      {t.statusesDropped ? <p class="muted small">{t.statusesDropped} earlier statuses were not kept (the master keeps the latest ones).</p> : null}
      <table>
        <thead>
          <tr>
            <th>When</th>
            <th>State</th>
            <th>Reason and message</th>
            <th class="hide-narrow">Source</th>
          </tr>
        </thead>
        <tbody>
          {[...statuses].reverse().map((s, i) => (
            <tr key={`${s.timestampMs}-${i}`}>
              <td>
                <Time ms={s.timestampMs} />
              </td>
              <td>
                <StateBadge state={s.state} />
                {s.healthy === undefined ? null : <span class="muted small"> {s.healthy ? 'healthy' : 'unhealthy'}</span>}
              </td>
              <td class="wrap">
                {s.reason === 'REASON_UNSPECIFIED' ? null : <div class="small">{s.reason.replace(/^REASON_/, '').toLowerCase()}</div>}
                {s.message ? <div>{s.message}</div> : null}
              </td>
              <td class="small muted hide-narrow">{s.source.replace(/^SOURCE_/, '').toLowerCase()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function UsageCard({ task: t }: { task: TaskJson }) {
  const active = isActiveState(t.state);
  const row = useLive(
    async (signal) => {
      if (!active) return null;
      const { containers } = await getJson<{ containers: Container[] }>(pathOf('/api/v1/agents', t.agentId, 'containers'), signal);
      return containers.find((c) => c.frameworkId === t.frameworkId && c.taskId === t.id) ?? null;
    },
    [],
    [t.agentId, t.frameworkId, t.id, active],
    { everyMs: active ? 5000 : 0 },
  );
  const c = row.data;
  const u = c?.usage;
  return (
    <Section title="Usage">
      <div data-testid="usage">
        {!active ? <p class="muted">The task is not running: its agent measures live tasks only.</p> : null}
        {active && missingRoute(row.error) ? <p class="muted">Usage is not available from this master.</p> : <ErrorBox error={row.error} />}
        {active && row.loading && c === undefined ? <Loading what="usage" /> : null}
        {active && c === null ? <p class="muted">Its agent does not list this task.</p> : null}
        {c && !u ? <p class="muted">No sample yet (the {c.executor} executor may not measure tasks).</p> : null}
        {c && u ? <UsageFigures c={c} u={u} /> : null}
      </div>
    </Section>
  );
}

function UsageFigures({ c, u }: { c: Container; u: NonNullable<Container['usage']> }) {
  const limit = u.memoryLimitBytes ?? c.allocation.memBytes;
  return (
    <div class="stack">
      <div>
        <div class="resource-head">
          <strong>CPU</strong>
          <span class="muted small">
            {u.cpuUtilization === null ? 'measuring…' : `${fmt(u.cpuUtilization, 2)} cores`} of {fmt(c.allocation.cpus)} allocated
          </span>
        </div>
        <UsageBar total={Math.max(c.allocation.cpus, u.cpuUtilization ?? 0)} allocated={c.allocation.cpus} used={u.cpuUtilization ?? 0} />
      </div>
      <div>
        <div class="resource-head">
          <strong>Memory</strong>
          <span class="muted small">
            {bytes(u.memoryWorkingSetBytes)} working set of {bytes(limit)} {u.memoryLimitBytes === null ? 'allocated' : 'limit'}
          </span>
        </div>
        <UsageBar total={Math.max(limit, u.memoryWorkingSetBytes)} allocated={limit} used={u.memoryWorkingSetBytes} />
      </div>
      <dl class="kv small">
        <dt>CPU time</dt>
        <dd>{fmt(u.cpuSeconds, 1)} s (throttled {fmt(u.cpuThrottledSeconds, 1)} s)</dd>
        <dt>RSS</dt>
        <dd>{bytes(u.memoryRssBytes)}</dd>
        <dt>Disk</dt>
        <dd>
          {bytes(u.diskBytes)}
          {c.allocation.diskBytes > 0 ? ` of ${mib(c.allocation.diskBytes / (1024 * 1024))}` : ''}
        </dd>
        <dt>OOM kills</dt>
        <dd>{u.oomKills}</dd>
        <dt>Sampled</dt>
        <dd>
          <Time ms={u.sampledAtMs} />
        </dd>
      </dl>
    </div>
  );
}
