// Jobs: the queue — every job with its phase, completions and, for one that waits, why (as the
// Jobs API says it) — and one job's page: completions against wanted, parallelism, per-index status
// for an Indexed job, its tasks, and suspend / resume / run again / delete. Live through the Jobs
// API's watch (jobs) and the master's task events.
import { getJson, pathOf, type Session } from '../api.js';
import { useLive, type Topic } from '../live.js';
import { href } from '../router.js';
import { Badge, Time } from '../components/ui.js';
import { BATCH_FRAMEWORK, LoadState, useFrameworkId, WorkloadHead, WorkloadList } from '../components/workload-ui.js';
import { num, phaseText, queueOrder, workloadEvents, type Workload } from './workload-model.js';
import { IndexTable, JobActions, JobProgress, JobTasks, PHASE_KIND } from './job-parts.js';

const TOPICS: readonly Topic[] = ['jobs', 'tasks'];
/** The list: its kind's own watch events, which come whenever a view changes, its tasks' included — not every task event in the cluster. */
const LIST_TOPICS: readonly Topic[] = ['jobs'];

export function Jobs() {
  const live = useLive(async (signal) => (await getJson<{ items?: Workload[] }>('/api/v1/jobs', signal)).items ?? [], LIST_TOPICS);
  const items = queueOrder(live.data ?? []);
  return (
    <WorkloadList
      title="Jobs"
      noun="job"
      file="job.yaml"
      live={live}
      count={items.length}
      head={
        <>
          <th>Name</th>
          <th>Phase</th>
          <th class="num">Succeeded</th>
          <th class="num">Active</th>
          <th class="num">Failed</th>
          <th class="num wide-only">Priority</th>
          <th class="wide-only">Created</th>
          <th class="wide-only">Waiting because</th>
        </>
      }
    >
      {items.map((w) => <JobRow key={w.name} w={w} />)}
    </WorkloadList>
  );
}

function JobRow({ w }: { w: Workload }) {
  const s = w.jobStatus ?? {};
  const reason = s.pendingReason || (s.phase === 'JOB_FAILED' ? s.message : '');
  return (
    <tr data-testid={`job-row-${w.name ?? ''}`}>
      <td>
        <a href={href(['jobs', String(w.name ?? '')])}>{w.name}</a>
        {reason ? <div class="narrow-only reason">{reason}</div> : null}
      </td>
      <td>
        <Badge kind={PHASE_KIND[String(s.phase)] ?? ''}>{phaseText(s.phase, 'JOB_')}</Badge>
      </td>
      <td class="num">
        {num(s.succeeded)}/{num(w.job?.completions ?? 1)}
      </td>
      <td class="num">{num(s.active)}</td>
      <td class={`num ${num(s.failed) > 0 ? 'short' : ''}`}>{num(s.failed)}</td>
      <td class="num wide-only">{num(w.job?.priority)}</td>
      <td class="wide-only">
        <Time ms={num(w.createdAtMs)} />
      </td>
      <td class="wrap reason wide-only">{reason}</td>
    </tr>
  );
}

export function JobPage({ name, who }: { name: string; who: Session }) {
  const frameworkId = useFrameworkId(BATCH_FRAMEWORK);
  const live = useLive((signal) => getJson<Workload>(pathOf('/api/v1/jobs', name), signal), TOPICS, [name, frameworkId], {
    filter: workloadEvents(name, frameworkId),
  });
  const w = live.data;
  const spec = w?.job ?? {};
  const s = w?.jobStatus ?? {};
  const indexed = spec.completionMode === 'INDEXED';
  return (
    <>
      <WorkloadHead kind="Jobs" list="jobs" name={name}>
        {w ? <Badge kind={PHASE_KIND[String(s.phase)] ?? ''}>{phaseText(s.phase, 'JOB_')}</Badge> : null}
      </WorkloadHead>
      <LoadState live={live} what="the job" />
      {w ? (
        <>
          <JobActions w={w} who={who} onDone={live.reload} />
          {s.pendingReason ? (
            <div class="card pending">
              <strong>Waiting:</strong> <span data-testid="pending-reason">{s.pendingReason}</span>
            </div>
          ) : null}
          {s.phase === 'JOB_FAILED' && s.message ? <div class="error">{s.message}</div> : null}
          <JobProgress w={w} />
          {indexed ? <IndexTable w={w} frameworkId={frameworkId} /> : null}
          <JobTasks w={w} frameworkId={frameworkId} />
        </>
      ) : null}
    </>
  );
}

