// Agents: the list (hostname, state, attributes, resources allocated and measured against the
// total, tasks) and one agent's page (its fields, resources, tasks, and drain / undrain, which ask
// first). Both follow the master's agent and task events.
import { useMemo, useState } from 'preact/hooks';
import { getJson, pathOf, postJson, type Session } from '../api.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { ActionButton, Badge, ErrorBox, Loading, Section, StateBadge, Table, Time, UsageBar, fmt, mib } from '../components/ui.js';
import type { AgentJson, TaskPageJson } from './cluster-model.js';
import { RELOAD_GAP_MS, paced, pacer } from './pace.js';

const MIB = 1024 * 1024;

export function AgentStateBadges({ agent }: { agent: AgentJson }) {
  const kind = agent.state === 'connected' ? 'ok' : agent.state === 'unreachable' ? 'bad' : 'warn';
  return (
    <span class="badges">
      <Badge kind={kind}>{agent.state === 'connected' ? 'registered' : agent.state}</Badge>
      {agent.drain ? <Badge kind="warn">{agent.drain.state}</Badge> : null}
      {agent.state === 'connected' && !agent.active && !agent.drain ? <Badge kind="warn">inactive</Badge> : null}
    </span>
  );
}

function Attributes({ attributes }: { attributes: Readonly<Record<string, string>> }) {
  const entries = Object.entries(attributes);
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <span class="attrs">
      {entries.map(([k, v]) => (
        <code key={k} class="attr">
          {k}={v}
        </code>
      ))}
    </span>
  );
}

/** One resource as a bar and its numbers: allocated (and measured use) of the total. */
function ResourceCell({ agent, kind }: { agent: AgentJson; kind: 'cpus' | 'mem' | 'disk' }) {
  const total = agent.resources.total[kind];
  const allocated = agent.resources.allocated[kind];
  const used = !agent.used ? undefined : kind === 'cpus' ? agent.used.cpus : kind === 'mem' ? agent.used.memBytes / MIB : agent.used.diskBytes === undefined ? undefined : agent.used.diskBytes / MIB;
  const show = kind === 'cpus' ? (v: number) => fmt(v, 1) : mib;
  return (
    <div class="res-cell">
      <UsageBar total={total} allocated={allocated} {...(used === undefined ? {} : { used })} />
      <span class="muted small">
        {show(allocated)} alloc{used === undefined ? '' : `, ${show(used)} used`} / {show(total)}
      </span>
    </div>
  );
}

