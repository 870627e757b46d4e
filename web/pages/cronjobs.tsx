// Cron jobs: the list (schedule and its time zone, suspended, last and next run, last outcome), and
// one cron job's page — the schedule in its zone, the next run there and in the viewer's time,
// the runs (active, then history) with their outcomes and task links, and run now / suspend /
// resume / delete. Live through the Jobs API's watch (cronjobs) and the master's task events.
import { deleteJson, getJson, pathOf, postJson, type Session } from '../api.js';
import { useLive, type Topic } from '../live.js';
import { href, navigate } from '../router.js';
import { ActionButton, Badge, Section, Time } from '../components/ui.js';
import { CRON_FRAMEWORK, Empty, LoadState, mayWrite, ReadOnlyNote, TaskLink, useFrameworkId, WorkloadHead } from '../components/workload-ui.js';
import { nextRunText, num, runRows, type RunRow, workloadEvents, type Workload } from './workload-model.js';

const TOPICS: readonly Topic[] = ['cronjobs', 'tasks'];
const viewerZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function CronJobs() {
  const live = useLive(async (signal) => (await getJson<{ items?: Workload[] }>('/api/v1/cronjobs', signal)).items ?? [], TOPICS);
  const items = [...(live.data ?? [])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return (
    <>
      <div class="page-head">
        <h1>Cron jobs</h1>
        <span class="muted">{live.data ? `${items.length} cron job${items.length === 1 ? '' : 's'}` : ''}</span>
      </div>
      <LoadState live={live} what="cron jobs" />
      {live.data && items.length === 0 ? <Empty>No cron jobs yet. Create one with <code>agora apply -f cronjob.yaml</code>.</Empty> : null}
      {items.length > 0 ? (
        <div class="card table-wrap">
          <table class="workloads">
            <thead>
              <tr>
                <th>Name</th>
                <th>Schedule</th>
                <th class="wide-only">Time zone</th>
                <th class="wide-only">Suspended</th>
                <th class="wide-only">Last run</th>
                <th>Last outcome</th>
                <th>Next run</th>
              </tr>
            </thead>
            <tbody>{items.map((w) => <CronRow key={w.name} w={w} />)}</tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

function CronRow({ w }: { w: Workload }) {
  const spec = w.cronjob ?? {};
  const last = runRows(w.cronjobStatus)[0];
  return (
    <tr data-testid={`cronjob-row-${w.name ?? ''}`}>
      <td>
        <a href={href(['cronjobs', String(w.name ?? '')])}>{w.name}</a>
        {spec.suspend ? (
          <div class="narrow-only">
            <Badge kind="warn">suspended</Badge>
          </div>
        ) : null}
      </td>
      <td>
        <span class="mono">{spec.schedule || `after ${(spec.after ?? []).join(', ')}`}</span>
        <div class="narrow-only muted small">{spec.timeZone || 'UTC'}</div>
      </td>
      <td class="wide-only">{spec.timeZone || 'UTC'}</td>
      <td class="wide-only">{spec.suspend ? <Badge kind="warn">suspended</Badge> : <span class="muted">no</span>}</td>
      <td class="wide-only">
        <Time ms={num(w.cronjobStatus?.lastScheduleMs)} />
      </td>
      <td>{last ? <Badge kind={last.outcomeKind}>{last.outcome}</Badge> : <span class="muted">—</span>}</td>
      <td>{spec.suspend ? <span class="muted">—</span> : <Time ms={num(w.cronjobStatus?.nextScheduleMs)} />}</td>
    </tr>
  );
}

export function CronJobPage({ name, who }: { name: string; who: Session }) {
  const ro = !mayWrite(who);
  const frameworkId = useFrameworkId(CRON_FRAMEWORK);
  const live = useLive((signal) => getJson<Workload>(pathOf('/api/v1/cronjobs', name), signal), TOPICS, [name, frameworkId], {
    filter: workloadEvents(name, frameworkId),
  });
  const w = live.data;
  const spec = w?.cronjob ?? {};
  const s = w?.cronjobStatus;
  const base = pathOf('/api/v1/cronjobs', name);
  return (
    <>
      <WorkloadHead kind="Cron jobs" list="cronjobs" name={name}>
        {spec.suspend ? <Badge kind="warn">suspended</Badge> : null}
      </WorkloadHead>
      <LoadState live={live} what="the cron job" />
      {w ? (
        <>
          <div class="card actions-bar">
            <ActionButton label="Run now" testId="run-now" disabled={ro} run={() => postJson(`${base}/trigger`)} onDone={live.reload} />
            {spec.suspend ? (
              <ActionButton label="Resume" testId="resume" disabled={ro} run={() => postJson(`${base}/resume`)} onDone={live.reload} />
            ) : (
              <ActionButton label="Suspend" testId="suspend" disabled={ro} ask={{ title: `Suspend ${name}?`, body: <p>No scheduled run starts until it is resumed. Runs already going carry on.</p>, confirm: 'Suspend', danger: true }} run={() => postJson(`${base}/suspend`, { suspend: true })} onDone={live.reload} />
            )}
            <ReadOnlyNote who={who} />
            <ActionButton label="Delete" testId="delete" disabled={ro} ask={{ title: `Delete ${name}?`, body: <p>The cron job and its history go; runs still going are killed.</p>, confirm: 'Delete', danger: true }} run={() => deleteJson(base)} onDone={() => navigate(['cronjobs'])} />
          </div>
          <Section title="Schedule">
            <dl class="kv">
              <dt>Schedule</dt>
              <dd class="mono">{spec.schedule || `after ${(spec.after ?? []).join(', ')} succeed`}</dd>
              <dt>Time zone</dt>
              <dd>{spec.timeZone || 'UTC'}</dd>
              <dt>Next run</dt>
              <dd data-testid="next-run">
                {nextRunText(w, viewerZone())}
                {num(s?.nextScheduleMs) && !spec.suspend ? (
                  <>
                    {' · '}
                    <Time ms={num(s?.nextScheduleMs)} />
                  </>
                ) : null}
              </dd>
              <dt>Last run</dt>
              <dd>
                <Time ms={num(s?.lastScheduleMs)} />
              </dd>
              <dt>Last success</dt>
              <dd>
                <Time ms={num(s?.lastSuccessfulMs)} />
              </dd>
              <dt>Concurrency</dt>
              <dd>{String(spec.concurrencyPolicy ?? 'ALLOW').toLowerCase()}</dd>
              <dt>Command</dt>
              <dd class="mono">{spec.task?.command || (spec.task?.args ?? []).join(' ')}</dd>
            </dl>
          </Section>
          <Runs rows={runRows(s)} frameworkId={frameworkId} />
        </>
      ) : null}
    </>
  );
}

function Runs({ rows, frameworkId }: { rows: readonly RunRow[]; frameworkId: string | undefined }) {
  return (
    <Section title="Runs">
      {rows.length === 0 ? (
        <Empty>No runs yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Outcome</th>
                <th>Started</th>
                <th>Ended</th>
                <th>Took</th>
                <th>Tasks</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.id} data-testid="run-row" data-run={r.id}>
                  <td>
                    <Badge kind={r.outcomeKind}>{r.outcome}</Badge>
                    {r.manual ? <span class="muted small"> manual</span> : null}
                  </td>
                  <td>
                    <Time ms={r.startedAtMs} />
                  </td>
                  <td>
                    <Time ms={r.finishedAtMs} />
                  </td>
                  <td>{r.took}</td>
                  <td>
                    {r.taskIds.map((id) => (
                      <div key={id}>
                        <TaskLink frameworkId={frameworkId} taskId={id} />
                      </div>
                    ))}
                  </td>
                  <td class="wrap">{r.detail}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
