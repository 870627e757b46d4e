// Schedules: 5- and 6-field patterns, nicknames, and the DST rule (a local time in the
// spring-forward gap runs once at the end of the gap; a repeated local time runs once, first).
import { describe, expect, it } from 'vitest';
import { CronSchedule, wallToInstant } from '../../frameworks/cron/schedule.js';

const iso = (t: number | undefined): string => new Date(t!).toISOString();

function runs(pattern: string, tz: string, from: string, until: string): string[] {
  return CronSchedule.parse(pattern, tz).between(Date.parse(from), Date.parse(until)).map(iso);
}

describe('next times', () => {
  it('5-field patterns run on the minute', () => {
    expect(runs('*/20 * * * *', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z')).toEqual([
      '2026-01-01T00:20:00.000Z', '2026-01-01T00:40:00.000Z', '2026-01-01T01:00:00.000Z',
    ]);
  });

  it('6-field patterns have seconds first', () => {
    expect(runs('*/15 0 0 * * *', 'UTC', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')).toEqual([
      '2026-01-01T00:00:15.000Z', '2026-01-01T00:00:30.000Z', '2026-01-01T00:00:45.000Z',
    ]);
  });

  it.each([
    ['@hourly', '2026-01-01T01:00:00.000Z'],
    ['@daily', '2026-01-02T00:00:00.000Z'],
    ['@midnight', '2026-01-02T00:00:00.000Z'],
    ['@weekly', '2026-01-04T00:00:00.000Z'], // the next Sunday
    ['@monthly', '2026-02-01T00:00:00.000Z'],
    ['@yearly', '2027-01-01T00:00:00.000Z'],
    ['@annually', '2027-01-01T00:00:00.000Z'],
  ])('%s', (pattern, next) => {
    expect(iso(CronSchedule.parse(pattern).nextAfter(Date.parse('2026-01-01T00:00:00Z')))).toBe(next);
  });

  it('runs on local time in a time zone', () => {
    expect(iso(CronSchedule.parse('0 9 * * *', 'America/New_York').nextAfter(Date.parse('2026-01-01T00:00:00Z')))).toBe('2026-01-01T14:00:00.000Z');
    expect(iso(CronSchedule.parse('0 9 * * *', 'Europe/Berlin').nextAfter(Date.parse('2026-07-01T00:00:00Z')))).toBe('2026-07-01T07:00:00.000Z');
  });

  it('finds the latest time in a long window without walking it', () => {
    const s = CronSchedule.parse('* * * * * *');
    expect(iso(s.latestIn(Date.parse('2020-01-01T00:00:00Z'), Date.parse('2026-01-01T12:34:56.500Z')))).toBe('2026-01-01T12:34:56.000Z');
    expect(s.latestIn(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:00.900Z'))).toBeUndefined();
  });
});

describe('DST', () => {
  it('America/New_York spring forward: 02:30 runs once, at 03:00 EDT', () => {
    expect(runs('30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:00:00.000Z', // 02:30 does not exist → 03:00 EDT
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
  });

  it('America/New_York fall back: 01:30 runs once, at the first 01:30 (EDT)', () => {
    expect(runs('30 1 * * *', 'America/New_York', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z', // 01:30 EDT; 01:30 EST (06:30Z) does not run
      '2026-11-02T06:30:00.000Z',
    ]);
  });

  it('Europe/Berlin spring forward: times in the gap run once at 03:00 CEST', () => {
    expect(runs('*/30 2 * * *', 'Europe/Berlin', '2026-03-28T00:00:00Z', '2026-03-29T12:00:00Z')).toEqual([
      '2026-03-28T01:00:00.000Z', '2026-03-28T01:30:00.000Z', // 02:00 and 02:30 CET
      '2026-03-29T01:00:00.000Z', // 02:00 and 02:30 do not exist → one run at 03:00 CEST
    ]);
    // A run at 03:00 as well is the same run.
    expect(runs('0,30 2,3 * * *', 'Europe/Berlin', '2026-03-29T00:00:00Z', '2026-03-29T02:00:00Z')).toEqual([
      '2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z',
    ]);
  });

  it('Europe/Berlin fall back: 02:30 runs once, at 02:30 CEST', () => {
    expect(runs('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) does not run
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('nextAfter from inside the repeated hour does not run the second pass', () => {
    const s = CronSchedule.parse('30 1 * * *', 'America/New_York');
    expect(iso(s.nextAfter(Date.parse('2026-11-01T06:00:00Z')))).toBe('2026-11-02T06:30:00.000Z'); // 01:00 EST
  });

  it('maps wall times to instants', () => {
    expect(iso(wallToInstant(Date.UTC(2026, 2, 8, 2, 30), 'America/New_York'))).toBe('2026-03-08T07:00:00.000Z');
    expect(iso(wallToInstant(Date.UTC(2026, 10, 1, 1, 30), 'America/New_York'))).toBe('2026-11-01T05:30:00.000Z');
    expect(iso(wallToInstant(Date.UTC(2026, 0, 1, 12, 0), 'UTC'))).toBe('2026-01-01T12:00:00.000Z');
  });
});
