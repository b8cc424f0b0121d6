import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubectlBinaries } from './kubectl-binary.js';

const root = mkdtempSync(join(tmpdir(), 'kubectl-binary-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** a bin dir whose `kubectl` links to `<sdk>/kubectl`, with `kubectl.<v>` beside it for each of `versions` */
function layout(name: string, versions: string[]): { bin: string; sdk: string } {
  const sdk = join(root, name, 'sdk');
  const bin = join(root, name, 'bin');
  mkdirSync(sdk, { recursive: true });
  mkdirSync(bin, { recursive: true });
  for (const f of ['kubectl', ...versions.map((v) => `kubectl.${v}`)]) writeFileSync(join(sdk, f), '');
  symlinkSync(join(sdk, 'kubectl'), join(bin, 'kubectl'));
  return { bin, sdk };
}

describe('kubectlBinaries', () => {
  it('picks the Cloud SDK’s kubectl of the server’s minor version behind its dispatcher', () => {
    const { bin, sdk } = layout('sdk', ['1.27', '1.33']);
    expect(kubectlBinaries('v1.33.0+kubemu', `/nonexistent:${bin}`)).toEqual({
      plain: join(sdk, 'kubectl.1.33'),
      dispatcher: join(sdk, 'kubectl'),
    });
  });

  it('takes kubectl as it is when it has no versioned sibling (a plain install)', () => {
    const { bin, sdk } = layout('plain', []);
    expect(kubectlBinaries('v1.33.0', bin)).toEqual({ plain: join(sdk, 'kubectl') });
    const other = layout('other', ['1.27']);
    expect(kubectlBinaries('v1.33.0', other.bin)).toEqual({ plain: join(other.sdk, 'kubectl') });
  });

  it('says so when there is no kubectl on PATH', () => {
    expect(() => kubectlBinaries('v1.33.0', join(root, 'empty'))).toThrow('kubectl is not on PATH');
  });
});
