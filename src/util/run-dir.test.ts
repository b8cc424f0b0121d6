import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubeletInstanceName, kubeletRunDir } from './run-dir.js';

describe('kubelet run dir', () => {
  it('lives on the tmpfs dir when it is writable, named after the root dir', () => {
    const shm = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-'));
    const a = kubeletRunDir('/state/nodes/node-1', shm);
    expect(a).toBe(path.join(shm, kubeletInstanceName('/state/nodes/node-1')));
    expect(a).toMatch(/kubemu-[0-9a-f]{16}$/);
    expect(kubeletRunDir('/state/nodes/node-1/', shm)).toBe(a);
    expect(kubeletRunDir('/state/nodes/node-2', shm)).not.toBe(a);
    fs.rmSync(shm, { recursive: true });
  });

  it('falls back to <rootDir>/run without one', () => {
    expect(kubeletRunDir('/state/nodes/node-1', '/nonexistent-shm')).toBe('/state/nodes/node-1/run');
  });
});
