// Every component loads msgpackr (the internal face's wire format), which loads its native extension through
// node-gyp-build-optional-packages; without LIBC set, that asks detect-libc, which reads the whole node executable
// (/proc/self/exe, ~100 MB) to learn the libc. kubemu sets LIBC first from the executable's first 4 KB.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DIST } from './helpers/apiserver.js';

function load(module: string): Promise<{ libc: string | null; readBytes: number; extract: boolean }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env['LIBC'];
  const script = `
    await import(${JSON.stringify(pathToFileURL(module).href)});
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const io = readFileSync('/proc/self/io', 'utf8');
    const req = createRequire(${JSON.stringify(pathToFileURL(module).href)});
    let extract = false;
    try { extract = typeof req('msgpackr-extract').extractStrings === 'function'; } catch {}
    console.log(JSON.stringify({ libc: process.env.LIBC ?? null, readBytes: Number(/rchar: (\\d+)/.exec(io)[1]), extract }));
  `;
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { env, timeout: 30_000 }, (err, out) =>
      err
        ? reject(new Error(`loading ${module} failed`, { cause: err }))
        : resolve(JSON.parse(out) as { libc: string | null; readBytes: number; extract: boolean }),
    ),
  );
}

describe('loading the wire format', () => {
  it('sets LIBC and never reads the node executable whole', async () => {
    const r = await load(join(DIST, 'api', 'wire.js'));
    expect(r.libc).toBe('glibc');
    expect(r.extract).toBe(true);
    expect(r.readBytes).toBeLessThan(statSync(process.execPath).size / 2);
  });

  it('in the bundled apiserver too', async () => {
    const r = await load(join(DIST, 'cmd', 'apiserver.js'));
    expect(r.libc).toBe('glibc');
    expect(r.readBytes).toBeLessThan(statSync(process.execPath).size / 2);
  });
});
