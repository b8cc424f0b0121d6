import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeIsolationSync, readProbeFile } from '../../kubelet/runtime/isolation-probe.js';
import { writeProbeFile } from './isolation-probe-file.js';

const work = mkdtempSync(join(tmpdir(), 'kubemu-isolation-probe-file-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const uid = process.getuid?.();

describe("up's probe file", () => {
  it('holds what the probe found, for this user', async () => {
    const file = join(work, 'probe.json');
    const result = await writeProbeFile(file);
    expect(result).toEqual(probeIsolationSync());
    expect(readProbeFile(file)).toEqual(result);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ uid });
  });

  it('is probed anew by every up: a stale answer is replaced', async () => {
    const file = join(work, 'stale.json');
    writeFileSync(file, JSON.stringify({ mode: 'none', why: 'from an earlier run', uid }));
    await writeProbeFile(file);
    expect(readProbeFile(file)).toEqual(probeIsolationSync());
  });

  it('is named to no kubelet when it cannot be written', async () => {
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, '');
    const file = join(blocker, 'probe.json');
    expect(await writeProbeFile(file)).toBeUndefined();
    expect(existsSync(file)).toBe(false);
    expect(readProbeFile(file)).toBeUndefined();
  });
});
