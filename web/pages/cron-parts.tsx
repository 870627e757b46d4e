// The sections of a cron job's page: its actions, its schedule with the next run, and its runs.
import { deleteJson, pathOf, postJson, type Session } from '../api.js';
import { navigate } from '../router.js';
import { ActionButton, Badge, Section, Table, Time } from '../components/ui.js';
import { mayWrite, ReadOnlyNote, TaskLink } from '../components/workload-ui.js';
import { nextRunText, num, type RunRow, type Workload } from './workload-model.js';

const viewerZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

export function CronActions({ w, who, onDone }: { w: Workload; who: Session; onDone: () => void }) {
  const ro = !mayWrite(who);
  const name = String(w.name ?? '');
  const spec = w.cronjob ?? {};
  const base = pathOf('/api/v1/cronjobs', name);
  return (
    <div class="card actions-bar">
      <ActionButton label="Run now" testId="run-now" disabled={ro} run={() => postJson(`${base}/trigger`)} onDone={onDone} />
      {spec.suspend ? (
        <ActionButton label="Resume" testId="resume" disabled={ro} run={() => postJson(`${base}/resume`)} onDone={onDone} />
      ) : (
        <ActionButton label="Suspend" testId="suspend" disabled={ro} ask={{ title: `Suspend ${name}?`, body: <p>No scheduled run starts and failed runs are not retried until it is resumed; runs already going carry on.</p>, confirm: 'Suspend', danger: true }} run={() => postJson(`${base}/suspend`, { suspend: true })} onDone={onDone} />
      )}
      <ReadOnlyNote who={who} />
      <ActionButton label="Delete" testId="delete" disabled={ro} ask={{ title: `Delete ${name}?`, body: <p>The cron job and its history go; runs still going are killed.</p>, confirm: 'Delete', danger: true }} run={() => deleteJson(base)} onDone={() => navigate(['cronjobs'])} />
    </div>
  );
}

export function Schedule({ w }: { w: Workload }) {
  const spec = w.cronjob ?? {};
  const s = w.cronjobStatus;
  return (
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
  );
}

export function Runs({ rows, frameworkId }: { rows: readonly RunRow[]; frameworkId: string | undefined }) {
  return (
    <Section title="Runs">
      <Table
        empty="No runs yet."
        head={
          <>
            <th>Outcome</th>
            <th>Started</th>
            <th>Ended</th>
            <th>Took</th>
            <th>Tasks</th>
            <th>Detail</th>
          </>
        }
        rows={rows.map((r) => (
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
      />
    </Section>
  );
}
