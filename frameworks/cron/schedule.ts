// Cron schedules in a time zone, with our DST rule on top of croner (pure; no timers).
//
// A schedule names wall-clock times ("02:30 every day"). croner matches the pattern; we evaluate it
// on the local wall clock (croner in UTC over "wall time as if it were UTC") and map each wall time
// to an instant ourselves, because croner *skips* times in a spring-forward gap and we do not:
//
//   wall time exists once        → that instant
//   wall time exists twice       → the first occurrence (fall-back: 01:30 runs once, at 01:30 EDT)
//   wall time does not exist     → the end of the gap (spring-forward: 02:30 runs once, at 03:00)
//
// Several wall times that map to one instant (02:00, 02:30 and 03:00 on the spring-forward day)
// are one run. See README.md.
import { Cron } from 'croner';
import { InvalidArgumentError } from '../../core/errors.js';

const NICKNAMES: Readonly<Record<string, string>> = Object.freeze({
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A validated schedule: a 5- or 6-field pattern (or a nickname) in an IANA time zone. */
export class CronSchedule {
  private readonly cron: Cron;

  private constructor(
    readonly pattern: string,
    readonly timeZone: string,
  ) {
    this.cron = new Cron(NICKNAMES[pattern.toLowerCase()] ?? pattern, { timezone: 'Etc/UTC', paused: true });
  }

  /** Validate `pattern` and `timeZone`; errors name the field (`schedule`, `timeZone`). */
  static parse(pattern: string, timeZone = 'UTC', field = 'schedule'): CronSchedule {
    const zone = validateTimeZone(timeZone);
    const text = pattern.trim().replace(/\s+/g, ' ');
    if (text.startsWith('@') && NICKNAMES[text.toLowerCase()] === undefined) {
      throw new InvalidArgumentError(field, `unknown nickname '${text}' (expected one of ${Object.keys(NICKNAMES).join(', ')})`);
    }
    const parts = text.split(' ').length;
    if (!text.startsWith('@') && parts !== 5 && parts !== 6) {
      throw new InvalidArgumentError(field, `'${text}' has ${parts} field${parts === 1 ? '' : 's'}; expected 5 (minute hour day month weekday) or 6 (with seconds first)`);
    }
    let schedule: CronSchedule;
    try {
      schedule = new CronSchedule(text, zone);
    } catch (err) {
      throw new InvalidArgumentError(field, `'${text}' is not a valid cron expression: ${(err as Error).message.replace(/^CronPattern: /, '')}`);
    }
    if (schedule.cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) throw new InvalidArgumentError(field, `'${text}' never matches a date (e.g. February 30)`);
    return schedule;
  }

  /** The first scheduled instant strictly after `afterMs`, or undefined if there is none. */
  nextAfter(afterMs: number): number | undefined {
    if (this.timeZone === 'UTC' || this.timeZone === 'Etc/UTC') return this.cron.nextRun(new Date(afterMs))?.getTime() ?? undefined;
    // Wall times up to one offset change before the wall time of `afterMs` may map after it.
    const shift = Math.abs(offsetAt(afterMs + DAY, this.timeZone) - offsetAt(afterMs - DAY, this.timeZone));
    let wall = afterMs + offsetAt(afterMs, this.timeZone) - shift - 1000;
    for (;;) {
      const next = this.cron.nextRun(new Date(wall));
      if (next === null) return undefined;
      wall = next.getTime();
      const instant = wallToInstant(wall, this.timeZone);
      if (instant > afterMs) return instant;
    }
  }

  /** The scheduled instants in (afterMs, untilMs], oldest first, at most `limit` of them. */
  between(afterMs: number, untilMs: number, limit = 1000): number[] {
    const out: number[] = [];
    for (let t = this.nextAfter(afterMs); t !== undefined && t <= untilMs && out.length < limit; t = this.nextAfter(t)) out.push(t);
    return out;
  }

  /** The latest scheduled instant in (afterMs, untilMs], found without walking a long outage. */
  latestIn(afterMs: number, untilMs: number): number | undefined {
    for (const window of [60_000, HOUR, DAY, 32 * DAY, 367 * DAY, Infinity]) {
      const from = Math.max(afterMs, untilMs - window);
      let found = this.nextAfter(from);
      if (found === undefined || found > untilMs) {
        if (from === afterMs) return undefined;
        continue;
      }
      for (let next = this.nextAfter(found); next !== undefined && next <= untilMs; next = this.nextAfter(found)) found = next;
      return found;
    }
    return undefined;
  }
}

/** An IANA time zone name ('' = UTC), or an InvalidArgumentError naming `field`. */
export function validateTimeZone(value: string, field = 'timeZone'): string {
  const zone = value === '' ? 'UTC' : value;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new InvalidArgumentError(field, `unknown time zone '${value}' (expected an IANA name such as UTC, Europe/Berlin or America/New_York)`);
  }
  return zone;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at `instant`, in ms (wall = instant + offset). */
export function offsetAt(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instant))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const wall = Date.UTC(parts['year'] ?? 1970, (parts['month'] ?? 1) - 1, parts['day'] ?? 1, parts['hour'] ?? 0, parts['minute'] ?? 0, parts['second'] ?? 0);
  return wall - (instant - (((instant % 1000) + 1000) % 1000));
}

/** A wall time (as UTC ms) → its first instant; a wall time in a gap → the end of the gap. */
export function wallToInstant(wall: number, timeZone: string): number {
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const matches = [wall - before, wall - after].filter((t) => t + offsetAt(t, timeZone) === wall);
  if (matches.length > 0) return Math.min(...matches);
  // In the gap: the clocks jumped between wall − after and wall − before; find the jump (to the second).
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === before) lo = mid;
    else hi = mid;
  }
  return hi;
}
