import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseNetwork, netnsSupport, type NetnsSupport } from './network-support.js';

/** a PATH directory holding (empty, executable) `programs` */
function fakePath(programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-path-'));
  for (const p of programs) {
    writeFileSync(join(dir, p), '#!/bin/sh\n');
    chmodSync(join(dir, p), 0o755);
  }
  dirs.push(dir);
  return dir;
}
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const ALL = ['unshare', 'nsenter', 'ip', 'nft'];

describe('netnsSupport', () => {
  it('names the missing programs and their packages, without trying unshare', () => {
    let tried = false;
    const s = netnsSupport({
      path: fakePath(['unshare', 'nsenter', 'ip']),
      root: true,
      run: () => ((tried = true), { ok: true, stderr: '' }),
    });
    expect(s.ok).toBe(false);
    expect(s.reason).toMatch(
      /^nft is not installed .*install nftables \(e\.g\. sudo apt-get install nftables\)/,
    );
    expect(tried).toBe(false);
    const two = netnsSupport({ path: fakePath(['unshare', 'nsenter']), root: true });
    expect(two.reason).toMatch(/^ip, nft are not installed.*iproute2 .* and nftables/);
  });

  it('tries a user namespace when not root, and says which sysctl forbids it', () => {
    const argvs: string[][] = [];
    const s = netnsSupport({
      path: fakePath(ALL),
      root: false,
      run: (argv) => (
        argvs.push([...argv]),
        { ok: false, stderr: 'unshare: write failed /proc/self/uid_map' }
      ),
      sysctl: (name) => (name === 'kernel.apparmor_restrict_unprivileged_userns' ? '1' : undefined),
    });
    expect(argvs[0].slice(1)).toEqual([
      '--user',
      '--map-root-user',
      '--net',
      '--mount',
      '--uts',
      '--',
      'true',
    ]);
    expect(s.ok).toBe(false);
    expect(s.reason).toContain('may not create user namespaces (unshare: write failed /proc/self/uid_map)');
    expect(s.reason).toContain('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
  });

  it('as root tries a plain network namespace; a refusal points at container capabilities', () => {
    const argvs: string[][] = [];
    const s = netnsSupport({
      path: fakePath(ALL),
      root: true,
      run: (argv) => (
        argvs.push([...argv]),
        { ok: false, stderr: 'unshare: unshare failed: Operation not permitted' }
      ),
    });
    expect(argvs[0].slice(1)).toEqual(['--net', '--mount', '--uts', '--', 'true']);
    expect(s.reason).toMatch(/network namespaces cannot be created here .*--cap-add SYS_ADMIN/);
    expect(netnsSupport({ path: fakePath(ALL), root: true, run: () => ({ ok: true, stderr: '' }) })).toEqual({
      ok: true,
      reason: '',
    });
    // too loaded to answer in time: no fallback on a guess (making the sandbox reports a real failure)
    const slow = netnsSupport({
      path: fakePath(ALL),
      root: true,
      run: () => ({ ok: false, stderr: '', timedOut: true }),
    });
    expect(slow.ok).toBe(true);
  });

  it('really runs unshare on this machine (the e2e hosts can)', () => {
    expect(netnsSupport().ok).toBe(true);
  });
});

describe('chooseNetwork', () => {
  const can = (): NetnsSupport => ({ ok: true, reason: '' });
  const cannot = (): NetnsSupport => ({ ok: false, reason: 'nft is not installed' });
  const never = (): NetnsSupport => {
    throw new Error('not probed');
  };

  it('defaults to loopback while NETNS_BY_DEFAULT is off; a cluster made with netns stays netns', () => {
    expect(chooseNetwork(undefined, undefined, never)).toEqual({ mode: 'loopback' });
    expect(chooseNetwork(undefined, 'netns', can)).toEqual({ mode: 'netns' });
  });

  it('auto (and the default once netns is it): netns where the machine can, else loopback with the reason', () => {
    for (const [requested, byDefault] of [
      ['auto', false],
      [undefined, true],
    ] as const) {
      expect(chooseNetwork(requested, undefined, can, byDefault)).toEqual({ mode: 'netns' });
      expect(chooseNetwork(requested, 'netns', can, byDefault)).toEqual({ mode: 'netns' });
      expect(chooseNetwork(requested, undefined, cannot, byDefault)).toEqual({
        mode: 'loopback',
        fallback: 'nft is not installed',
      });
      // a cluster made with loopback stays on loopback (its ClusterIPs), and says so
      const c = chooseNetwork(requested, 'loopback', never, byDefault);
      expect(c).toMatchObject({ mode: 'loopback' });
      expect((c as { note: string }).note).toMatch(/as this cluster was made/);
    }
    expect(chooseNetwork(undefined, 'loopback', never, false)).toEqual({ mode: 'loopback' });
  });

  it('does what --network says; an explicit netns the machine cannot run is an error, not a fallback', () => {
    expect(chooseNetwork('loopback', 'netns', never)).toEqual({ mode: 'loopback' });
    expect(chooseNetwork('netns', 'loopback', can)).toEqual({ mode: 'netns' });
    const e = chooseNetwork('netns', undefined, cannot);
    expect((e as { error: string }).error).toMatch(
      /--network=netns cannot run on this machine: nft is not installed\.\nStart with --network=loopback/,
    );
  });
});
