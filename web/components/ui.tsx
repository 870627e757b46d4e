// The small shared pieces every page uses: times (relative and absolute), errors as the API gave
// them, confirmation before harm, badges for states, bars for allocated / used.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';

/** "3m ago" with the absolute time on hover; re-rendered every 10 s. */
export function Time({ ms }: { ms: number | undefined }) {
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 10_000);
    return () => clearInterval(t);
  }, []);
  if (!ms) return <span class="muted">—</span>;
  const date = new Date(ms);
  return (
    <time dateTime={date.toISOString()} title={date.toLocaleString()}>
      {relative(ms)}
    </time>
  );
}

export function relative(ms: number, now = Date.now()): string {
  const d = Math.round((now - ms) / 1000);
  const abs = Math.abs(d);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.floor(abs / 60)}m` : abs < 86_400 ? `${Math.floor(abs / 3600)}h` : `${Math.floor(abs / 86_400)}d`;
  return d >= 0 ? `${text} ago` : `in ${text}`;
}

/** The API's error: its code and message, and the field it names. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div class="error" role="alert">
      {e ? <strong>{e.code}</strong> : null} {(error as Error).message}
      {e?.field ? <span class="muted"> (field: {e.field})</span> : null}
    </div>
  );
}

const STATE_CLASS: Record<string, string> = {
  TASK_RUNNING: 'ok',
  TASK_FINISHED: 'done',
  TASK_STAGING: 'wait',
  TASK_STARTING: 'wait',
  TASK_KILLING: 'wait',
  TASK_FAILED: 'bad',
  TASK_ERROR: 'bad',
  TASK_LOST: 'bad',
  TASK_KILLED: 'done',
  TASK_UNREACHABLE: 'warn',
  TASK_GONE: 'bad',
  TASK_DROPPED: 'bad',
};

export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${STATE_CLASS[state] ?? ''}`}>{state.replace(/^TASK_/, '').toLowerCase()}</span>;
}

export function Badge({ kind = '', children }: { kind?: string; children: ComponentChildren }) {
  return <span class={`badge ${kind}`}>{children}</span>;
}

/** A bar: `used` inside `allocated` inside `total`. */
export function UsageBar({ total, allocated, used, unit = '' }: { total: number; allocated: number; used?: number; unit?: string }) {
  const pct = (v: number): string => `${total > 0 ? Math.min(100, (v / total) * 100) : 0}%`;
  const title = `${fmt(allocated)}${unit} allocated${used === undefined ? '' : `, ${fmt(used)}${unit} used`} of ${fmt(total)}${unit}`;
  return (
    <div class="bar" title={title} role="meter" aria-valuemin={0} aria-valuemax={total} aria-valuenow={allocated}>
      <div class="bar-alloc" style={{ width: pct(allocated) }} />
      {used === undefined ? null : <div class="bar-used" style={{ width: pct(used) }} />}
    </div>
  );
}

export function fmt(n: number, digits = 2): string {
  if (!Number.isFinite(n)) return '—';
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

/** MiB as the people reading it say it. */
export function mib(n: number): string {
  return n >= 1024 ? `${fmt(n / 1024, 1)} GiB` : `${fmt(n, 0)} MiB`;
}

/** What an action asks before it runs (the action itself is the button's `run`). */
export interface ConfirmRequest {
  readonly title: string;
  readonly body?: ComponentChildren;
  readonly confirm: string;
  /** Harmful actions are red. */
  readonly danger?: boolean;
}

/**
 * An action button that asks first (when `ask` is given) and shows the API's error if the call
 * fails. The dialog is a real <dialog>: Escape cancels.
 */
export function ActionButton({ label, ask, run, testId, disabled, onDone }: { label: string; ask?: ConfirmRequest; run: () => Promise<unknown>; testId?: string; disabled?: boolean; onDone?: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const go = async (): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      await run();
      setAsking(false);
      onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span class="action">
      <button type="button" class={ask?.danger ? 'danger' : ''} data-testid={testId} disabled={busy || disabled} onClick={() => (ask ? setAsking(true) : void go())}>
        {label}
      </button>
      {asking && ask ? (
        <div class="modal-backdrop" onClick={(e) => e.target === e.currentTarget && setAsking(false)}>
          <div class="modal" role="dialog" aria-modal="true" aria-label={ask.title} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}>
            <h3>{ask.title}</h3>
            {ask.body ? <div class="modal-body">{ask.body}</div> : null}
            <ErrorBox error={error} />
            <div class="modal-actions">
              <button type="button" onClick={() => setAsking(false)}>
                Cancel
              </button>
              <button type="button" class={ask.danger ? 'danger' : 'primary'} data-testid="confirm" disabled={busy} onClick={() => void go()}>
                {ask.confirm}
              </button>
            </div>
          </div>
        </div>
      ) : (
        <ErrorBox error={error} />
      )}
    </span>
  );
}

export function Section({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="card">
      <header class="card-head">
        <h2>{title}</h2>
        {actions ? <div class="card-actions">{actions}</div> : null}
      </header>
      {children}
    </section>
  );
}

/**
 * A section's table: its column headings and rows — or, when `empty` is given and there are no
 * rows, that text instead of an empty table.
 */
export function Table({ head, rows, empty, testId }: { head: ComponentChildren; rows: readonly ComponentChildren[]; empty?: ComponentChildren; testId?: string }) {
  if (rows.length === 0 && empty !== undefined) return <p class="muted">{empty}</p>;
  return (
    <div class="table-wrap" data-testid={testId}>
      <table>
        <thead>
          <tr>{head}</tr>
        </thead>
        <tbody>{rows}</tbody>
      </table>
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p class="muted">Loading {what}…</p>;
}
