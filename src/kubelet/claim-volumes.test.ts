import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { claimVolumePath, prepareHostPath, type ClaimSources } from './claim-volumes.js';
import { containerMounts } from './volumes.js';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});
const tmp = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'claim-volumes-'));
  dirs.push(d);
  return d;
};

const pod = (volumes: NonNullable<Pod['spec']>['volumes']): Pod => ({
  metadata: { name: 'web', namespace: 'default', uid: 'pod-uid' },
  spec: { containers: [{ name: 'c', volumeMounts: [{ name: 'data', mountPath: '/data' }] }], volumes },
});

function sources(
  claims: PersistentVolumeClaim[],
  pvs: PersistentVolume[],
  nodeName = 'node-1',
): ClaimSources {
  return {
    claim: (ns, name) =>
      Promise.resolve(claims.find((c) => c.metadata?.namespace === ns && c.metadata?.name === name)),
    persistentVolume: (name) => Promise.resolve(pvs.find((p) => p.metadata?.name === name)),
    node: () => ({ metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } } }),
  };
}

const boundClaim = (name: string, pv: string, owner?: string): PersistentVolumeClaim => ({
  metadata: {
    name,
    namespace: 'default',
    uid: `uid-${name}`,
    ...(owner
      ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: 'web', uid: owner, controller: true }] }
      : {}),
  },
  spec: { volumeName: pv },
  status: { phase: 'Bound' },
});

const hostPathPv = (name: string, p: string, claimUid: string, node?: string): PersistentVolume => ({
  metadata: { name },
  spec: {
    hostPath: { path: p, type: 'DirectoryOrCreate' },
    claimRef: { name: 'x', namespace: 'default', uid: claimUid },
    ...(node
      ? {
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] },
              ],
            },
          },
        }
      : {}),
  },
});

describe('hostPath types', () => {
  it('makes DirectoryOrCreate and FileOrCreate, checks the others as upstream checkType does', () => {
    const d = tmp();
    expect(prepareHostPath('v', { path: path.join(d, 'a/b'), type: 'DirectoryOrCreate' })).toBe(
      path.join(d, 'a/b'),
    );
    expect(fs.statSync(path.join(d, 'a/b')).isDirectory()).toBe(true);
    prepareHostPath('v', { path: path.join(d, 'f/file'), type: 'FileOrCreate' });
    expect(fs.statSync(path.join(d, 'f/file')).isFile()).toBe(true);
    expect(() => prepareHostPath('v', { path: path.join(d, 'f/file'), type: 'Directory' })).toThrow(
      `MountVolume.SetUp failed for volume "v" : hostPath type check failed: ${path.join(d, 'f/file')} is not a directory`,
    );
    expect(() => prepareHostPath('v', { path: path.join(d, 'a'), type: 'File' })).toThrow('is not a file');
    expect(() => prepareHostPath('v', { path: path.join(d, 'a'), type: 'Socket' })).toThrow(
      'is not a socket file',
    );
    expect(() => prepareHostPath('v', { path: path.join(d, 'nope') })).toThrow('does not exist');
  });
});

describe('persistentVolumeClaim and ephemeral volumes', () => {
  it('mounts the bound PV path; says when the claim is missing, unbound or not the pod’s', async () => {
    const d = tmp();
    const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'c1' } }]);
    const pv = hostPathPv('pv1', path.join(d, 'vol'), 'uid-c1');
    expect(await claimVolumePath(p, p.spec!.volumes![0], sources([boundClaim('c1', 'pv1')], [pv]))).toBe(
      path.join(d, 'vol'),
    );
    await expect(claimVolumePath(p, p.spec!.volumes![0], sources([], [pv]))).rejects.toThrow(
      'Unable to attach or mount volumes: unmounted volumes=[data], unattached volumes=[], failed to process volumes=[data]: error processing PVC default/c1: failed to fetch PVC from API server: persistentvolumeclaims "c1" not found',
    );
    const pending = { ...boundClaim('c1', ''), status: { phase: 'Pending' } };
    await expect(claimVolumePath(p, p.spec!.volumes![0], sources([pending], [pv]))).rejects.toThrow(
      'error processing PVC default/c1: PVC is not bound',
    );
    // node affinity elsewhere
    const far = hostPathPv('pv1', path.join(d, 'vol'), 'uid-c1', 'node-2');
    await expect(
      claimVolumePath(p, p.spec!.volumes![0], sources([boundClaim('c1', 'pv1')], [far])),
    ).rejects.toThrow(
      'MountVolume.NodeAffinity check failed for volume "pv1" : no matching NodeSelectorTerms',
    );
    const eph = pod([{ name: 'data', ephemeral: { volumeClaimTemplate: { spec: {} } } }]);
    await expect(
      claimVolumePath(
        eph,
        eph.spec!.volumes![0],
        sources([boundClaim('web-data', 'pv1', 'someone-else')], [pv]),
      ),
    ).rejects.toThrow('PVC default/web-data was not created for pod default/web (pod is not owner)');
    const ok = hostPathPv('pv1', path.join(d, 'vol'), 'uid-web-data');
    expect(
      await claimVolumePath(
        eph,
        eph.spec!.volumes![0],
        sources([boundClaim('web-data', 'pv1', 'pod-uid')], [ok]),
      ),
    ).toBe(path.join(d, 'vol'));
  });

  it('persistentVolumeClaim.readOnly makes every mount of the volume read-only', () => {
    const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'c1', readOnly: true } }]);
    const mounts = containerMounts(p, p.spec!.containers[0], new Map([['data', '/x']]));
    expect(mounts).toEqual([{ hostPath: '/x', containerPath: '/data', readOnly: true }]);
  });
});
