import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secureStateDir } from './state-dir.js';

let root: string;
let state: string;
const mode = (p: string): string => (fs.lstatSync(p).mode & 0o7777).toString(8);

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-state-dir-'));
  state = path.join(root, 'state');
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('secureStateDir', () => {
  it('makes a missing state dir 0700 and its nodes dir, whatever the umask', () => {
    const old = process.umask(0);
    try {
      secureStateDir(state);
    } finally {
      process.umask(old);
    }
    expect(mode(state)).toBe('700');
    expect(mode(path.join(state, 'nodes'))).toBe('700');
  });

  it('tightens what an older version left: dirs 0700, files 0600; pods data and symlinks left alone', () => {
    const old = process.umask(0);
    try {
      fs.mkdirSync(path.join(state, 'logs'), { recursive: true, mode: 0o777 });
      fs.writeFileSync(path.join(state, 'state.db'), '', { mode: 0o644 });
      fs.writeFileSync(path.join(state, 'state.db-wal'), '', { mode: 0o644 });
      fs.writeFileSync(path.join(state, 'logs', 'apiserver.log'), '', { mode: 0o666 });
      const volume = path.join(state, 'nodes', 'node-1', 'pods', 'uid', 'volumes', 'config');
      fs.mkdirSync(volume, { recursive: true, mode: 0o755 });
      fs.writeFileSync(path.join(volume, 'script.sh'), '', { mode: 0o755 });
      fs.mkdirSync(path.join(state, 'nodes', 'node-1', 'logs'), { mode: 0o755 });
      fs.writeFileSync(path.join(root, 'elsewhere'), '', { mode: 0o644 });
      fs.symlinkSync(path.join(root, 'elsewhere'), path.join(state, 'link'));
      fs.chmodSync(state, 0o777);
    } finally {
      process.umask(old);
    }
    secureStateDir(state);
    expect(mode(state)).toBe('700');
    expect(mode(path.join(state, 'logs'))).toBe('700');
    expect(mode(path.join(state, 'state.db'))).toBe('600');
    expect(mode(path.join(state, 'state.db-wal'))).toBe('600');
    expect(mode(path.join(state, 'logs', 'apiserver.log'))).toBe('600');
    expect(mode(path.join(state, 'nodes'))).toBe('700');
    expect(mode(path.join(state, 'nodes', 'node-1'))).toBe('700');
    expect(mode(path.join(state, 'nodes', 'node-1', 'logs'))).toBe('700');
    // the pods dir itself is closed; what the pods have below it keeps their modes (defaultMode 0755 here)
    expect(mode(path.join(state, 'nodes', 'node-1', 'pods'))).toBe('700');
    expect(mode(path.join(state, 'nodes', 'node-1', 'pods', 'uid', 'volumes', 'config', 'script.sh'))).toBe(
      '755',
    );
    // a symlink is not followed out of the state dir
    expect(mode(path.join(root, 'elsewhere'))).toBe('644');
  });
});
