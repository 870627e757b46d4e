// The sections of a job's page: the per-index table of an Indexed job and the job's tasks.
import { Badge, Section, StateBadge, Time } from '../components/ui.js';
import { Empty, TaskLink } from '../components/workload-ui.js';
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
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th class="num">Index</th>
              <th>Status</th>
              <th class="num">Attempts</th>
              <th>Latest task</th>
              <th>Host</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.index} data-testid={`index-row-${r.index}`}>
                <td class="num">{r.index}</td>
                <td>
                  <Badge kind={INDEX_KIND[r.state] ?? ''}>{r.state}</Badge>
                </td>
                <td class="num">{r.attempts}</td>
                <td>
                  <TaskLink frameworkId={frameworkId} taskId={r.task?.taskId} />
                </td>
                <td>{r.task?.hostname || <span class="muted">—</span>}</td>
                <td class="wrap">{r.task?.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

export function JobTasks({ w, frameworkId }: { w: Workload; frameworkId: string | undefined }) {
  const indexed = w.job?.completionMode === 'INDEXED';
  const tasks = w.jobStatus?.tasks ?? [];
  return (
    <Section title={`Tasks (${tasks.length})`}>
      {tasks.length === 0 ? (
        <Empty>No tasks launched yet.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Task</th>
                {indexed ? <th class="num">Index</th> : null}
                <th class="num">Attempt</th>
                <th>State</th>
                <th class="num">Exit</th>
                <th>Host</th>
                <th>Started</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {tasks.map((t) => (
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
                  <td>{t.hostname || <span class="muted">—</span>}</td>
                  <td>
                    <Time ms={num(t.startedAtMs) || num(t.stagedAtMs)} />
                  </td>
                  <td class="wrap">{t.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
