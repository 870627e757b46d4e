// Jobs: the queue — every job with its phase, completions and, for one that waits, why (as the
// Jobs API says it) — and one job's page: completions against wanted, parallelism, per-index status
// for an Indexed job, its tasks, and suspend / resume / run again / delete. Live through the Jobs
// API's watch (jobs) and the master's task events.
import { deleteJson, getJson, pathOf, postJson, type Session } from '../api.js';
import { useLive, type Topic } from '../live.js';
import { href, navigate } from '../router.js';
import { ActionButton, Badge, Section, Time } from '../components/ui.js';
import { BATCH_FRAMEWORK, Empty, LoadState, mayWrite, ReadOnlyNote, useFrameworkId, WorkloadHead } from '../components/workload-ui.js';
import { num, phaseText, queueOrder, workloadEvents, type Workload } from './workload-model.js';
import { IndexTable, JobTasks, PHASE_KIND } from './job-parts.js';

const TOPICS: readonly Topic[] = ['jobs', 'tasks'];

export function Jobs() {
  const live = useLive(async (signal) => (await getJson<{ items?: Workload[] }>('/api/v1/jobs', signal)).items ?? [], TOPICS);
  const items = queueOrder(live.data ?? []);
  return (
    <>
      <div class="page-head">
        <h1>Jobs</h1>
        <span class="muted">{live.data ? `${items.length} job${items.length === 1 ? '' : 's'}` : ''}</span>
      </div>
      <LoadState live={live} what="jobs" />
      {live.data && items.length === 0 ? <Empty>No jobs yet. Create one with <code>agora apply -f job.yaml</code>.</Empty> : null}
      {items.length > 0 ? (
        <div class="card table-wrap">
          <table class="workloads">
            <thead>
              <tr>
                <th>Name</th>
                <th>Phase</th>
                <th class="num">Succeeded</th>
                <th class="num">Active</th>
                <th class="num">Failed</th>
                <th class="num wide-only">Priority</th>
                <th class="wide-only">Created</th>
                <th class="wide-only">Waiting because</th>
              </tr>
            </thead>
            <tbody>{items.map((w) => <JobRow key={w.name} w={w} />)}</tbody>
          </table>
        </div>
      ) : null}
    </>
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
  const ro = !mayWrite(who);
  const frameworkId = useFrameworkId(BATCH_FRAMEWORK);
  const live = useLive((signal) => getJson<Workload>(pathOf('/api/v1/jobs', name), signal), TOPICS, [name, frameworkId], {
    filter: workloadEvents(name, frameworkId),
  });
  const w = live.data;
  const spec = w?.job ?? {};
  const s = w?.jobStatus ?? {};
  const base = pathOf('/api/v1/jobs', name);
  const indexed = spec.completionMode === 'INDEXED';
  const finished = s.phase === 'JOB_SUCCEEDED' || s.phase === 'JOB_FAILED';
  return (
    <>
      <WorkloadHead kind="Jobs" list="jobs" name={name}>
        {w ? <Badge kind={PHASE_KIND[String(s.phase)] ?? ''}>{phaseText(s.phase, 'JOB_')}</Badge> : null}
      </WorkloadHead>
      <LoadState live={live} what="the job" />
      {w ? (
        <>
          <div class="card actions-bar">
            {spec.suspend ? (
              <ActionButton label="Resume" testId="resume" disabled={ro} run={() => postJson(`${base}/resume`)} onDone={live.reload} />
            ) : (
              <ActionButton label="Suspend" testId="suspend" disabled={ro || finished} ask={{ title: `Suspend ${name}?`, body: <p>Its running tasks are killed and no new ones start until it is resumed.</p>, confirm: 'Suspend', danger: true }} run={() => postJson(`${base}/suspend`, { suspend: true })} onDone={live.reload} />
            )}
            <ActionButton label="Run again" testId="run-again" disabled={ro || !finished} ask={{ title: `Run ${name} again?`, body: <p>A new run starts from the beginning; this run's results are replaced.</p>, confirm: 'Run again' }} run={() => postJson(`${base}/trigger`)} onDone={live.reload} />
            <ReadOnlyNote who={who} />
            <ActionButton label="Delete" testId="delete" disabled={ro} ask={{ title: `Delete ${name}?`, body: <p>The job and its record go; tasks still running are killed.</p>, confirm: 'Delete', danger: true }} run={() => deleteJson(base)} onDone={() => navigate(['jobs'])} />
          </div>
          {s.pendingReason ? (
            <div class="card pending">
              <strong>Waiting:</strong> <span data-testid="pending-reason">{s.pendingReason}</span>
            </div>
          ) : null}
          {s.phase === 'JOB_FAILED' && s.message ? <div class="error">{s.message}</div> : null}
          <Section title="Progress">
            <div class="counts">
              <div class="count">
                <div class="stat" data-testid="completions">
                  {num(s.succeeded)}/{num(spec.completions ?? 1)}
                </div>
                <div class="stat-label">succeeded of wanted</div>
              </div>
              <Count label="active" value={num(s.active)} />
              <Count label={`failed (limit ${num(spec.backoffLimit ?? 6)})`} value={num(s.failed)} />
              <Count label="parallelism" value={num(spec.parallelism ?? 1)} />
            </div>
            <progress max={Math.max(1, num(spec.completions ?? 1))} value={num(s.succeeded)} aria-label="completions" />
            <dl class="kv">
              <dt>Mode</dt>
              <dd>
                {indexed ? 'Indexed' : 'NonIndexed'}
                {spec.gang ? ', gang (all tasks together)' : ''}, priority {num(spec.priority)}
              </dd>
              <dt>Started</dt>
              <dd>
                <Time ms={num(s.startedAtMs)} />
              </dd>
              <dt>Completed</dt>
              <dd>
                <Time ms={num(s.completedAtMs)} />
              </dd>
              <dt>Command</dt>
              <dd class="mono">{spec.task?.command || (spec.task?.args ?? []).join(' ')}</dd>
            </dl>
          </Section>
          {indexed ? <IndexTable w={w} frameworkId={frameworkId} /> : null}
          <JobTasks w={w} frameworkId={frameworkId} />
        </>
      ) : null}
    </>
  );
}

function Count({ label, value }: { label: string; value: number }) {
  return (
    <div class="count">
      <div class="stat">{value}</div>
      <div class="stat-label">{label}</div>
    </div>
  );
}
