import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { PROBE_FILE_ENV, probeIsolation, probeIsolationSync, readProbeFile } from './isolation-probe.js';

const work = mkdtempSync(join(tmpdir(), 'kubemu-isolation-probe-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const uid = process.getuid?.();

describe('the isolation probe', () => {
  it('finds the same without blocking as blocking', async () => {
    expect(await probeIsolation()).toEqual(probeIsolationSync());
  });

  it('says why it fell back when unshare is missing', async () => {
    const path = process.env['PATH'];
    process.env['PATH'] = work; // nothing to run here
    try {
      const sync = probeIsolationSync();
      const async = await probeIsolation();
      expect(sync.mode).toBe('none');
      expect(sync.why).toMatch(/unshare/);
      expect(async).toEqual({ mode: 'none', why: expect.stringMatching(/unshare/) as string });
    } finally {
      process.env['PATH'] = path;
    }
  });
});

describe('a probe file', () => {
  it.each([
    ['missing', undefined],
    ['not JSON', '{'],
    ["another user's", JSON.stringify({ mode: 'namespaces', uid: (uid ?? 0) + 1 })],
    ['of an unknown mode', JSON.stringify({ mode: 'vm', uid })],
  ])('is ignored when %s', (_what, content) => {
    const file = join(work, `bad-${Math.random()}.json`);
    if (content !== undefined) writeFileSync(file, content);
    expect(readProbeFile(file)).toBeUndefined();
  });
});

describe('a kubelet given the probe file', () => {
  afterEach(() => {
    delete process.env[PROBE_FILE_ENV];
    delete process.env['KUBEMU_ISOLATION'];
    vi.resetModules();
  });
  // detectIsolation keeps its answer for the process: a fresh module per case
  const fresh = async (): Promise<typeof import('./isolation.js')> => {
    vi.resetModules();
    return import('./isolation.js');
  };

  it('takes its answer, with the reason, instead of probing', async () => {
    const file = join(work, 'given.json');
    // an answer no probe here would give (root or not, this machine has unshare): it must come from the file
    writeFileSync(file, JSON.stringify({ mode: 'none', why: 'probed by kubemu up: no unshare', uid }));
    process.env[PROBE_FILE_ENV] = file;
    const isolation = await fresh();
    expect(isolation.detectIsolation()).toBe('none');
    expect(isolation.isolationDetail()).toBe('probed by kubemu up: no unshare');
  });

  it("probes itself when the file is another user's", async () => {
    const file = join(work, 'other-user.json');
    writeFileSync(file, JSON.stringify({ mode: 'none', why: 'not mine', uid: (uid ?? 0) + 1 }));
    process.env[PROBE_FILE_ENV] = file;
    const isolation = await fresh();
    expect(isolation.detectIsolation()).toBe(probeIsolationSync().mode);
    expect(isolation.isolationDetail()).not.toBe('not mine');
  });

  it('lets KUBEMU_ISOLATION win over the file', async () => {
    const file = join(work, 'forced.json');
    writeFileSync(file, JSON.stringify({ mode: 'none', why: 'from the file', uid }));
    process.env[PROBE_FILE_ENV] = file;
    process.env['KUBEMU_ISOLATION'] = 'userns';
    const isolation = await fresh();
    expect(isolation.detectIsolation()).toBe('userns');
    expect(isolation.isolationDetail()).toBe('forced by KUBEMU_ISOLATION=userns');
  });
});
