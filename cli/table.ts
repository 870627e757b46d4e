// Aligned tables as kubectl prints them: upper-case headers, columns separated by three spaces,
// no borders; plus the small formatters the tables share (ages, sizes, percentages).
export type Cell = string | number | boolean | null | undefined;

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => headers.map((_, i) => cell(r[i])))];
  const widths = headers.map((_, i) => Math.max(...text.map((r) => (r[i] ?? '').length)));
  return text.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ').trimEnd()).join('\n') + '\n';
}

function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '<none>';
  return String(value);
}

/** Time since `ms` (epoch milliseconds) as kubectl shows it: 45s, 3m12s, 5h, 2d. */
export function age(ms: number | undefined, now = Date.now()): string {
  if (!ms) return '<unknown>';
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** MiB → 512Mi / 1.5Gi. */
export function mebibytes(mib: number): string {
  if (mib >= 1024) return `${trim(mib / 1024)}Gi`;
  return `${trim(mib)}Mi`;
}

export function trim(n: number, digits = 2): string {
  return String(Number(n.toFixed(digits)));
}

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : '-';
}

/** `TASK_RUNNING` → `Running`, `DEPLOYMENT_IN_PROGRESS` → `InProgress`. */
export function pretty(value: string | number | undefined | null, prefix: string): string {
  if (value === undefined || value === null || value === '') return '';
  const enumName = String(value);
  const rest = enumName.startsWith(prefix) ? enumName.slice(prefix.length) : enumName;
  return rest
    .toLowerCase()
    .split('_')
    .map((w) => (w ? w[0]!.toUpperCase() + w.slice(1) : w))
    .join('');
}
