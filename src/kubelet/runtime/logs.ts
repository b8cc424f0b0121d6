// Serves a container's log file the way `kubectl logs` asks: --tail, --since, --timestamps, --follow, --limit-bytes.
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { parseEntry, type LogEntry } from './log-file.js';

export interface ReadLogsOptions {
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: Date;
  timestamps?: boolean;
  limitBytes?: number;
  follow?: boolean;
  /** With follow: resolves when the container has exited; the stream then ends after the last line. */
  until?: Promise<unknown>;
  /** Ends the stream (the client went away). */
  signal?: AbortSignal;
  /** How often a follow checks the file for growth. */
  pollMs?: number;
  /** For tests: "now" for sinceSeconds. */
  now?: () => number;
}

/** A stream of the log's text, each line as the container wrote it (prefixed with its time when timestamps is set). */
export function readLogs(file: string, options: ReadLogsOptions = {}): Readable {
  const out = new Readable({ read() {} });
  const now = options.now ?? Date.now;
  const since =
    options.sinceTime?.getTime() ??
    (options.sinceSeconds !== undefined ? now() - options.sinceSeconds * 1000 : -Infinity);
  let sent = 0;
  let ended = false;
  const end = (): void => {
    if (ended) return;
    ended = true;
    out.push(null);
  };
  const emit = (entries: LogEntry[]): void => {
    for (const e of entries) {
      if (ended) return;
      if (e.timeMs < since) continue;
      let text = e.text + (e.full ? '\n' : '');
      if (options.timestamps) text = `${e.time} ${text}`;
      if (options.limitBytes !== undefined) {
        const room = options.limitBytes - sent;
        if (room <= 0) return end();
        if (Buffer.byteLength(text) > room) text = Buffer.from(text).subarray(0, room).toString('utf8');
      }
      sent += Buffer.byteLength(text);
      out.push(text);
      if (options.limitBytes !== undefined && sent >= options.limitBytes) return end();
    }
  };

  let offset = 0;
  let carry = '';
  // Reads what is new since the last call; only complete lines become entries.
  const readNew = (): LogEntry[] => {
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      return [];
    }
    if (size <= offset) return [];
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      fs.readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      const text = carry + buf.toString('utf8');
      const lines = text.split('\n');
      carry = lines.pop() ?? '';
      return lines.map(parseEntry).filter((e): e is LogEntry => e !== undefined);
    } finally {
      fs.closeSync(fd);
    }
  };

  let initial: LogEntry[];
  try {
    fs.accessSync(file);
    initial = readNew();
  } catch (err) {
    queueMicrotask(() => out.destroy(err as Error));
    return out;
  }
  if (options.tailLines !== undefined) initial = tailEntries(initial, options.tailLines);
  emit(initial);
  if (!options.follow || ended) {
    end();
    return out;
  }

  let finished = false;
  const timer = setInterval(() => {
    emit(readNew());
    if (finished) stop();
  }, options.pollMs ?? 100);
  const stop = (): void => {
    clearInterval(timer);
    end();
  };
  options.until?.then(
    () => void (finished = true),
    () => void (finished = true),
  );
  options.signal?.addEventListener('abort', stop, { once: true });
  out.on('close', () => clearInterval(timer));
  return out;
}

/** The last n lines, counting a line split into partial entries as one line. */
export function tailEntries(entries: LogEntry[], n: number): LogEntry[] {
  if (n < 0) return entries;
  let lines = 0;
  let i = entries.length;
  while (i > 0) {
    const e = entries[i - 1];
    if (e.full) {
      if (lines === n) break;
      lines++;
    }
    i--;
  }
  return entries.slice(i);
}
