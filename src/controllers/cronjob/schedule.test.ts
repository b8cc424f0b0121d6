import { describe, it, expect } from 'vitest';
import { parseCronSchedule } from '../../api/validation/cron.js';
import { mostRecentScheduleTime, nextAfter, toReal, toVirtual, wallClockRfc3339 } from './schedule.js';

const at = (iso: string): number => Date.parse(iso);
const next = (spec: string, from: string, zone?: string): string => {
  const t = nextAfter(parseCronSchedule(spec), at(from), zone);
  return t === undefined ? 'never' : new Date(t).toISOString();
};

describe('nextAfter (robfig/cron SpecSchedule.Next)', () => {
  it('follows standard fields and macros', () => {
    expect(next('*/15 * * * *', '2026-12-06T20:07:30Z')).toBe('2026-12-06T20:15:00.000Z');
    expect(next('@hourly', '2026-12-06T20:00:00Z')).toBe('2026-12-06T21:00:00.000Z');
    expect(next('@daily', '2026-12-06T20:00:00Z')).toBe('2026-12-07T00:00:00.000Z');
    expect(next('@weekly', '2026-12-06T20:00:00Z')).toBe('2026-12-13T00:00:00.000Z'); // a Sunday
    expect(next('@monthly', '2026-12-06T20:00:00Z')).toBe('2027-01-01T00:00:00.000Z');
    expect(next('0 9 * * mon-fri', '2026-12-05T10:00:00Z')).toBe('2026-12-07T09:00:00.000Z');
    expect(next('30 2 29 feb *', '2026-01-01T00:00:00Z')).toBe('2028-02-29T02:30:00.000Z');
    expect(next('0 0 30 2 *', '2026-01-01T00:00:00Z')).toBe('never');
    expect(next('@every 90s', '2026-12-06T20:00:00.500Z')).toBe('2026-12-06T20:01:30.000Z');
  });

  it('day of month OR day of week when both are restricted, AND when one is *', () => {
    // the 13th or any Friday
    expect(next('0 0 13 * 5', '2026-12-05T00:00:00Z')).toBe('2026-12-11T00:00:00.000Z');
    expect(next('0 0 13 * *', '2026-12-05T00:00:00Z')).toBe('2026-12-13T00:00:00.000Z');
  });

  it('reads the schedule on the wall clock of timeZone', () => {
    // 09:00 in Berlin (UTC+1 in winter, +2 in summer)
    expect(next('0 9 * * *', '2026-12-06T09:00:00Z', 'Europe/Berlin')).toBe('2026-12-07T08:00:00.000Z');
    expect(next('0 9 * * *', '2026-07-06T09:00:00Z', 'Europe/Berlin')).toBe('2026-07-07T07:00:00.000Z');
    expect(next('TZ=America/New_York 0 12 * * *', '2026-12-06T00:00:00Z')).toBe('2026-12-06T17:00:00.000Z');
    expect(wallClockRfc3339(at('2026-12-07T08:00:00Z'), 'Europe/Berlin')).toBe('2026-12-07T09:00:00+01:00');
    expect(wallClockRfc3339(at('2026-12-07T08:00:00Z'), 'UTC')).toBe('2026-12-07T08:00:00Z');
  });
});

describe('mostRecentScheduleTime', () => {
  it('gives the latest unmet time and how many were missed', () => {
    const s = parseCronSchedule('*/5 * * * *');
    expect(mostRecentScheduleTime(s, at('2026-12-06T20:00:00Z'), at('2026-12-06T20:04:00Z'))).toEqual({
      missed: 0,
    });
    expect(mostRecentScheduleTime(s, at('2026-12-06T20:00:00Z'), at('2026-12-06T20:07:00Z'))).toEqual({
      mostRecent: at('2026-12-06T20:05:00Z'),
      missed: 1,
    });
    expect(mostRecentScheduleTime(s, at('2026-12-06T20:00:00Z'), at('2026-12-06T20:31:00Z'))).toEqual({
      mostRecent: at('2026-12-06T20:30:00Z'),
      missed: 6,
    });
    const many = mostRecentScheduleTime(
      parseCronSchedule('* * * * *'),
      at('2026-12-01T00:00:00Z'),
      at('2026-12-06T20:31:30Z'),
    );
    expect(many.missed).toBeGreaterThan(100);
    expect(many.mostRecent).toBe(at('2026-12-06T20:31:00Z'));
  });
});

describe('the compressed schedule clock', () => {
  it('maps real to virtual time and back, rounding real times up to the second', () => {
    const c = { speed: 3600, anchor: at('2026-12-06T20:00:00Z') };
    expect(toVirtual(c, at('2026-12-06T20:00:01Z'))).toBe(at('2026-12-06T21:00:00Z'));
    expect(toReal(c, at('2026-12-06T21:00:00Z'))).toBe(at('2026-12-06T20:00:01Z'));
    // a virtual minute is 1/60 s: its real time rounds up, and maps back to no earlier than the schedule time
    const v = at('2026-12-06T20:01:00Z');
    expect(toVirtual(c, toReal(c, v))).toBeGreaterThanOrEqual(v);
  });
});
