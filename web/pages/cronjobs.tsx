// Cron jobs: the list (schedule and its time zone, suspended, last and next run, last outcome), and
// one cron job's page — the schedule in its zone, the next run there and in the viewer's time,
// the runs (active, then history) with their outcomes and task links, and run now / suspend /
// resume / delete. Live through the Jobs API's watch (cronjobs) and the master's task events.
import { getJson, pathOf, type Session } from '../api.js';
import { useLive, type Topic } from '../live.js';
import { href } from '../router.js';
import { Badge, Time } from '../components/ui.js';
import { CRON_FRAMEWORK, LoadState, useFrameworkId, WorkloadHead, WorkloadList } from '../components/workload-ui.js';
import { num, runRows, workloadEvents, type Workload } from './workload-model.js';
import { CronActions, Runs, Schedule } from './cron-parts.js';

const TOPICS: readonly Topic[] = ['cronjobs', 'tasks'];
/** The list: its kind's own watch events, which come whenever a view changes, its tasks' included — not every task event in the cluster. */
const LIST_TOPICS: readonly Topic[] = ['cronjobs'];

export function CronJobs() {
  const live = useLive(async (signal) => (await getJson<{ items?: Workload[] }>('/api/v1/cronjobs', signal)).items ?? [], LIST_TOPICS);
  const items = [...(live.data ?? [])].sort((a, b) => String(a.name).localeCompare(String(b.name)));
  return (
    <WorkloadList
      title="Cron jobs"
      noun="cron job"
      file="cronjob.yaml"
      live={live}
      count={items.length}
      head={
        <>
          <th>Name</th>
          <th>Schedule</th>
          <th class="wide-only">Time zone</th>
          <th class="wide-only">Suspended</th>
          <th class="wide-only">Last run</th>
          <th>Last outcome</th>
          <th>Next run</th>
        </>
      }
    >
      {items.map((w) => <CronRow key={w.name} w={w} />)}
    </WorkloadList>
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
  const frameworkId = useFrameworkId(CRON_FRAMEWORK);
  const live = useLive((signal) => getJson<Workload>(pathOf('/api/v1/cronjobs', name), signal), TOPICS, [name, frameworkId], {
    filter: workloadEvents(name, frameworkId),
  });
  const w = live.data;
  const spec = w?.cronjob ?? {};
  const s = w?.cronjobStatus;
  return (
    <>
      <WorkloadHead kind="Cron jobs" list="cronjobs" name={name}>
        {spec.suspend ? <Badge kind="warn">suspended</Badge> : null}
      </WorkloadHead>
      <LoadState live={live} what="the cron job" />
      {w ? (
        <>
          <CronActions w={w} who={who} onDone={live.reload} />
          <Schedule w={w} />
          <Runs rows={runRows(s)} frameworkId={frameworkId} />
        </>
      ) : null}
    </>
  );
}

