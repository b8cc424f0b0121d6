import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ensureComponentToken,
  ensureNodeToken,
  ensureTokenFile,
  formatTokenFile,
  parseTokenFile,
  readTokenFile,
  tokenFilePath,
} from './token-file.js';

let stateDir: string;
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'kubemu-auth-'));
});
afterEach(() => {
  rmSync(stateDir, { recursive: true, force: true });
});

describe('parseTokenFile', () => {
  it('reads upstream’s CSV format with quoted groups', () => {
    const entries = parseTokenFile('t1,alice,u1,"g1,g2"\n\nt2,bob,u2\nt3,"carol ""c""",u3,solo\r\n');
    expect(entries).toEqual([
      { token: 't1', user: 'alice', uid: 'u1', groups: ['g1', 'g2'] },
      { token: 't2', user: 'bob', uid: 'u2', groups: [] },
      { token: 't3', user: 'carol "c"', uid: 'u3', groups: ['solo'] },
    ]);
  });

  it('rejects records with fewer than 3 columns, with upstream’s message', () => {
    expect(() => parseTokenFile('t1,alice\n', '/x/tokens.csv')).toThrow(
      "token file '/x/tokens.csv' must have at least 3 columns (token, user name, user uid), found 2",
    );
  });

  it('skips empty tokens', () => {
    expect(parseTokenFile(',alice,u1\nt2,bob,u2\n').map((e) => e.user)).toEqual(['bob']);
  });

  it('round-trips through formatTokenFile', () => {
    const entries = [
      { token: 'abc', user: 'system:node:n1', uid: 'id-1', groups: ['system:nodes'] },
      { token: 'def', user: 'x', uid: 'id-2', groups: ['a', 'b'] },
      { token: 'ghi', user: 'y', uid: 'id-3', groups: [] },
    ];
    const text = formatTokenFile(entries);
    expect(text).toContain('def,x,id-2,"a,b"\n');
    expect(parseTokenFile(text)).toEqual(entries);
  });
});

describe('ensureTokenFile', () => {
  it('creates the file once with admin, controller-manager and scheduler tokens', () => {
    const first = ensureTokenFile(stateDir);
    expect(first.file).toBe(tokenFilePath(stateDir));
    expect(statSync(first.file).mode & 0o777).toBe(0o600);
    const entries = readTokenFile(first.file);
    expect(entries.map((e) => e.user)).toEqual([
      'kubemu-admin',
      'system:kube-controller-manager',
      'system:kube-scheduler',
    ]);
    expect(entries[0].groups).toEqual(['system:masters']);
    for (const e of entries) expect(e.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set(entries.map((e) => e.token)).size).toBe(3);
    expect(first.adminToken).toBe(entries[0].token);

    const before = readFileSync(first.file, 'utf8');
    const second = ensureTokenFile(stateDir);
    expect(second.adminToken).toBe(first.adminToken);
    expect(readFileSync(first.file, 'utf8')).toBe(before);
    expect(existsSync(`${first.file}.lock`)).toBe(false);
  });

  it('adds node tokens on demand and returns the same token later', () => {
    ensureTokenFile(stateDir);
    const n1 = ensureNodeToken(stateDir, 'node-1');
    const n2 = ensureNodeToken(stateDir, 'node-2');
    expect(n1).not.toBe(n2);
    expect(ensureNodeToken(stateDir, 'node-1')).toBe(n1);
    const node1 = readTokenFile(tokenFilePath(stateDir)).find((e) => e.user === 'system:node:node-1');
    expect(node1).toMatchObject({ token: n1, groups: ['system:nodes'] });
    expect(readTokenFile(tokenFilePath(stateDir))).toHaveLength(5);
  });

  it('updates groups of an existing user but keeps its token', () => {
    const token = ensureComponentToken(stateDir, 'ingress', ['a']);
    expect(ensureComponentToken(stateDir, 'ingress', ['a', 'b'])).toBe(token);
    expect(readTokenFile(tokenFilePath(stateDir))[0].groups).toEqual(['a', 'b']);
  });

  it('takes over a stale lock left by a crashed writer', () => {
    const file = tokenFilePath(stateDir);
    writeFileSync(`${file}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    const token = ensureComponentToken(stateDir, 'someone');
    expect(readTokenFile(file)[0].token).toBe(token);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
