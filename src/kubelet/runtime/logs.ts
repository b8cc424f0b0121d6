// Serves a container's log file the way `kubectl logs` asks: --tail, --since, --timestamps, --follow, --limit-bytes.
// As upstream's kuberuntime/logs.ReadLogs: only the current file is read (not the rotated ones), --tail is found by
// reading backwards from the end, and --follow goes on in the new file after a rotation. Every read is a block of
// the file at a time, asynchronous, and paced by the consumer, so a 10 MiB log neither stalls nor bloats the kubelet.
import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
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

/** how much of the file one read takes */
const BLOCK = 64 * 1024;
const NEWLINE = 0x0a;

/** A stream of the log's text, each line as the container wrote it (prefixed with its time when timestamps is set). */
export function readLogs(file: string, options: ReadLogsOptions = {}): Readable {
  return Readable.from(logText(file, options), { objectMode: false, encoding: 'utf8' });
}

async function* logText(file: string, options: ReadLogsOptions): AsyncGenerator<string> {
  const now = options.now ?? Date.now;
  const since =
    options.sinceTime?.getTime() ??
    (options.sinceSeconds !== undefined ? now() - options.sinceSeconds * 1000 : -Infinity);
  let sent = 0;
  let limitReached = false;
  const format = (entries: LogEntry[]): string => {
    let out = '';
    for (const e of entries) {
      if (e.timeMs < since) continue;
      let text = e.text + (e.full ? '\n' : '');
      if (options.timestamps) text = `${e.time} ${text}`;
      if (options.limitBytes !== undefined) {
        const room = options.limitBytes - sent;
        if (Buffer.byteLength(text) >= room) {
          out += Buffer.from(text).subarray(0, room).toString('utf8');
          limitReached = true;
          return out;
        }
      }
      sent += Buffer.byteLength(text);
      out += text;
    }
    return out;
  };
  if (options.limitBytes !== undefined && options.limitBytes <= 0) return;

  let finished = false;
  options.until?.then(
    () => void (finished = true),
    () => void (finished = true),
  );
  let fh = await fs.promises.open(file, 'r');
  /** the file now at `file`, once the one we read was rotated away */
  let successor: FileHandle | undefined;
  try {
    let offset =
      options.tailLines !== undefined && options.tailLines >= 0 ? await tailStart(fh, options.tailLines) : 0;
    for (;;) {
      if (options.signal?.aborted) return;
      // a container that has exited wrote its last line before `until` resolved: one more pass reads it
      const wasFinished = finished;
      const { entries, next } = await readLines(fh, offset);
      if (next > offset) {
        offset = next;
        const text = format(entries);
        if (text) yield text;
        if (limitReached) return;
        continue;
      }
      // at the end of the file
      if (!options.follow) return;
      if (successor) {
        await fh.close();
        fh = successor;
        successor = undefined;
        offset = 0;
        continue;
      }
      successor = await rotatedTo(file, fh);
      // the writer renamed this file and will not write to it again: read it to its end once more, then move on
      if (successor) continue;
      if (wasFinished) return;
      await pause(options.pollMs ?? 100, options.signal);
    }
  } finally {
    await fh.close();
    await successor?.close();
  }
}

/** The file now named `file` when it is not the one open as `fh` (rotated), else undefined. */
async function rotatedTo(file: string, fh: FileHandle): Promise<FileHandle | undefined> {
  let current: fs.Stats;
  try {
    current = await fs.promises.stat(file);
  } catch {
    return undefined; // renamed, its successor not made yet
  }
  const open = await fh.stat();
  if (current.ino === open.ino && current.dev === open.dev) return undefined;
  try {
    return await fs.promises.open(file, 'r');
  } catch {
    return undefined;
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The complete lines from `at` on (a block's worth), parsed; `next` is where the first unread line starts. */
async function readLines(fh: FileHandle, at: number): Promise<{ entries: LogEntry[]; next: number }> {
  for (let size = BLOCK; ; size *= 2) {
    const buf = Buffer.allocUnsafe(size);
    const { bytesRead } = await fh.read(buf, 0, size, at);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl >= 0) {
      const entries: LogEntry[] = [];
      for (const line of buf.toString('utf8', 0, nl).split('\n')) {
        const e = parseEntry(line);
        if (e) entries.push(e);
      }
      return { entries, next: at + nl + 1 };
    }
    // no newline yet: the line is still being written, or longer than a block (then read a bigger one)
    if (bytesRead < size) return { entries: [], next: at };
  }
}

/**
 * Where the last `n` lines start, read backwards from the end a block at a time (upstream's
 * tail.FindTailLineStartIndex); a line split into partial entries counts once, an unterminated last line not at all.
 */
export async function tailStart(fh: FileHandle, n: number): Promise<number> {
  const { size } = await fh.stat();
  let full = 0;
  // whether this line is the full entry just before the last n: the tail starts after it
  const endsBeforeTail = (line: Buffer): boolean => {
    if (!parseEntry(line.toString('utf8'))?.full) return false;
    if (full === n) return true;
    full++;
    return false;
  };
  let pos = size;
  /** the offset of the newline ending the line being put together; -1 until the file's last newline is found */
  let lineEnd = -1;
  /** the bytes [pos, lineEnd) read so far of that line */
  let pending = Buffer.alloc(0);
  while (pos > 0) {
    const len = Math.min(BLOCK, pos);
    const block = Buffer.allocUnsafe(len);
    const { bytesRead } = await fh.read(block, 0, len, pos - len);
    if (bytesRead < len) return 0; // truncated meanwhile: start from the top
    pos -= len;
    const data = pending.length ? Buffer.concat([block, pending]) : block;
    let end = data.length;
    let j = data.lastIndexOf(NEWLINE, end - 1);
    while (j >= 0) {
      if (lineEnd >= 0 && endsBeforeTail(data.subarray(j + 1, end))) return lineEnd + 1;
      lineEnd = pos + j;
      end = j;
      j = j > 0 ? data.lastIndexOf(NEWLINE, j - 1) : -1;
    }
    pending = Buffer.from(data.subarray(0, end));
  }
  if (lineEnd >= 0 && endsBeforeTail(pending)) return lineEnd + 1;
  return 0;
}
