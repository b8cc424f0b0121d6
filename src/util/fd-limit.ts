// This process's open-file limit (RLIMIT_NOFILE), which Node has no API for: read from /proc/self/limits.
import { readFileSync } from 'node:fs';

/** the soft limit on open files, or undefined when unknown or unlimited */
export function openFileLimit(limitsFile = '/proc/self/limits'): number | undefined {
  try {
    const line = readFileSync(limitsFile, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    return soft && /^\d+$/.test(soft) ? Number(soft) : undefined;
  } catch {
    return undefined;
  }
}
