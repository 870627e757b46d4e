// Pieces the workload pages share: a link to a task's page (which needs the id of the framework that
// runs it — the built-in ones are found by name in the master's frameworks list), a workload's page
// heading, and a list's empty / error / loading states.
import type { ComponentChildren } from 'preact';
import { getJson, type Session } from '../api.js';
import { useLive, type Live } from '../live.js';
import { href } from '../router.js';
import { frameworkIds } from '../pages/workload-model.js';
import { ErrorBox, Loading } from './ui.js';

export const SERVICES_FRAMEWORK = 'agora-services';
export const CRON_FRAMEWORK = 'agora-cron';
export const BATCH_FRAMEWORK = 'agora-batch';

/** The id of the framework named `name`, or undefined while loading or when the caller may not see it. */
export function useFrameworkId(name: string): string | undefined {
  const live = useLive(async (signal) => {
    known = frameworkIds((await getJson<{ frameworks?: { id?: string; name?: string }[] }>('/api/v1/frameworks', signal)).frameworks ?? []);
    return known;
  }, ['frameworks']);
  return (live.data ?? known)[name];
}

/** The ids last seen, so the next page links its tasks at once. */
let known: Record<string, string> = {};

/** A task id linking to its page (plain text until the framework's id is known). */
export function TaskLink({ frameworkId, taskId }: { frameworkId: string | undefined; taskId: string | undefined }) {
  if (!taskId) return <span class="muted">—</span>;
  if (!frameworkId) return <span class="mono">{taskId}</span>;
  return (
    <a class="mono" href={href(['tasks', frameworkId, taskId])}>
      {taskId}
    </a>
  );
}

export function WorkloadHead({ kind, list, name, children }: { kind: string; list: string; name: string; children?: ComponentChildren }) {
  return (
    <div class="page-head">
      <a href={href([list])} class="muted">
        {kind}
      </a>
      <h1>{name}</h1>
      {children}
    </div>
  );
}

/** A live load's error, or "Loading…" before the first answer; null once there is data. */
export function LoadState<T>({ live, what }: { live: Live<T>; what: string }) {
  if (live.data !== undefined) return live.error ? <ErrorBox error={live.error} /> : null;
  if (live.error) return <ErrorBox error={live.error} />;
  return <Loading what={what} />;
}

/**
 * A list page of one kind: its heading with the count, the load's state, "none yet" with how to
 * make one, else a table with these column headings and rows.
 */
export function WorkloadList<T>({ title, noun, live, count, file, head, children }: { title: string; noun: string; live: Live<T>; count: number; file: string; head: ComponentChildren; children: ComponentChildren }) {
  return (
    <>
      <div class="page-head">
        <h1>{title}</h1>
        <span class="muted">{live.data ? `${count} ${noun}${count === 1 ? '' : 's'}` : ''}</span>
      </div>
      <LoadState live={live} what={`${noun}s`} />
      {live.data && count === 0 ? (
        <p class="muted">
          No {noun}s yet. Create one with <code>agora apply -f {file}</code>.
        </p>
      ) : null}
      {count > 0 ? (
        <div class="card table-wrap">
          <table class="workloads">
            <thead>
              <tr>{head}</tr>
            </thead>
            <tbody>{children}</tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

/** Ports as "http=31002, 31003". */
export function portsText(ports: readonly { name?: string; number?: number }[] | undefined): string {
  return (ports ?? []).map((p) => (p.name ? `${p.name}=${String(p.number ?? '')}` : String(p.number ?? ''))).join(', ');
}

/** A yes / no / unknown cell. */
export function Flag({ value }: { value: boolean | undefined }) {
  if (value === undefined || value === null) return <span class="muted">—</span>;
  return <span class={value ? 'flag yes' : 'flag no'}>{value ? 'yes' : 'no'}</span>;
}

/** Whether the signed-in principal may change workloads at all (the API still decides per kind). */
export function mayWrite(who: Session): boolean {
  return who.insecure || who.permissions.includes('jobs.write');
}

export function ReadOnlyNote({ who }: { who: Session }) {
  return mayWrite(who) ? null : <span class="muted small">Read-only: {who.principal} does not hold jobs.write.</span>;
}
