// A time relative and absolute, like ui.tsx's Time, but without a timer of its own: for rows of a
// long table, which share one clock (useNow) instead of one interval each. For past times only: a
// time a little after the shared clock's last tick reads "0s ago", not "in 3s".
import { useEffect, useState } from 'preact/hooks';
import { relative } from './ui.js';

export function When({ ms, now }: { ms: number | undefined; now: number }) {
  if (!ms) return <span class="muted">—</span>;
  const date = new Date(ms);
  return (
    <time dateTime={date.toISOString()} title={date.toLocaleString()}>
      {relative(ms, Math.max(now, ms))}
    </time>
  );
}

/** The time now, renewed every `everyMs`: one timer for a whole table. */
export function useNow(everyMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}
