// CPU and memory of a container's whole process tree, read from /proc (for kubectl top, the HPA and memory limits).
import fs from 'node:fs';

export interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  session: number;
  state: string;
  /** utime+stime+cutime+cstime, in clock ticks: own CPU plus that of reaped children. */
  cpuTicks: number;
  rssBytes: number;
}

export interface ContainerUsage {
  /** Cumulative CPU time of the tree, nanoseconds (monotonic per container). */
  cpuNanos: number;
  /** CPU cores used between the last two samples, e.g. 0.25 = 250m. */
  cpuCores: number;
  rssBytes: number;
  /** No cgroup here, so the working set is the resident set. */
  workingSetBytes: number;
  pids: number[];
  timestamp: number;
}

// Linux reports times in USER_HZ, 100 on every architecture Node runs on.
const TICK_NS = 10_000_000;
const PAGE_SIZE = 4096;

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string, pageSize = PAGE_SIZE): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // f[0] is field 3 (state) of proc(5).
  const num = (field: number): number => Number(f[field - 3]);
  return {
    pid,
    state: f[0] ?? '?',
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    cpuTicks: num(14) + num(15) + num(16) + num(17),
    rssBytes: num(24) * pageSize,
  };
}

/** Reads every live process once (zombies carry no memory and are skipped). */
export function readAllProcs(procDir = '/proc'): Map<number, ProcStat> {
  const pids: number[] = [];
  for (const name of fs.readdirSync(procDir)) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    pids.push(Number(name));
  }
  return readProcs(pids, procDir);
}

/** Reads the given processes (those gone or zombies are left out): a refresh of trees already known. */
export function readProcs(pids: Iterable<number>, procDir = '/proc'): Map<number, ProcStat> {
  const procs = new Map<number, ProcStat>();
  for (const pid of pids) {
    let text: string;
    try {
      text = fs.readFileSync(`${procDir}/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    const stat = parseProcStat(text);
    if (stat && stat.state !== 'Z' && stat.state !== 'X') procs.set(stat.pid, stat);
  }
  return procs;
}

/** The processes of a container: its root's descendants, plus anything left in its session (orphans reparented away). */
export function processTree(rootPid: number, procs: Map<number, ProcStat>): ProcStat[] {
  const children = new Map<number, number[]>();
  for (const p of procs.values()) {
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const seen = new Set<number>();
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid) || !procs.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  for (const p of procs.values()) if (p.session === rootPid) seen.add(p.pid);
  return [...seen].map((pid) => procs.get(pid)!);
}

/** Keeps per-container running totals so CPU time never goes backwards when a process in the tree exits. */
export class UsageTracker {
  private lastCpuNanos = 0;
  private last: ContainerUsage | undefined;

  constructor(readonly rootPid: number) {}

  sample(procs: Map<number, ProcStat>, now = Date.now()): ContainerUsage {
    const tree = processTree(this.rootPid, procs);
    const cpuNanos = Math.max(
      this.lastCpuNanos,
      tree.reduce((sum, p) => sum + p.cpuTicks * TICK_NS, 0),
    );
    const rssBytes = tree.reduce((sum, p) => sum + p.rssBytes, 0);
    const elapsedNs = this.last ? (now - this.last.timestamp) * 1e6 : 0;
    const cpuCores = this.last && elapsedNs > 0 ? (cpuNanos - this.last.cpuNanos) / elapsedNs : 0;
    this.lastCpuNanos = cpuNanos;
    this.last = {
      cpuNanos,
      cpuCores,
      rssBytes,
      workingSetBytes: rssBytes,
      pids: tree.map((p) => p.pid),
      timestamp: now,
    };
    return this.last;
  }

  get latest(): ContainerUsage | undefined {
    return this.last;
  }
}
