// The sections of a job's page: its actions, its progress, the per-index table of an Indexed job
// and the job's tasks.
import { deleteJson, pathOf, postJson, type Session } from '../api.js';
import { navigate } from '../router.js';
import { ActionButton, Badge, Section, StateBadge, Table, Time } from '../components/ui.js';
import { mayWrite, ReadOnlyNote, TaskLink } from '../components/workload-ui.js';
import { indexRows, num, type Workload } from './workload-model.js';

export const PHASE_KIND: Record<string, string> = { JOB_RUNNING: 'wait', JOB_PENDING: 'warn', JOB_SUCCEEDED: 'ok', JOB_FAILED: 'bad', JOB_SUSPENDED: 'done', JOB_SKIPPED: 'warn' };
const INDEX_KIND: Record<string, string> = { succeeded: 'ok', failed: 'bad', retrying: 'warn', running: 'wait', pending: '' };

export function IndexTable({ w, frameworkId }: { w: Workload; frameworkId: string | undefined }) {
  const rows = indexRows(w);
  return (
    <Section title={`Indexes (${rows.filter((r) => r.state === 'succeeded').length}/${rows.length} done)`}>
      <div class="index-strip" aria-hidden="true">
        {rows.map((r) => (
          <span key={r.index} class={`cell ${r.state}`} title={`index ${r.index}: ${r.state}`} />
        ))}
      </div>
      <Table
        head={
          <>
            <th class="num">Index</th>
            <th>Status</th>
            <th class="num">Attempts</th>
            <th>Latest task</th>
            <th class="wide-only">Host</th>
            <th class="wide-only">Message</th>
          </>
        }
        rows={rows.map((r) => (
          <tr key={r.index} data-testid={`index-row-${r.index}`}>
            <td class="num">{r.index}</td>
            <td>
              <Badge kind={INDEX_KIND[r.state] ?? ''}>{r.state}</Badge>
            </td>
            <td class="num">{r.attempts}</td>
            <td>
              <TaskLink frameworkId={frameworkId} taskId={r.task?.taskId} />
            </td>
            <td class="wide-only">{r.task?.hostname || <span class="muted">—</span>}</td>
            <td class="wrap wide-only">{r.task?.message}</td>
          </tr>
        ))}
      />
    </Section>
  );
}

export function JobTasks({ w, frameworkId }: { w: Workload; frameworkId: string | undefined }) {
  const indexed = w.job?.completionMode === 'INDEXED';
  const tasks = w.jobStatus?.tasks ?? [];
  return (
    <Section title={`Tasks (${tasks.length})`}>
      <Table
        empty="No tasks launched yet."
        head={
          <>
            <th>Task</th>
            {indexed ? <th class="num">Index</th> : null}
            <th class="num">Attempt</th>
            <th>State</th>
            <th class="num">Exit</th>
            <th class="wide-only">Host</th>
            <th>Started</th>
            <th class="wide-only">Message</th>
          </>
        }
        rows={tasks.map((t) => (
          <tr key={t.taskId} data-testid={`task-row-${t.taskId ?? ''}`}>
            <td>
              <TaskLink frameworkId={frameworkId} taskId={t.taskId} />
            </td>
            {indexed ? <td class="num">{num(t.index)}</td> : null}
            <td class="num">{num(t.attempt)}</td>
            <td>
              <StateBadge state={String(t.state ?? '')} />
            </td>
            <td class="num">{t.exitCode ?? ''}</td>
            <td class="wide-only">{t.hostname || <span class="muted">—</span>}</td>
            <td>
              <Time ms={num(t.startedAtMs) || num(t.stagedAtMs)} />
            </td>
            <td class="wrap wide-only">{t.message}</td>
          </tr>
        ))}
      />
    </Section>
  );
}

export function JobActions({ w, who, onDone }: { w: Workload; who: Session; onDone: () => void }) {
  const ro = !mayWrite(who);
  const name = String(w.name ?? '');
  const spec = w.job ?? {};
  const s = w.jobStatus ?? {};
  const base = pathOf('/api/v1/jobs', name);
  const finished = s.phase === 'JOB_SUCCEEDED' || s.phase === 'JOB_FAILED';
  return (
    <div class="card actions-bar">
      {spec.suspend ? (
        <ActionButton label="Resume" testId="resume" disabled={ro} run={() => postJson(`${base}/resume`)} onDone={onDone} />
      ) : (
        <ActionButton label="Suspend" testId="suspend" disabled={ro || finished} ask={{ title: `Suspend ${name}?`, body: <p>Its running tasks are killed and no new ones start until it is resumed.</p>, confirm: 'Suspend', danger: true }} run={() => postJson(`${base}/suspend`, { suspend: true })} onDone={onDone} />
      )}
      <ActionButton label="Run again" testId="run-again" disabled={ro || !finished} ask={{ title: `Run ${name} again?`, body: <p>A new run starts from the beginning; this run's results are replaced.</p>, confirm: 'Run again' }} run={() => postJson(`${base}/trigger`)} onDone={onDone} />
      <ReadOnlyNote who={who} />
      <ActionButton label="Delete" testId="delete" disabled={ro} ask={{ title: `Delete ${name}?`, body: <p>The job and its record go; tasks still running are killed.</p>, confirm: 'Delete', danger: true }} run={() => deleteJson(base)} onDone={() => navigate(['jobs'])} />
    </div>
  );
}

export function JobProgress({ w }: { w: Workload }) {
  const spec = w.job ?? {};
  const s = w.jobStatus ?? {};
  const indexed = spec.completionMode === 'INDEXED';
  return (
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
