// Container log files in the CRI format upstream's kubelet reads: "<RFC3339Nano> <stdout|stderr> <F|P> <text>".
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { Logger } from '../../util/logger.js';
import { LogRotator, type LogRotationPolicy } from './log-rotation.js';

export type LogStream = 'stdout' | 'stderr';

export interface LogEntry {
  /** As written, RFC3339Nano, e.g. 2024-05-01T10:00:00.123456789Z */
  time: string;
  /** Milliseconds since the epoch, for --since filtering. */
  timeMs: number;
  stream: LogStream;
  /** false for a partial line (P): the next entry continues it. */
  full: boolean;
  text: string;
}

// Wall time with sub-millisecond digits: anchored once, advanced by the monotonic clock.
const anchorEpochNs = BigInt(Date.now()) * 1_000_000n;
const anchorHr = process.hrtime.bigint();

export function rfc3339Nano(epochNs: bigint = anchorEpochNs + (process.hrtime.bigint() - anchorHr)): string {
  const ms = Number(epochNs / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2024-05-01T10:00:00.123Z
  const nanos = (epochNs % 1_000_000_000n).toString().padStart(9, '0');
  return `${iso.slice(0, 19)}.${nanos}Z`;
}

export function formatEntry(time: string, stream: LogStream, full: boolean, text: string): string {
  return `${time} ${stream} ${full ? 'F' : 'P'} ${text}\n`;
}

/** Parses one line of a log file (without its newline); undefined for anything that is not a log entry. */
export function parseEntry(line: string): LogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!m) return undefined;
  const time = m[1];
  const timeMs = Date.parse(time);
  if (Number.isNaN(timeMs)) return undefined;
  return { time, timeMs, stream: m[2] as LogStream, full: m[3] === 'F', text: m[4] };
}

/** Lines longer than this are written as partial entries, as the CRI runtimes do at 16 KiB. */
const MAX_LINE = 16 * 1024;

/**
 * Appends a child's stdout/stderr to its log file, one timestamped entry per line. The file is opened for append so
 * a restarted container writing to the same path (it should not: one file per instance) loses nothing. With a
 * rotation policy the file is rotated before an entry would take it past maxSize (upstream's kubelet checks every
 * 10 s and lets a fast writer overshoot; here the writer knows its size, so the bound holds).
 */
export class LogWriter {
  private fd: number;
  private size: number;
  private readonly pending: Record<LogStream, string> = { stdout: '', stderr: '' };
  private closed = false;
  private readonly rotator: LogRotator | undefined;

  constructor(
    readonly file: string,
    /** Lines that are plumbing noise, not container output, are dropped (see container.ts). */
    private readonly drop: (line: string) => boolean = () => false,
    rotation?: { policy: LogRotationPolicy; logger?: Logger },
  ) {
    this.fd = fs.openSync(file, 'a', 0o640);
    this.size = fs.fstatSync(this.fd).size;
    if (rotation && rotation.policy.maxSize >= 0)
      this.rotator = new LogRotator(file, rotation.policy, rotation.logger);
  }

  /** Resolves once rotated files are compressed (tests). */
  idle(): Promise<void> {
    return this.rotator?.idle() ?? Promise.resolve();
  }

  attach(stream: Readable, name: LogStream): void {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.write(name, chunk));
  }

  write(stream: LogStream, chunk: string): void {
    if (this.closed) return;
    let text = this.pending[stream] + chunk;
    let out = '';
    const time = rfc3339Nano();
    for (;;) {
      const nl = text.indexOf('\n');
      if (nl < 0) break;
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      if (!this.drop(line)) out += this.encode(time, stream, line);
    }
    while (text.length > MAX_LINE) {
      out += formatEntry(time, stream, false, text.slice(0, MAX_LINE));
      text = text.slice(MAX_LINE);
    }
    this.pending[stream] = text;
    if (out) this.append(out);
  }

  /** Writes whole entries, rotating first whenever the next ones would not fit. */
  private append(out: string): void {
    const rotator = this.rotator;
    const bytes = Buffer.byteLength(out);
    if (!rotator || this.size + bytes <= rotator.policy.maxSize) {
      this.writeOut(out, bytes);
      return;
    }
    let start = 0;
    let chunkBytes = 0;
    for (let i = 0; i < out.length;) {
      const nl = out.indexOf('\n', i);
      const end = nl < 0 ? out.length : nl + 1;
      const entryBytes = Buffer.byteLength(out.slice(i, end));
      if (this.size + chunkBytes + entryBytes > rotator.policy.maxSize && this.size + chunkBytes > 0) {
        if (chunkBytes > 0) this.writeOut(out.slice(start, i), chunkBytes);
        this.rotate();
        start = i;
        chunkBytes = 0;
      }
      chunkBytes += entryBytes;
      i = end;
    }
    if (chunkBytes > 0) this.writeOut(out.slice(start), chunkBytes);
  }

  private writeOut(text: string, bytes: number): void {
    fs.writeSync(this.fd, text);
    this.size += bytes;
  }

  private rotate(): void {
    try {
      this.rotator!.rotate();
    } catch {
      // could not rename (the file vanished, say): keep writing where we are rather than lose output
      return;
    }
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a', 0o640);
    this.size = 0;
  }

  private encode(time: string, stream: LogStream, line: string): string {
    let out = '';
    while (line.length > MAX_LINE) {
      out += formatEntry(time, stream, false, line.slice(0, MAX_LINE));
      line = line.slice(MAX_LINE);
    }
    return out + formatEntry(time, stream, true, line.replace(/\r$/, ''));
  }

  /** Flushes unterminated output as a final line and closes the file. */
  close(): void {
    if (this.closed) return;
    const time = rfc3339Nano();
    let out = '';
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.pending[stream] && !this.drop(this.pending[stream]))
        out += this.encode(time, stream, this.pending[stream]);
      this.pending[stream] = '';
    }
    if (out) this.append(out);
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
