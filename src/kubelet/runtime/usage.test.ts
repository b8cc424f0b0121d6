import { describe, it, expect } from 'vitest';
import { parseProcStat, processTree, UsageTracker, type ProcStat } from './usage.js';

describe('usage', () => {
  it('parses /proc/<pid>/stat even with odd command names', () => {
    const line =
      '4242 (my (weird) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 7 3 20 0 1 0 100 1000000 2560 18446744073709551615';
    expect(parseProcStat(line)).toEqual({
      pid: 4242,
      state: 'S',
      ppid: 1,
      pgrp: 4242,
      session: 4242,
      cpuTicks: 210,
      rssBytes: 2560 * 4096,
    });
  });
  it('sums a process tree, including session orphans, and never lets CPU go backwards', () => {
    const p = (pid: number, ppid: number, session: number, cpuTicks: number, rssBytes: number): ProcStat => ({
      pid,
      ppid,
      pgrp: session,
      session,
      state: 'S',
      cpuTicks,
      rssBytes,
    });
    const procs = new Map(
      [
        p(10, 1, 10, 100, 1000),
        p(11, 10, 10, 50, 500),
        p(12, 11, 10, 5, 5),
        p(13, 1, 10, 1, 1),
        p(20, 1, 20, 999, 999),
      ].map((x) => [x.pid, x]),
    );
    expect(
      processTree(10, procs)
        .map((x) => x.pid)
        .sort(),
    ).toEqual([10, 11, 12, 13]);
    const t = new UsageTracker(10);
    const first = t.sample(procs, 1000);
    expect(first).toMatchObject({
      cpuNanos: 156 * 10_000_000,
      rssBytes: 1506,
      workingSetBytes: 1506,
      cpuCores: 0,
    });
    procs.set(10, p(10, 1, 10, 150, 1000)); // +0.5 s CPU in 1 s
    procs.delete(12);
    const second = t.sample(procs, 2000);
    expect(second.cpuCores).toBeCloseTo(0.45);
    procs.delete(11);
    expect(t.sample(procs, 3000).cpuNanos).toBe(second.cpuNanos);
  });
});
