import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { ContainerConfigError } from './env.js';
import { verifyIdsMapped, verifyRunAsNonRoot } from './security-context.js';
import { applyFsGroup } from './volume-ownership.js';

const pod = (spec: Pod['spec']): Pod => ({ metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec });

describe('verifyRunAsNonRoot', () => {
  it("refuses an image that runs as root, and a runAsUser of 0, in upstream's words", () => {
    const c = { name: 'c' };
    expect(() =>
      verifyRunAsNonRoot(pod({ containers: [c], securityContext: { runAsNonRoot: true } }), c),
    ).toThrow(
      new ContainerConfigError(
        'container has runAsNonRoot and image will run as root (pod: "p_ns(u1)", container: c)',
      ),
    );
    const zero = { name: 'c', securityContext: { runAsNonRoot: true, runAsUser: 0 } };
    expect(() => verifyRunAsNonRoot(pod({ containers: [zero] }), zero)).toThrow(
      `container's runAsUser breaks non-root policy (pod: "p_ns(u1)", container: c)`,
    );
  });

  it("accepts a non-root runAsUser, and the container's runAsNonRoot: false over the pod's", () => {
    const c = { name: 'c' };
    verifyRunAsNonRoot(pod({ containers: [c], securityContext: { runAsNonRoot: true, runAsUser: 1000 } }), c);
    const off = { name: 'c', securityContext: { runAsNonRoot: false } };
    verifyRunAsNonRoot(pod({ containers: [off], securityContext: { runAsNonRoot: true } }), off);
  });
});

describe('applyFsGroup', () => {
  it('gives emptyDir trees the group with rw and setgid dirs, secret trees read for the group, hostPath nothing', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-fsgroup-'));
    try {
      const dirs = Object.fromEntries(
        ['scratch', 'secret', 'host'].map((n) => {
          const d = path.join(root, n);
          fs.mkdirSync(path.join(d, 'sub'), { recursive: true });
          fs.chmodSync(d, 0o755);
          fs.writeFileSync(path.join(d, 'sub', 'f'), 'x', { mode: 0o600 });
          fs.chmodSync(path.join(d, 'sub', 'f'), 0o600);
          return [n, d];
        }),
      );
      const gid = process.getgid?.() === 0 ? 2000 : process.getgid!();
      const failures = await applyFsGroup(
        pod({
          containers: [],
          securityContext: { fsGroup: gid },
          volumes: [
            { name: 'scratch', emptyDir: {} },
            { name: 'secret', secret: { secretName: 's' } },
            { name: 'host', hostPath: { path: dirs.host } },
          ],
        }),
        new Map(Object.entries(dirs)),
      );
      expect(failures).toEqual([]);
      const mode = (p: string): string => (fs.statSync(p).mode & 0o7777).toString(8);
      expect(mode(dirs.scratch)).toBe('2775');
      expect(fs.statSync(dirs.scratch).gid).toBe(gid);
      expect(mode(path.join(dirs.scratch, 'sub', 'f'))).toBe('660');
      expect(fs.statSync(path.join(dirs.scratch, 'sub', 'f')).gid).toBe(gid);
      expect(mode(path.join(dirs.secret, 'sub'))).toBe('2755');
      expect(mode(path.join(dirs.secret, 'sub', 'f'))).toBe('640');
      expect(mode(path.join(dirs.host, 'sub', 'f'))).toBe('600');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('verifyIdsMapped', () => {
  const c = { name: 'c' };
  const ids = { uid: { start: 100000, count: 65536 }, gid: { start: 100000, count: 65536 } };
  it("refuses an id the containers' user namespace does not map, saying which field and why", () => {
    const demo = pod({
      containers: [c],
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000] },
    });
    expect(() => verifyIdsMapped(demo, c, { kind: 'host' })).not.toThrow();
    expect(() => verifyIdsMapped(demo, c, { kind: 'subordinate', user: 'alice', ids })).not.toThrow();
    expect(() =>
      verifyIdsMapped(demo, c, { kind: 'single', user: 'alice', uid: 0, gid: 0, why: 'no subordinate uids' }),
    ).toThrow(
      new ContainerConfigError(
        "runAsUser 1000 is not mapped on this node: the kubelet runs as alice, and its containers' user namespace " +
          'maps only uid 0 (no subordinate uids) (pod: "p_ns(u1)", container: c)',
      ),
    );
    const big = pod({ containers: [c], securityContext: { supplementalGroups: [70000] } });
    expect(() => verifyIdsMapped(big, c, { kind: 'subordinate', user: 'alice', ids })).toThrow(
      "supplementalGroups 70000 is not mapped on this node: its containers' user namespace maps gids 0-65536 " +
        '(0 is alice, 1-65536 its subordinate gids 100000-165535)',
    );
    // the container's runAsUser over the pod's
    const own = { name: 'c', securityContext: { runAsUser: 0 } };
    const zero = pod({ containers: [own], securityContext: { runAsUser: 1000 } });
    const single = { kind: 'single', user: 'alice', uid: 0, gid: 0, why: 'x' } as const;
    expect(() => verifyIdsMapped(zero, own, single)).not.toThrow();
    // without a user namespace: only the kubelet's own uid
    expect(() =>
      verifyIdsMapped(zero, own, { kind: 'single', user: 'nobody', uid: 65534, gid: 65534, why: 'none' }),
    ).toThrow(
      "runAsUser 0 is not mapped on this node: containers run only as the kubelet's uid 65534 (nobody; none)",
    );
  });
});
