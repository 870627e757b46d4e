// The overview's lower cards: roles (weight, quota, dominant share), the leading master, and the
// master's recent events — read once from /api/v1/events/recent, then appended as the event stream
// brings new ones.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { getJson } from '../api.js';
import { subscribe, useLive } from '../live.js';
import { href } from '../router.js';
import { ErrorBox, Loading, Section, Time, fmt, mib } from '../components/ui.js';
import { eventKey, eventText, mergeEvents, percent, unavailable, type MasterEventJson, type ResourcesJson } from './cluster-model.js';
import { RELOAD_GAP_MS, paced, pacer } from './pace.js';
import { When, useNow } from '../components/when.js';

interface RoleJson {
  readonly role: string;
  readonly weight: number;
  readonly quota: { readonly guarantee: ResourcesJson; readonly limit: ResourcesJson | null } | null;
  readonly allocated: ResourcesJson;
  readonly dominantShare: number;
  readonly frameworks: readonly string[];
}

function quantity(r: ResourcesJson): string {
  const parts = [r.cpus ? `${fmt(r.cpus)} cpus` : '', r.mem ? mib(r.mem) : '', r.disk ? `${mib(r.disk)} disk` : ''].filter((p) => p);
  return parts.length ? parts.join(', ') : '—';
}

export function RolesCard() {
  const pace = useMemo(() => pacer(RELOAD_GAP_MS), []);
  const roles = useLive(paced(pace, (signal) => getJson<{ roles: RoleJson[] }>('/api/v1/roles', signal)), ['frameworks', 'tasks']);
  return (
    <Section title="Roles">
      <ErrorBox error={roles.error} />
      {!roles.data ? (
        <Loading what="roles" />
      ) : (
        <div class="table-wrap" data-testid="roles">
          <table>
            <thead>
              <tr>
                <th>Role</th>
                <th class="num">Weight</th>
                <th>Quota</th>
                <th class="hide-narrow">Allocated</th>
                <th class="num wrap">Dominant share</th>
              </tr>
            </thead>
            <tbody>
              {roles.data.roles.length === 0 ? (
                <tr>
                  <td colSpan={5} class="muted">
                    No roles yet: a role appears when a framework subscribes with it or a weight or quota names it.
                  </td>
                </tr>
              ) : null}
              {roles.data.roles.map((r) => (
                <tr key={r.role}>
                  <td>
                    <strong>{r.role}</strong>
                    <div class="muted small">{r.frameworks.length} framework{r.frameworks.length === 1 ? '' : 's'}</div>
                  </td>
                  <td class="num">{fmt(r.weight)}</td>
                  <td class="wrap-anywhere">{r.quota ? <QuotaText quota={r.quota} /> : <span class="muted">none</span>}</td>
                  <td class="wrap-anywhere hide-narrow">{quantity(r.allocated)}</td>
                  <td class="num">{percent(r.dominantShare)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}

function QuotaText({ quota }: { quota: NonNullable<RoleJson['quota']> }) {
  return (
    <span>
      guarantee {quantity(quota.guarantee)}
      {quota.limit ? <span class="muted">; limit {quantity(quota.limit)}</span> : null}
    </span>
  );
}

interface LeaderJson {
  readonly self: boolean;
  readonly leader?: { readonly id: string; readonly hostname: string; readonly grpcAddress: string; readonly httpAddress: string; readonly version: string };
}
interface MasterJson {
  readonly id: string;
  readonly cluster: string;
  readonly startedAtMs: number;
  readonly electedAtMs: number;
  readonly lifecycle: string;
}

export function LeaderCard() {
  const data = useLive(
    async (signal) => {
      const [leader, summary] = await Promise.all([getJson<LeaderJson>('/api/v1/leader', signal), getJson<{ master: MasterJson }>('/api/v1/state-summary', signal)]);
      return { leader, master: summary.master };
    },
    ['agents'],
    [],
    { everyMs: 30_000 },
  );
  const l = data.data?.leader.leader;
  const m = data.data?.master;
  return (
    <Section title="Leading master">
      <ErrorBox error={data.error} />
      {!data.data ? (
        <Loading what="the leader" />
      ) : (
        <dl class="kv" data-testid="leader">
          <dt>Leader</dt>
          <dd>{l ? `${l.hostname} (${l.id})` : 'none known'}</dd>
          <dt>HTTP</dt>
          <dd class="mono">{l?.httpAddress ?? '—'}</dd>
          <dt>gRPC</dt>
          <dd class="mono">{l?.grpcAddress ?? '—'}</dd>
          <dt>Version</dt>
          <dd>{l?.version ?? '—'}</dd>
          <dt>This page's master</dt>
          <dd>{data.data.leader.self ? 'is the leader' : 'a standby (it forwards to the leader)'}</dd>
          {m?.cluster ? (
            <>
              <dt>Cluster</dt>
              <dd>{m.cluster}</dd>
            </>
          ) : null}
          <dt>Elected</dt>
          <dd>
            <Time ms={m?.electedAtMs} />
          </dd>
          <dt>Started</dt>
          <dd>
            <Time ms={m?.startedAtMs} />
          </dd>
        </dl>
      )}
    </Section>
  );
}

const KEEP = 50;

export function EventsCard() {
  const [events, setEvents] = useState<MasterEventJson[]>([]);
  const [error, setError] = useState<unknown>();
  const [missing, setMissing] = useState(false);
  const now = useNow(10_000);
  useEffect(() => {
    const abort = new AbortController();
    getJson<{ events: MasterEventJson[] }>(`/api/v1/events/recent?limit=${KEEP}`, abort.signal).then(
      (r) => setEvents((now) => mergeEvents(r.events, now, KEEP)),
      (err: unknown) => {
        if (abort.signal.aborted) return;
        if (unavailable(err)) setMissing(true);
        else setError(err);
      },
    );
    const stop = subscribe((topic, data) => {
      if ((topic === 'agents' || topic === 'frameworks' || topic === 'tasks') && data && typeof data === 'object') {
        setEvents((now) => mergeEvents(now, [data as MasterEventJson], KEEP));
      }
    });
    return () => {
      abort.abort();
      stop();
    };
  }, []);
  return (
    <Section title="Recent events">
      <ErrorBox error={error} />
      {missing ? <p class="muted small">Past events are not available from this master; new ones appear as they happen.</p> : null}
      <ol class="events" data-testid="events">
        {events.length === 0 ? <li class="muted">No events yet.</li> : null}
        {[...events].reverse().map((e) => (
          <li key={eventKey(e)} class={`event ${e.type.split('_')[0]?.toLowerCase() ?? ''}`}>
            <When ms={e.timestampMs} now={now} /> <EventSubject e={e} />
          </li>
        ))}
      </ol>
    </Section>
  );
}

function EventSubject({ e }: { e: MasterEventJson }) {
  const text = eventText(e);
  if (e.type.startsWith('TASK_') && e.frameworkId && e.taskId) return <a href={href(['tasks', e.frameworkId, e.taskId])}>{text}</a>;
  if (e.type.startsWith('AGENT_') && e.agentId && e.type !== 'AGENT_REMOVED') return <a href={href(['agents', e.agentId])}>{text}</a>;
  return <span>{text}</span>;
}
