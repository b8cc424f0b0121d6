import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, describe, it, expect } from 'vitest';
import { formatEntry, LogWriter, parseEntry, rfc3339Nano } from './log-file.js';
import type { FileHandle } from 'node:fs/promises';
import { readLogs, tailStart } from './logs.js';

const dirs: string[] = [];
const tmpFile = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-log-'));
  dirs.push(dir);
  return path.join(dir, 'c.log');
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('log file format', () => {
  it('writes RFC3339Nano CRI entries per line, splitting chunks at newlines', () => {
    const file = tmpFile();
    const w = new LogWriter(file);
    w.write('stdout', 'one\ntw');
    w.write('stdout', 'o\n');
    w.write('stderr', 'oops\n');
    w.write('stdout', 'no newline');
    w.close();
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F one$/);
    expect(lines.map((l) => parseEntry(l)?.text)).toEqual(['one', 'two', 'oops', 'no newline']);
    expect(parseEntry(lines[2])?.stream).toBe('stderr');
  });
  it('formats nanoseconds exactly', () => {
    expect(rfc3339Nano(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
  });
});

describe('readLogs', () => {
  const write = (entries: [number, string][]): string => {
    const file = tmpFile();
    fs.writeFileSync(
      file,
      entries.map(([ms, t]) => formatEntry(rfc3339Nano(BigInt(ms) * 1_000_000n), 'stdout', true, t)).join(''),
    );
    return file;
  };
  const t0 = 1_700_000_000_000;
  it('serves plain text, --tail, --timestamps, --since and --limit-bytes', async () => {
    const file = write([
      [t0, 'a'],
      [t0 + 10_000, 'b'],
      [t0 + 20_000, 'c'],
    ]);
    expect(await text(readLogs(file))).toBe('a\nb\nc\n');
    expect(await text(readLogs(file, { tailLines: 2 }))).toBe('b\nc\n');
    expect(await text(readLogs(file, { tailLines: 0 }))).toBe('');
    expect(await text(readLogs(file, { tailLines: 1, timestamps: true }))).toBe(
      '2023-11-14T22:13:40.000000000Z c\n',
    );
    expect(await text(readLogs(file, { sinceSeconds: 15, now: () => t0 + 25_000 }))).toBe('b\nc\n');
    expect(await text(readLogs(file, { limitBytes: 3 }))).toBe('a\nb');
  });
  it('joins partial entries into one line, and counts them as one for --tail', async () => {
    const file = tmpFile();
    const ts = rfc3339Nano();
    fs.writeFileSync(
      file,
      formatEntry(ts, 'stdout', true, 'x') +
        formatEntry(ts, 'stdout', false, 'lo') +
        formatEntry(ts, 'stdout', true, 'ng'),
    );
    expect(await text(readLogs(file, { tailLines: 1 }))).toBe('long\n');
  });
  it('follows new lines until the container exits', async () => {
    const file = tmpFile();
    const w = new LogWriter(file);
    w.write('stdout', 'first\n');
    let exited!: () => void;
    const until = new Promise<void>((r) => (exited = r));
    const stream = readLogs(file, { follow: true, until, pollMs: 10 });
    const collected = text(stream);
    setTimeout(() => w.write('stdout', 'second\n'), 30);
    setTimeout(() => {
      w.close();
      exited();
    }, 80);
    expect(await collected).toBe('first\nsecond\n');
  });
  it('fails for a missing file', async () => {
    await expect(text(readLogs('/nonexistent/kubemu.log'))).rejects.toThrow(/ENOENT/);
  });
});

describe('readLogs of a rotated log', () => {
  const policy = { maxSize: 16 * 1024, maxFiles: 3 };
  const line = (i: number): string => `line ${i} ${'z'.repeat(40)}`;

  it('--tail reads backwards from the end: the last line of 20 MB costs a block or two', async () => {
    const file = tmpFile();
    const entry = (i: number): string => formatEntry(rfc3339Nano(), 'stdout', true, line(i));
    const chunk = Array.from({ length: 10_000 }, (_, i) => entry(i)).join('');
    const fd = fs.openSync(file, 'w');
    while (fs.fstatSync(fd).size < 20 * 1024 * 1024) fs.writeSync(fd, chunk);
    fs.writeSync(fd, entry(123_456_789));
    fs.closeSync(fd);
    const fh = await fs.promises.open(file, 'r');
    let bytesRead = 0;
    const counting = {
      stat: () => fh.stat(),
      read: async (buf: Buffer, off: number, len: number, pos: number) => {
        const r = await fh.read(buf, off, len, pos);
        bytesRead += r.bytesRead;
        return r;
      },
    } as unknown as FileHandle;
    const start = await tailStart(counting, 1);
    await fh.close();
    expect(bytesRead).toBeLessThanOrEqual(128 * 1024);
    expect(start).toBe(fs.statSync(file).size - Buffer.byteLength(entry(123_456_789)));
    expect(await text(readLogs(file, { tailLines: 1 }))).toBe(`${line(123_456_789)}\n`);
    expect(await text(readLogs(file, { tailLines: 3 }))).toBe(
      `${line(9_998)}\n${line(9_999)}\n${line(123_456_789)}\n`,
    );
  });

  it('serves only the current file after a rotation, as upstream does', async () => {
    const file = tmpFile();
    const w = new LogWriter(file, undefined, { policy });
    for (let i = 0; i < 1_000; i++) w.write('stdout', `${line(i)}\n`);
    w.close();
    await w.idle();
    const all = await text(readLogs(file));
    expect(all.length).toBeLessThanOrEqual(policy.maxSize);
    expect(all.endsWith(`${line(999)}\n`)).toBe(true);
    expect(await text(readLogs(file, { tailLines: 1 }))).toBe(`${line(999)}\n`);
  });

  it('--follow goes on in the new file after each rotation, losing no line', async () => {
    const file = tmpFile();
    const w = new LogWriter(file, undefined, { policy });
    w.write('stdout', `${line(0)}\n`);
    let exited!: () => void;
    const until = new Promise<void>((r) => (exited = r));
    const stream = readLogs(file, { follow: true, until, pollMs: 5 });
    let seen = '';
    stream.on('data', (c: Buffer) => (seen += c.toString()));
    const ended = new Promise((r) => stream.once('end', r));
    let written = 1;
    // ~50 rotations of 16 KiB, a burst of 3 KB at a time; each burst read before the next (a follower more than a
    // whole file behind skips to the current file, as upstream's does)
    while (written < 3_000) {
      w.write('stdout', Array.from({ length: 50 }, (_, k) => `${line(written + k)}\n`).join(''));
      written += 50;
      const last = `${line(written - 1)}\n`;
      for (let polls = 0; !seen.endsWith(last); polls++) {
        if (polls > 5_000) throw new Error(`the follower stopped after ${seen.length} bytes`);
        await new Promise((r) => setTimeout(r, 2));
      }
    }
    w.close();
    exited();
    await ended;
    expect(seen.trimEnd().split('\n')).toEqual(Array.from({ length: written }, (_, i) => line(i)));
  });
});
