import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../util/clock.js';
import { SqliteStorage } from './sqlite-storage.js';
import type { StorageEvent } from './storage.js';
import { pod, storageContract } from './testdata/storage-contract.js';
import { compileForNode } from './testdata/compile.js';

const tick = () => new Promise((r) => setImmediate(r));

storageContract('SqliteStorage', () => {
  let dir: string | undefined;
  return {
    reset: () => {
      dir = mkdtempSync(join(tmpdir(), 'kubemu-storage-contract-'));
    },
    open: (opts) =>
      Promise.resolve(SqliteStorage.open({ path: join(dir!, 'state.db'), freezeObjects: true, ...opts })),
    cleanup: () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteStorage', () => {
  let dir: string;
  let path: string;
  const open: SqliteStorage[] = [];
  const openStore = (opts: { watchCacheSize?: number } = {}) => {
    const s = SqliteStorage.open({ path, freezeObjects: true, ...opts });
    open.push(s);
    return s;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-storage-test-'));
    path = join(dir, 'state.db');
  });
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decides each op of one batch against the earlier ops of the same batch', async () => {
    const s = openStore();
    const results = await Promise.allSettled([
      s.create('/k/a', pod('a')),
      s.create('/k/a', pod('a')),
      s.update('/k/a', pod('a', { x: 1 }), 1),
      s.delete('/k/a', 2),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(s.stats().commits).toBe(1);
    expect(await s.get('/k/a')).toBeUndefined();
    expect(s.currentRV()).toBe(3);
  });

  it('commits pending writes on close', async () => {
    let s = openStore();
    const pending = s.create('/k/a', pod('a'));
    await s.close();
    expect((await pending).rv).toBe(1);
    await expect(s.create('/k/b', pod('b'))).rejects.toThrow(/closed/);
    // the apiserver's `etcd` health check on SQLite
    await expect(s.checkHealth()).rejects.toThrow('storage is closed');
    s = openStore();
    await expect(s.checkHealth()).resolves.toBeUndefined();
    expect((await s.get('/k/a'))?.rv).toBe(1);
  });

  it('holds a batch open for commitDelayMs on the injected clock', async () => {
    const clock = new FakeClock();
    const s = SqliteStorage.open({ path, clock, commitDelayMs: 5 });
    open.push(s);
    let acked = false;
    const first = s.create('/k/a', pod('a')).then(() => (acked = true));
    await tick();
    const second = s.create('/k/b', pod('b'));
    await tick();
    expect(acked).toBe(false);
    expect(await s.get('/k/a')).toBeUndefined(); // uncommitted writes are invisible
    clock.advance(5);
    await Promise.all([first, second]);
    expect(acked).toBe(true);
    expect(s.stats()).toMatchObject({ commits: 1, writes: 2 });
  });

  it('serves watchers that resume after a reopen from the persisted history', async () => {
    let s = openStore({ watchCacheSize: 4 });
    await s.create('/k/a', pod('a')); // 1
    await s.create('/k/b', pod('b')); // 2
    await s.update('/k/a', pod('a', { v: 2 }), 1); // 3
    await s.delete('/k/b'); // 4
    await s.create('/k/c', pod('c')); // 5
    await s.update('/k/c', pod('c', { v: 2 }), 5); // 6
    await s.close();

    s = openStore({ watchCacheSize: 4 });
    expect(() => s.watch('/k/', 1, () => {})).toThrow(/too old resource version: 1 \(2\)/);
    const seen: StorageEvent[] = [];
    s.watch('/k/', 2, (ev) => seen.push(ev));
    await tick();
    expect(seen.map((e) => [e.type, e.key, e.rv])).toEqual([
      ['MODIFIED', '/k/a', 3],
      ['DELETED', '/k/b', 4],
      ['ADDED', '/k/c', 5],
      ['MODIFIED', '/k/c', 6],
    ]);
    expect(seen[0].prevObject?.metadata?.resourceVersion).toBe('1');
    expect(seen[1].object).toMatchObject({ metadata: { name: 'b', resourceVersion: '4' } });
    expect(seen[1].prevObject).toMatchObject({ metadata: { name: 'b', resourceVersion: '2' } });
    expect(seen[3].prevObject).toBe(seen[2].object); // one decoded copy, shared
    expect(seen[3].object).toBe((await s.get('/k/c'))!.object);
    // the next write continues the sequence and reaches the resumed watcher
    await s.create('/k/d', pod('d'));
    expect(seen.at(-1)).toMatchObject({ type: 'ADDED', rv: 7 });
  });

  it('reloads exactly the events it emitted live', async () => {
    let s = openStore();
    const live: StorageEvent[] = [];
    s.watch('/', 0, (ev) => live.push(ev));
    await s.create('/k/a', pod('a'));
    await s.update('/k/a', pod('a', { v: 2 }), 1);
    await Promise.all([s.create('/k/b', pod('b')), s.update('/k/a', pod('a', { v: 3 }), 2)]);
    await s.delete('/k/a');
    await s.create('/k/a', pod('a', { v: 'again' }));
    await s.update('/k/b', pod('b', { v: 2 }), 3);
    await s.delete('/k/b', 7);
    await s.close();
    expect(live).toHaveLength(8);
    s = openStore();
    const reloaded: StorageEvent[] = [];
    s.watch('/', 0, (ev) => reloaded.push(ev));
    await tick();
    expect(reloaded).toEqual(live);
  });

  it('commits concurrent writes together and every acknowledged one survives a reopen', async () => {
    let s = openStore();
    const n = 500;
    const acks = await Promise.all(
      Array.from({ length: n }, (_, i) => s.create(`/k/${String(i).padStart(4, '0')}`, pod(`p${i}`))),
    );
    expect(new Set(acks.map((a) => a.rv)).size).toBe(n);
    expect(s.stats()).toMatchObject({ commits: 1, writes: n });
    // writers that await their previous write batch up too
    const writers = Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; i < 10; i++) await s.create(`/w/${w}/${i}`, pod(`w${w}-${i}`));
    });
    await Promise.all(writers);
    expect(s.stats().commits).toBeLessThanOrEqual(1 + 10 + 2);
    await s.close();

    s = openStore();
    const listed = await s.list('/k/');
    expect(listed.items.map((i) => [i.key, i.rv])).toEqual(acks.map((a) => [a.key, a.rv]));
    expect((await s.list('/w/')).items).toHaveLength(320);
  });

  it('rejects every op of a batch whose COMMIT fails, and publishes none of them', async () => {
    const s = openStore();
    await s.create('/k/a', pod('a'));
    const seen: number[] = [];
    s.watch('/', 1, (ev) => seen.push(ev.rv));
    // A second connection holding a write lock makes this batch's BEGIN IMMEDIATE fail after the busy timeout.
    const { default: Database } = await import('better-sqlite3');
    const other = new Database(path);
    other.pragma('busy_timeout = 0');
    (s as unknown as { db: { pragma(x: string): void } }).db.pragma('busy_timeout = 0');
    other.exec('BEGIN IMMEDIATE');
    const results = await Promise.allSettled([
      s.create('/k/b', pod('b')),
      s.update('/k/a', pod('a', { v: 2 }), 1),
    ]);
    other.exec('ROLLBACK');
    other.close();
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(await s.get('/k/b')).toBeUndefined();
    expect(seen).toEqual([]);
    expect(s.stats().failedCommits).toBe(1);
    const after = await s.create('/k/b', pod('b'));
    expect(after.rv).toBeGreaterThan(1);
    expect(seen).toEqual([after.rv]);
  });

  it('keeps every acknowledged create after the writing process is SIGKILLed mid-burst', async () => {
    const compiled = compileForNode(resolve(import.meta.dirname, 'testdata/crash-writer.ts'));
    let child: ReturnType<typeof spawn> | undefined;
    try {
      child = spawn(process.execPath, [compiled.file, path, '/cm/'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const acked = new Map<string, number>();
      let buffered = '';
      const proc = child;
      const exited = new Promise<NodeJS.Signals | null>((res) =>
        proc.on('exit', (_code, signal) => res(signal)),
      );
      await new Promise<void>((res, rej) => {
        const timer = setTimeout(() => rej(new Error('crash-writer produced too few acks')), 20_000);
        proc.stdout!.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const line of lines) {
            const [tag, key, rv] = line.split(' ');
            if (tag === 'ack') acked.set(key, Number(rv));
          }
          if (acked.size >= 2000 && proc.exitCode === null && !proc.killed) {
            proc.kill('SIGKILL');
            clearTimeout(timer);
            res();
          }
        });
      });
      expect(await exited).toBe('SIGKILL');
      const s = openStore();
      const maxAcked = Math.max(...acked.values());
      for (const [key, rv] of acked) expect((await s.get(key))?.rv, key).toBe(rv);
      expect(s.currentRV()).toBeGreaterThanOrEqual(maxAcked);
      const next = await s.create('/after/crash', pod('x'));
      expect(next.rv).toBeGreaterThan(maxAcked);
      // the resumed history reaches back over the crash
      const replay: number[] = [];
      s.watch('/cm/', maxAcked - 5, (ev) => replay.push(ev.rv));
      await tick();
      expect(replay.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((d) => maxAcked - 5 + d));
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      compiled.cleanup();
    }
  }, 30_000);
});
