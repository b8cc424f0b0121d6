// The offload worker as the apiserver runs it (the compiled worker in dist/: run `npm run build` first): what a
// job gives back is the same whether it ran inline or crossed to the worker and back in JSON chunks.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { bigConfigMapYaml } from '../../bench/big-configmap.js';
import { isJsonSafe } from '../../util/json-slices.js';
import { JOBS } from './jobs.js';
import { Offload } from './offload.js';

const workerUrl = new URL('../../../dist/apiserver/offload/worker.js', import.meta.url);
const offload = new Offload({ workerUrl });

afterAll(() => offload.close());

describe('Offload', () => {
  it('finds the compiled worker (npm run build)', () => {
    expect(existsSync(fileURLToPath(workerUrl))).toBe(true);
  });

  it('gives back from the worker exactly what the job gives inline, for a 30,000-key apply', async () => {
    const config = JOBS.decodeYaml(bigConfigMapYaml('big')) as KubeObject;
    const opts = {
      manager: 'kubectl',
      force: false,
      gvk: { group: '', version: 'v1', kind: 'ConfigMap' },
      now: '2026-01-01T00:00:00Z',
    };
    const inline = JOBS.serverSideApply(undefined, config, opts);
    // so it crosses as JSON chunks, not as a structured clone
    expect(await isJsonSafe(inline)).toBe(true);
    const viaWorker = await offload.run('serverSideApply', true, undefined, config, opts);
    expect(viaWorker).toStrictEqual(inline);
    expect(JSON.stringify(viaWorker)).toBe(JSON.stringify(inline));
  });

  it('keeps what JSON would lose (NaN, -0 from YAML) by cloning it instead', async () => {
    const text = `a: .nan\nb: -0.0\nc: [1, 2]\n${'#'.repeat(70_000)}\n`;
    const value = await offload.run('decodeYaml', true, text);
    expect(value).toStrictEqual(JOBS.decodeYaml(text));
    expect(Object.is((value as { b: number }).b, -0)).toBe(true);
  });

  it("hands back the job's ApiError with its reason and message", async () => {
    const text = `${bigConfigMapYaml('dup')}  key-000017: again\n`;
    await expect(offload.run('decodeYaml', true, text)).rejects.toMatchObject({
      reason: 'BadRequest',
      message: expect.stringContaining('key "key-000017" already set in map') as unknown,
    });
  });
});
