import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { LogWriter, parseEntry } from './log-file.js';
import { allLogs, rotationStamp, validateLogRotation } from './log-rotation.js';

const dirs: string[] = [];
const tmpFile = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-rotate-'));
  dirs.push(dir);
  return path.join(dir, 'default_web_uid_app_0.log');
};
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

const line = (i: number): string => `line ${String(i).padStart(7, '0')} ${'x'.repeat(60)}`;
/** the container's numbered lines in every file, in order */
const numbers = (text: string): number[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => Number(/^line (\d+)/.exec(parseEntry(l)!.text)![1]));
const contents = (file: string): string =>
  file.endsWith('.gz') ? gunzipSync(fs.readFileSync(file)).toString('utf8') : fs.readFileSync(file, 'utf8');

describe('container log rotation (containerLogMaxSize × containerLogMaxFiles)', () => {
  it('rotates before the file passes maxSize, keeps maxFiles files, gzips all rotated ones but the newest', async () => {
    const file = tmpFile();
    const policy = { maxSize: 64 * 1024, maxFiles: 3 };
    const w = new LogWriter(file, undefined, { policy });
    let biggest = 0;
    const total = 40_000; // ~4.5 MB of entries: dozens of rotations, most within the same second
    for (let i = 0; i < total; i += 100) {
      w.write('stdout', Array.from({ length: 100 }, (_, k) => `${line(i + k)}\n`).join(''));
      const onDisk = fs
        .readdirSync(path.dirname(file))
        .map((n) => fs.statSync(path.join(path.dirname(file), n)));
      biggest = Math.max(biggest, ...onDisk.map((s) => s.size));
    }
    w.close();
    await w.idle();
    expect(biggest).toBeLessThanOrEqual(policy.maxSize);

    const names = fs.readdirSync(path.dirname(file)).sort();
    expect(names.length).toBe(policy.maxFiles);
    const rotated = names.filter((n) => n !== path.basename(file));
    // upstream's names: N.log.<YYYYMMDD-hhmmss> (here .<seq> when several fall in one second), older ones .gz
    for (const n of rotated) expect(n).toMatch(/_0\.log\.\d{8}-\d{6}(\.\d+)?(\.gz)?$/);
    const logs = allLogs(file);
    expect(logs.map((l) => path.basename(l))).toHaveLength(3);
    expect(logs[0]).toMatch(/\.gz$/);
    expect(logs[1]).not.toMatch(/\.gz$/);
    expect(logs[2]).toBe(file);
    const sizes = names.map((n) => fs.statSync(path.join(path.dirname(file), n)).size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(policy.maxSize * policy.maxFiles);

    // the kept files hold the newest lines, oldest file first, nothing missing in between
    const kept = logs.flatMap((l) => numbers(contents(l)));
    expect(kept.at(-1)).toBe(total - 1);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, k) => total - kept.length + k));
  });

  it('writes an entry bigger than maxSize to a file of its own rather than losing it', async () => {
    const file = tmpFile();
    const w = new LogWriter(file, undefined, { policy: { maxSize: 100, maxFiles: 2 } });
    w.write('stdout', 'short\n');
    w.write('stdout', `${'y'.repeat(500)}\n`);
    w.close();
    await w.idle();
    expect(parseEntry(fs.readFileSync(file, 'utf8').trimEnd())?.text).toBe('y'.repeat(500));
    expect(numbersOfFiles(file)).toBe(2);
  });

  it('does not rotate with a negative maxSize (upstream: rotation off)', async () => {
    const file = tmpFile();
    const w = new LogWriter(file, undefined, { policy: { maxSize: -1, maxFiles: 2 } });
    for (let i = 0; i < 100; i++) w.write('stdout', `${line(i)}\n`);
    w.close();
    await w.idle();
    expect(numbersOfFiles(file)).toBe(1);
  });

  it('checks the policy as upstream does, and names files in Go time format 20060102-150405', () => {
    expect(validateLogRotation({ maxSize: 1024, maxFiles: 1 })).toBe(
      'invalid containerLogMaxFiles 1, must be > 1',
    );
    expect(validateLogRotation({ maxSize: 1024, maxFiles: 2 })).toBeUndefined();
    expect(rotationStamp(new Date(2026, 0, 2, 3, 4, 5))).toBe('20260102-030405');
  });
});

function numbersOfFiles(file: string): number {
  return fs.readdirSync(path.dirname(file)).length;
}
