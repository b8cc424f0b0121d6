import { describe, it, expect, afterEach } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchArgs, runBench } from './run.js';
import type { Suite } from './suites.js';

function capture(): {
  io: { out(t: string): void; err(t: string): void };
  out: () => string;
  err: () => string;
} {
  let out = '';
  let err = '';
  return { io: { out: (t) => void (out += t), err: (t) => void (err += t) }, out: () => out, err: () => err };
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('runBench', () => {
  it('says so when no suites are registered, and exits 0', async () => {
    const c = capture();
    expect(await runBench([], [], c.io)).toBe(0);
    expect(c.out()).toBe('no suites registered\n');
  });

  it('runs suites in order, honours --only, and exits 0 when targets are missed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-'));
    const order: string[] = [];
    const suites: Suite[] = ['a', 'b', 'c'].map((name) => ({
      name,
      run: () => {
        order.push(name);
        return Promise.resolve([
          { name: `${name}-latency`, value: 10, unit: 'ms', target: { op: '<=' as const, value: 1 } },
        ]);
      },
    }));
    const c = capture();
    const out = join(dir, 'latest.json');
    expect(await runBench(suites, ['--only', 'c,a', `--out=${out}`], c.io)).toBe(0);
    expect(order).toEqual(['a', 'c']);
    expect(c.out()).toMatch(/a-latency\s+10\s+ms\s+<= 1\s+✗/);
    expect(c.out()).not.toContain('b-latency');
    expect(JSON.parse(readFileSync(out, 'utf8')).results).toHaveLength(2);
  });

  it('keeps going after a suite crashes, then exits 1', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-'));
    const suites: Suite[] = [
      { name: 'boom', run: () => Promise.reject(new Error('cluster did not start')) },
      { name: 'ok', run: () => Promise.resolve([{ name: 'x', value: 1, unit: 'ms' }]) },
    ];
    const c = capture();
    expect(await runBench(suites, ['--out', join(dir, 'latest.json')], c.io)).toBe(1);
    expect(c.err()).toContain('boom failed: Error: cluster did not start');
    expect(c.out()).toMatch(/^x\s+1\s+ms$/m);
  });

  it('rejects unknown suites and arguments with exit 2 and writes nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-'));
    const suites: Suite[] = [{ name: 'a', run: () => Promise.resolve([]) }];
    const c = capture();
    expect(await runBench(suites, ['--only', 'zzz', '--out', join(dir, 'l.json')], c.io)).toBe(2);
    expect(c.err()).toContain('no suite named zzz; registered: a');
    expect(await runBench(suites, ['--bogus'], c.io)).toBe(2);
    expect(existsSync(join(dir, 'l.json'))).toBe(false);
    expect(() => parseBenchArgs(['--only'])).toThrow('--only needs a value');
  });
});
