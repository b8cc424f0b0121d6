// Facts about OS processes from /proc: alive, whose (by command line), descendants, memory; and killing by PID.
import { readFileSync, readdirSync } from 'node:fs';

/** Whether `pid` exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  // 0 and negative numbers are not processes: kill(0) and kill(-1) signal whole groups (pm2 reports 0 when stopped)
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the state follows the parenthesised command name, which may itself hold spaces or parens
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** The process's argv joined by spaces, or '' when it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Alive and its command line mentions `marker` (the state dir): guards against a recycled PID. */
export const isOurs = (pid: number, marker: string): boolean =>
  isAlive(pid) && commandLine(pid).includes(marker);

/** The direct children of `pid` (of every thread). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  if (!(pid > 1)) return out;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const task of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    } catch {
      // the thread ended while we looked
    }
  }
  return out;
}

/** Every descendant of `pid` (children, grandchildren, ...). */
export function descendants(pid: number): number[] {
  const out: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (out.includes(next)) continue;
    out.push(next);
    queue.push(...childrenOf(next));
  }
  return out;
}

/** Resident memory now and at its peak (VmRSS, VmHWM), in bytes; NaN when unreadable. */
export function memoryOf(pid: number): { rss: number; peakRss: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => {
      const m = status.match(new RegExp(`${field}:\\s+(\\d+) kB`));
      return m ? Number(m[1]) * 1024 : NaN;
    };
    return { rss: kb('VmRSS'), peakRss: kb('VmHWM') };
  } catch {
    return { rss: NaN, peakRss: NaN };
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  if (!(pid > 1)) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * SIGTERM each PID, wait up to `graceMs` for them to go, then SIGKILL the rest and wait again.
 * Returns the PIDs still alive at the end (empty when all are gone).
 */
export async function terminate(pids: readonly number[], graceMs = 5_000): Promise<number[]> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const waitGone = async (ms: number): Promise<number[]> => {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = pids.filter(isAlive);
      if (left.length === 0 || Date.now() > deadline) return left;
      await sleep(25);
    }
  };
  const left = await waitGone(graceMs);
  for (const pid of left) signal(pid, 'SIGKILL');
  return left.length === 0 ? [] : waitGone(2_000);
}
