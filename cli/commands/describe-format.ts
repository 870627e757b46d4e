// The layout `agora describe` prints for every kind: aligned `Key: value` lines, then indented
// tables under a title, and one task's resources on a line.
import { mebibytes, table, trim, type Cell } from '../table.js';

const n = (v: unknown): number => Number(v ?? 0);

/** `Key:   value` lines, the values aligned; an empty value reads `<none>`. */
export function fields(lines: readonly (readonly [string, Cell])[]): string {
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  return lines.map(([k, v]) => `${`${k}:`.padEnd(width)}${v === undefined || v === null || v === '' ? '<none>' : String(v)}`).join('\n') + '\n';
}

/** `Title:` and an indented table, or `Title: <none>`. */
export function section(title: string, headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return `${title}: <none>\n`;
  return `${title}:\n${table(headers, rows)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
}

type Amount = number | string | null | undefined;

/** `cpus 1, mem 128 MiB` (the amounts asked for; none is ''). */
export function resourcesLine(r: { cpus?: Amount; mem?: Amount; disk?: Amount; gpus?: Amount } | null | undefined): string {
  if (!r) return '';
  return [r.cpus ? `cpus ${trim(n(r.cpus))}` : '', r.mem ? `mem ${mebibytes(n(r.mem))}` : '', r.disk ? `disk ${mebibytes(n(r.disk))}` : '', r.gpus ? `gpus ${String(r.gpus)}` : '']
    .filter(Boolean)
    .join(', ');
}
