// Turns a component's pino JSON log lines into short human lines: `12:00:01 kubelet-node-1 INFO pod started`.
import { existsSync, readFileSync } from 'node:fs';

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'component', 'msg']);

/** The compact form of one line, or undefined when it is below `minLevel`. Non-JSON lines pass through. */
export function compactLogLine(name: string, line: string, minLevel = 30): string | undefined {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${name} ${line}`;
  }
  if (typeof entry !== 'object' || entry === null) return `${name} ${line}`;
  const level = typeof entry['level'] === 'number' ? entry['level'] : 30;
  if (level < minLevel) return undefined;
  const time = typeof entry['time'] === 'string' ? entry['time'].slice(11, 19) : '';
  const extras = Object.entries(entry)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => {
      const value = k === 'err' && v && typeof v === 'object' && 'message' in v ? v.message : v;
      const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
      // why a process failed is printed whole: it may end with what to do about it
      const whole = k === 'err' && level >= 50;
      return `${k}=${text.length > 80 && !whole ? `${text.slice(0, 77)}...` : text}`;
    });
  const parts = [
    time,
    name,
    LEVELS[level] ?? String(level),
    typeof entry['msg'] === 'string' ? entry['msg'] : '',
    ...extras,
  ];
  return parts.filter((p) => p !== '').join(' ');
}

/** The last `count` lines of a log file, compacted (all levels), for "why did it fail". */
export function lastLogLines(name: string, file: string, count = 20): string[] {
  if (!existsSync(file)) return [`(no log at ${file})`];
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  return lines.slice(-count).map((l) => compactLogLine(name, l, 0) ?? l);
}
