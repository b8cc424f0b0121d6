// When a CronJob fires: robfig/cron's SpecSchedule.Next over wall-clock time in the CronJob's time zone, and the
// controller's mostRecentScheduleTime / nextScheduleTime (upstream pkg/controller/cronjob/utils.go).
import type { CronJob } from 'kubernetes-types/batch/v1.js';
import { parseCronSchedule, type CronSchedule } from '../../api/validation/cron.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** wall-clock fields of an instant in a time zone, through Intl (the zone database Node carries) */
const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(instant: number, zone: string): number {
  if (zone === 'UTC') return instant;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(instant)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) + (instant % 1000);
}

/** the instant whose wall clock in `zone` reads `wall` (for a wall time skipped by DST, the hour after) */
function fromWallClock(wall: number, zone: string): number {
  if (zone === 'UTC') return wall;
  let guess = wall - (wallClock(wall, zone) - wall);
  guess = wall - (wallClock(guess, zone) - guess);
  return guess;
}

/**
 * SpecSchedule.Next: the first instant after `after` the schedule matches, at most five years on; undefined when
 * none (e.g. 30 February).
 */
export function nextAfter(schedule: CronSchedule, after: number, defaultZone = 'UTC'): number | undefined {
  if (schedule.kind === 'every') return Math.floor(after / 1000) * 1000 + schedule.everyMs;
  const zone = schedule.zone ?? defaultZone;
  const [minute, hour, dom, month, dow] = schedule.fields;
  const dayMatches = (t: Date): boolean => {
    const domMatch = dom.values.has(t.getUTCDate());
    const dowMatch = dow.values.has(t.getUTCDay());
    return dom.star || dow.star ? domMatch && dowMatch : domMatch || dowMatch;
  };
  // work on the wall clock as if it were UTC, starting at the next whole minute
  let t = new Date(Math.floor(wallClock(after, zone) / MINUTE) * MINUTE + MINUTE);
  const yearLimit = t.getUTCFullYear() + 5;
  wrap: for (;;) {
    if (t.getUTCFullYear() > yearLimit) return undefined;
    let added = false;
    while (!month.values.has(t.getUTCMonth() + 1)) {
      if (!added) {
        added = true;
        t = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1));
      }
      t = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 1));
      if (t.getUTCMonth() === 0) continue wrap;
    }
    while (!dayMatches(t)) {
      if (!added) {
        added = true;
        t = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
      }
      t = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() + 1));
      if (t.getUTCDate() === 1) continue wrap;
    }
    while (!hour.values.has(t.getUTCHours())) {
      if (!added) {
        added = true;
        t = new Date(Math.floor(t.getTime() / HOUR) * HOUR);
      }
      t = new Date(t.getTime() + HOUR);
      if (t.getUTCHours() === 0) continue wrap;
    }
    while (!minute.values.has(t.getUTCMinutes())) {
      if (!added) {
        added = true;
        t = new Date(Math.floor(t.getTime() / MINUTE) * MINUTE);
      }
      t = new Date(t.getTime() + MINUTE);
      if (t.getUTCMinutes() === 0) continue wrap;
    }
    const instant = fromWallClock(t.getTime(), zone);
    // a wall time repeated or skipped by a DST change can map to or before `after`: look further on
    if (instant <= after) {
      t = new Date(t.getTime() + MINUTE);
      continue;
    }
    return instant;
  }
}

/** formatSchedule + cron.ParseStandard: the CronJob's schedule in its timeZone */
export function cronJobSchedule(cj: CronJob): CronSchedule {
  const parsed = parseCronSchedule(cj.spec?.schedule ?? '');
  if (parsed.zone || !cj.spec?.timeZone) return parsed;
  return { ...parsed, zone: cj.spec.timeZone };
}

export interface MostRecent {
  /** the latest schedule time at or before now not yet started, if any */
  mostRecent?: number;
  /** how many schedule times were missed (upstream stops counting at 101) */
  missed: number;
}

/**
 * mostRecentScheduleTime: from the last schedule time (or creation, or now − startingDeadlineSeconds when that is
 * later) to `now`, the most recent time the schedule fired and how many were missed.
 */
export function mostRecentScheduleTime(schedule: CronSchedule, earliest: number, now: number): MostRecent {
  const t1 = nextAfter(schedule, earliest);
  if (t1 === undefined || t1 > now) return { missed: 0 };
  const t2 = nextAfter(schedule, t1);
  if (t2 === undefined || t2 > now) return { mostRecent: t1, missed: 1 };
  // the interval between two firings is not constant for every schedule, so step until now (at most 100 steps
  // before giving the count as "too many", as upstream does by estimating)
  let last = t2;
  let missed = 2;
  for (;;) {
    const next = nextAfter(schedule, last);
    if (next === undefined || next > now) break;
    last = next;
    missed++;
    if (missed > 100) {
      // jump close to now instead of walking every minute of a long outage
      const jump = nextBefore(schedule, now, last);
      return { mostRecent: jump, missed };
    }
  }
  return { mostRecent: last, missed };
}

/** the latest schedule time at or before `now`, searching back from `now` in growing windows after `floor` */
function nextBefore(schedule: CronSchedule, now: number, floor: number): number {
  for (let window = HOUR; ; window *= 4) {
    const from = Math.max(floor, now - window);
    let t = nextAfter(schedule, from - 1);
    if (t === undefined || t > now) {
      if (from === floor) return floor;
      continue;
    }
    for (let n = nextAfter(schedule, t); n !== undefined && n <= now; n = nextAfter(schedule, t)) t = n;
    return t;
  }
}

/**
 * kubemu's time compression: a CronJob whose clock runs `speed` times faster than real time from `anchor` (its
 * creation). Schedule times live on that virtual clock; status times are real.
 */
export interface ScheduleClock {
  speed: number;
  anchor: number;
}

export const toVirtual = (c: ScheduleClock, real: number): number => c.anchor + (real - c.anchor) * c.speed;

/** the real instant a virtual one falls at, rounded up to the second (status times are whole seconds) */
export const toReal = (c: ScheduleClock, virtual: number): number =>
  Math.ceil((c.anchor + (virtual - c.anchor) / c.speed) / 1000) * 1000;

/** Go's Format(time.RFC3339) of an instant in a zone: `2026-12-06T21:00:00+01:00`, `Z` for UTC */
export function wallClockRfc3339(instant: number, zone: string): string {
  const secs = Math.floor(instant / 1000) * 1000;
  const wall = wallClock(secs, zone);
  const base = new Date(wall).toISOString().slice(0, 19);
  const offsetMin = Math.round((wall - secs) / MINUTE);
  if (zone === 'UTC' || offsetMin === 0) return zone === 'UTC' ? `${base}Z` : `${base}+00:00`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${base}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
