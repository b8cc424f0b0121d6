import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AtomicWriter,
  InvalidPayloadError,
  timestampDirPrefix,
  validatePayloadPath,
  type FileProjection,
} from './atomic-writer.js';

const file = (text: string, mode = 0o644): FileProjection => ({ data: Buffer.from(text), mode });
const payload = (files: Record<string, FileProjection>): Map<string, FileProjection> =>
  new Map(Object.entries(files));

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-writer-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const entries = (): string[] => fs.readdirSync(dir).sort();
const tsDirs = (): string[] => entries().filter((n) => /^\.\.\d{4}_/.test(n));
const read = (p: string): string => fs.readFileSync(path.join(dir, p), 'utf8');

describe('AtomicWriter (upstream pkg/volume/util/atomic_writer.go)', () => {
  it('lays out a timestamped dir, ..data pointing at it, and each key as a link through ..data', async () => {
    const w = new AtomicWriter(dir, () => new Date('2026-12-06T05:00:00.123Z'));
    expect(await w.write(payload({ key: file('v1'), 'nested/deep/file': file('n') }))).toBe(true);
    expect(entries()).toEqual([tsDirs()[0], '..data', 'key', 'nested']);
    expect(tsDirs()[0]).toMatch(/^\.\.2026_12_06_05_00_00\.\d+$/);
    expect(fs.readlinkSync(path.join(dir, '..data'))).toBe(tsDirs()[0]);
    expect(fs.readlinkSync(path.join(dir, 'key'))).toBe('..data/key');
    expect(fs.readlinkSync(path.join(dir, 'nested'))).toBe('..data/nested');
    expect(read('key')).toBe('v1');
    expect(read('nested/deep/file')).toBe('n');
    expect(fs.statSync(path.join(dir, tsDirs()[0])).mode & 0o777).toBe(0o755);
  });

  it('an update swaps ..data to a new timestamped dir and removes the old one', async () => {
    const w = new AtomicWriter(dir);
    await w.write(payload({ key: file('v1') }));
    const before = tsDirs()[0];
    // a reader holding the old file (a subPath bind mount, an open descriptor) keeps the old content
    const held = fs.openSync(path.join(dir, 'key'), 'r');
    expect(await w.write(payload({ key: file('v2') }))).toBe(true);
    expect(tsDirs()).toHaveLength(1);
    expect(tsDirs()[0]).not.toBe(before);
    expect(read('key')).toBe('v2');
    expect(fs.readFileSync(held, 'utf8')).toBe('v1');
    fs.closeSync(held);
    expect(entries()).not.toContain('..data_tmp');
  });

  it('writes nothing when content and modes are unchanged', async () => {
    const w = new AtomicWriter(dir);
    await w.write(payload({ a: file('1'), b: file('2', 0o400) }));
    const ts = tsDirs()[0];
    expect(await w.write(payload({ a: file('1'), b: file('2', 0o400) }))).toBe(false);
    expect(tsDirs()[0]).toBe(ts);
    expect(await w.write(payload({ a: file('1'), b: file('2', 0o440) }))).toBe(true);
    expect(fs.statSync(path.join(dir, 'b')).mode & 0o7777).toBe(0o440);
  });

  it('removes keys that left the payload, links and nested dirs alike', async () => {
    const w = new AtomicWriter(dir);
    await w.write(payload({ a: file('1'), gone: file('2'), 'sub/x': file('3') }));
    await w.write(payload({ a: file('1') }));
    expect(entries()).toEqual([tsDirs()[0], '..data', 'a']);
    await w.write(payload({}));
    expect(entries()).toEqual([tsDirs()[0], '..data']);
  });

  it('sets modes exactly, whatever the umask', async () => {
    const old = process.umask(0o077);
    try {
      await new AtomicWriter(dir).write(payload({ script: file('#!/bin/sh', 0o755), key: file('k', 0o644) }));
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(path.join(dir, 'script')).mode & 0o777).toBe(0o755);
    expect(fs.statSync(path.join(dir, 'key')).mode & 0o777).toBe(0o644);
  });

  it('takes over a directory of plain files an older kubemu wrote in place', async () => {
    fs.writeFileSync(path.join(dir, 'key'), 'old');
    fs.mkdirSync(path.join(dir, 'sub'));
    fs.writeFileSync(path.join(dir, 'sub', 'x'), 'old');
    fs.writeFileSync(path.join(dir, 'stale'), 'old');
    await new AtomicWriter(dir).write(payload({ key: file('new'), 'sub/x': file('new') }));
    expect(entries()).toEqual([tsDirs()[0], '..data', 'key', 'sub']);
    expect(fs.lstatSync(path.join(dir, 'key')).isSymbolicLink()).toBe(true);
    expect(read('key')).toBe('new');
    expect(read('sub/x')).toBe('new');
  });

  it('refuses paths that escape or use the reserved .. names, and writes nothing', async () => {
    for (const bad of ['/abs', '../up', 'a/../../b', '..data', '..hidden/x', '', 'x'.repeat(256)]) {
      expect(() => validatePayloadPath(bad), bad).toThrow(InvalidPayloadError);
      await expect(new AtomicWriter(dir).write(payload({ [bad]: file('x') }))).rejects.toThrow(
        InvalidPayloadError,
      );
    }
    expect(entries()).toEqual([]);
    for (const good of ['key', 'a/b', '.hidden', 'a..b', 'dir/..x'])
      expect(() => validatePayloadPath(good), good).not.toThrow();
  });

  it('names timestamped dirs after UTC time as upstream does', () => {
    expect(timestampDirPrefix(new Date('2026-01-02T03:04:05.678Z'))).toBe('..2026_01_02_03_04_05.');
  });
});
