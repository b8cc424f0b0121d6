import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStorage } from './sqlite-storage.js';

describe('SqliteStorage file modes', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kubemu-storage-modes-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const modes = (): Record<string, string> =>
    Object.fromEntries(readdirSync(dir).map((f) => [f, (statSync(join(dir, f)).mode & 0o777).toString(8)]));

  it('state.db and its -wal and -shm are 0600 under umask 000, new or left 0644 by an older version', async () => {
    const old = process.umask(0);
    try {
      const path = join(dir, 'state.db');
      let s = SqliteStorage.open({ path });
      await s.create('/configmaps/default/a', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'a', namespace: 'default' },
      });
      await s.close();
      expect(modes()).toEqual(expect.objectContaining({ 'state.db': '600' }));
      for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
      writeFileSync(`${path}-shm`, Buffer.alloc(0), { flag: 'a' });
      s = SqliteStorage.open({ path });
      const open = modes();
      await s.close();
      expect(Object.values(open)).toEqual(Object.keys(open).map(() => '600'));
      expect(Object.keys(open)).toEqual(expect.arrayContaining(['state.db', 'state.db-wal', 'state.db-shm']));
    } finally {
      process.umask(old);
    }
  });
});