export function Agents() {
  const pace = useMemo(() => pacer(RELOAD_GAP_MS), []);
  const agents = useLive(paced(pace, (signal) => getJson<{ agents: AgentJson[] }>('/api/v1/agents', signal)), ['agents', 'tasks'], [], { everyMs: 15_000 });
  return (
    <div>
      <div class="page-head">
        <h1>Agents</h1>
        {agents.data ? <span class="muted">{agents.data.agents.length} in all</span> : null}
      </div>
      <ErrorBox error={agents.error} />
      {!agents.data ? (
        <Loading what="agents" />
      ) : (
        <div class="card table-wrap">
          <table class="agents">
            <thead>
              <tr>
                <th>Agent</th>
                <th class="hide-narrow">State</th>
                <th class="hide-narrow">Attributes</th>
                <th>CPU</th>
                <th>Memory</th>
                <th class="hide-narrow">Disk</th>
                <th class="num">Tasks</th>
              </tr>
            </thead>
            <tbody>
              {agents.data.agents.length === 0 ? (
                <tr>
                  <td colSpan={7} class="muted">
                    No agents have registered.
                  </td>
                </tr>
              ) : null}
              {agents.data.agents.map((a) => (
                <tr key={a.id} data-testid={`agent-row-${a.id}`}>
                  <td>
                    <a href={href(['agents', a.id])}>
                      <strong>{a.hostname}</strong>
                    </a>
                    <div class="muted small mono hide-narrow">{a.id}</div>
                    <div class="show-narrow">
                      <AgentStateBadges agent={a} />
                    </div>
                  </td>
                  <td class="hide-narrow">
                    <AgentStateBadges agent={a} />
                  </td>
                  <td class="wrap hide-narrow">
                    <Attributes attributes={a.attributes} />
                  </td>
                  <td>
                    <ResourceCell agent={a} kind="cpus" />
                  </td>
                  <td>
                    <ResourceCell agent={a} kind="mem" />
                  </td>
                  <td class="hide-narrow">
                    <ResourceCell agent={a} kind="disk" />
                  </td>
                  <td class="num">
                    <a href={href(['tasks'], { agent: a.id, state: 'active' })}>{a.activeTasks}</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function AgentPage({ id }: { id: string; who: Session }) {
  const pace = useMemo(() => pacer(RELOAD_GAP_MS), []);
  const agent = useLive(paced(pace, (signal) => getJson<{ agent: AgentJson }>(pathOf('/api/v1/agents', id), signal), id), ['agents', 'tasks'], [id], {
    everyMs: 15_000,
    filter: (_topic, data) => !data || (data as { agentId?: string }).agentId === id,
  });
  const a = agent.data?.agent;
  return (
    <div>
      <div class="page-head">
        <h1>{a ? a.hostname : 'Agent'}</h1>
        {a ? <AgentStateBadges agent={a} /> : null}
        <span class="muted mono small">{id}</span>
        {a ? <DrainActions agent={a} onDone={agent.reload} /> : null}
      </div>
      <ErrorBox error={agent.error} />
      {!a ? (
        agent.error ? null : <Loading what="the agent" />
      ) : (
        <>
          <div class="grid two">
            <AgentFields agent={a} />
            <AgentResources agent={a} />
          </div>
          <AgentTasks agentId={id} />
        </>
      )}
    </div>
  );
}

function DrainActions({ agent, onDone }: { agent: AgentJson; onDone: () => void }) {
  const [grace, setGrace] = useState('');
  const url = pathOf('/api/v1/agents', agent.id);
  // An empty field leaves the master's default; anything else goes as typed (the API names a bad value).
  const body = (): Record<string, unknown> => (grace.trim() === '' ? {} : { gracePeriodSeconds: Number.isFinite(Number(grace)) ? Number(grace) : grace });
  return (
    <span class="card-actions head-actions">
      {agent.drain ? (
        <ActionButton
          label="Undrain"
          testId="undrain"
          ask={{ title: `Undrain ${agent.hostname}?`, body: 'The agent is offered to frameworks again.', confirm: 'Undrain' }}
          run={() => postJson(`${url}/undrain`, {})}
          onDone={onDone}
        />
      ) : null}
      {!agent.drain ? (
        <ActionButton
          label="Drain"
          testId="drain"
          ask={{
            title: `Drain ${agent.hostname}?`,
            danger: true,
            confirm: 'Drain',
            body: (
              <div class="stack">
                <p>No new tasks are placed on this agent, and its tasks are killed after the grace period, for their frameworks to run elsewhere.</p>
                <label>
                  Grace period (seconds; empty for the master's default)
                  <input type="number" min={0} data-testid="drain-grace" value={grace} onInput={(e) => setGrace((e.target as HTMLInputElement).value)} />
                </label>
              </div>
            ),
          }}
          run={() => postJson(`${url}/drain`, body())}
          onDone={onDone}
        />
      ) : null}
    </span>
  );
}

function AgentFields({ agent: a }: { agent: AgentJson }) {
  return (
    <Section title="Agent">
      <dl class="kv">
        <dt>Hostname</dt>
        <dd>{a.hostname}</dd>
        <dt>HTTP</dt>
        <dd class="mono">{a.httpAddress || '—'}</dd>
        <dt>Version</dt>
        <dd>{a.version || '—'}</dd>
        <dt>Registered</dt>
        <dd>
          <Time ms={a.registeredAtMs} />
        </dd>
        {a.reregisteredAtMs ? (
          <>
            <dt>Re-registered</dt>
            <dd>
              <Time ms={a.reregisteredAtMs} />
            </dd>
          </>
        ) : null}
        {a.unreachableSinceMs ? (
          <>
            <dt>Unreachable since</dt>
            <dd>
              <Time ms={a.unreachableSinceMs} />
            </dd>
          </>
        ) : null}
        {a.drain ? (
          <>
            <dt>Drain</dt>
            <dd>
              {a.drain.state}, grace {a.drain.gracePeriodSeconds} s, since <Time ms={a.drain.startedAtMs} />
            </dd>
          </>
        ) : null}
        <dt>Attributes</dt>
        <dd>
          <Attributes attributes={a.attributes} />
        </dd>
      </dl>
    </Section>
  );
}

function AgentResources({ agent: a }: { agent: AgentJson }) {
  const r = a.resources;
  const rows: [string, (x: typeof r.total) => string][] = [
    ['CPU', (x) => fmt(x.cpus, 2)],
    ['Memory', (x) => mib(x.mem)],
    ['Disk', (x) => mib(x.disk)],
    ['Ports', (x) => x.ports || '—'],
  ];
  return (
    <Section title="Resources">
      <Table
        head={
          <>
            <th />
            <th class="num">Total</th>
            <th class="num">Allocated</th>
            <th class="num">Held by tasks</th>
            <th class="num">Offered</th>
            <th class="num">Available</th>
          </>
        }
        rows={rows.map(([label, show]) => (
          <tr key={label}>
            <th>{label}</th>
            <td class="num">{show(r.total)}</td>
            <td class="num">{show(r.allocated)}</td>
            <td class="num">{show(r.used)}</td>
            <td class="num">{show(r.offered)}</td>
            <td class="num">{show(r.available)}</td>
          </tr>
        ))}
      />
      <p class="muted small">
        Measured use:{' '}
        {a.used ? (
          <>
            {fmt(a.used.cpus, 2)} cores, {mib(a.used.memBytes / MIB)} memory{a.used.diskBytes === undefined ? '' : `, ${mib(a.used.diskBytes / MIB)} disk`} (sampled <Time ms={a.used.sampledAtMs} />)
          </>
        ) : (
          'no report yet'
        )}
      </p>
    </Section>
  );
}

function AgentTasks({ agentId }: { agentId: string }) {
  const pace = useMemo(() => pacer(RELOAD_GAP_MS), []);
  const tasks = useLive(paced(pace, (signal) => getJson<TaskPageJson>(`/api/v1/tasks?agentId=${encodeURIComponent(agentId)}&active=1&limit=100`, signal), agentId), ['tasks'], [agentId], {
    filter: (_topic, data) => !data || (data as { agentId?: string }).agentId === agentId,
  });
  const live = tasks.data?.tasks;
  return (
    <Section title="Tasks" actions={<a href={href(['tasks'], { agent: agentId })}>all tasks on this agent →</a>}>
      <ErrorBox error={tasks.error} />
      {!live ? (
        <Loading what="tasks" />
      ) : (
        <Table
          empty="No live tasks on this agent."
          head={
            <>
              <th>Task</th>
              <th>State</th>
              <th class="num">CPU</th>
              <th class="num">Memory</th>
              <th>Updated</th>
            </>
          }
          rows={live.map((t) => (
            <tr key={`${t.frameworkId}/${t.id}`} data-testid={`task-row-${t.id}`}>
              <td class="wrap">
                <a href={href(['tasks', t.frameworkId, t.id])}>{t.id}</a>
              </td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td class="num">{fmt(t.resources.cpus)}</td>
              <td class="num">{mib(t.resources.mem)}</td>
              <td>
                <Time ms={t.updatedAtMs} />
              </td>
            </tr>
          ))}
        />
      )}
    </Section>
  );
}
