import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeKubeconfig, type WriteKubeconfigOptions } from './kubeconfig.js';

const work = mkdtempSync(join(tmpdir(), 'kubemu-kubeconfig-unchanged-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const opts: WriteKubeconfigOptions = {
  name: 'c1',
  server: 'https://127.0.0.1:6443',
  caPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  token: 'abc',
  setCurrent: true,
  format: 'json',
};

describe('writing a kubeconfig that would not change', () => {
  it.each(['json', 'yaml'] as const)(
    'leaves the %s file as it is (no new file renamed over it)',
    (format) => {
      const file = join(work, `same.${format}`);
      writeKubeconfig(file, { ...opts, format });
      const first = statSync(file);
      writeKubeconfig(file, { ...opts, format });
      const second = statSync(file);
      expect(second.ino).toBe(first.ino);
      expect(second.mtimeMs).toBe(first.mtimeMs);
    },
  );

  it('writes a change', () => {
    const file = join(work, 'changed.json');
    writeKubeconfig(file, opts);
    const first = statSync(file);
    writeKubeconfig(file, { ...opts, token: 'def' });
    expect(statSync(file).ino).not.toBe(first.ino);
    expect(readFileSync(file, 'utf8')).toContain('"def"');
  });

  it('makes a file others can read private again', () => {
    const file = join(work, 'opened.json');
    writeKubeconfig(file, opts);
    chmodSync(file, 0o644);
    writeKubeconfig(file, opts);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
