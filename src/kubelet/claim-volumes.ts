// persistentVolumeClaim and generic ephemeral volumes on the node: the claim's bound PersistentVolume, of a type that
// needs no cloud — hostPath (its `type` checked as for a hostPath volume) or local (the path must exist, on this
// node: the PV's node affinity). Errors carry upstream's kubelet wording ("error processing PVC ns/name: ...").
import fs from 'node:fs';
import path from 'node:path';
import type {
  HostPathVolumeSource,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { ephemeralClaimOwnedBy, podVolumeClaimName, volumeFitsNode } from '../api/storage/volume-helpers.js';

export interface ClaimSources {
  claim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  persistentVolume(name: string): Promise<PersistentVolume | undefined>;
  /** this node, for the PV's node affinity */
  node(): Node | undefined;
}

export class ClaimVolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClaimVolumeError';
  }
}

/**
 * hostPath's type check and creation (pkg/volume/hostpath's checkType): DirectoryOrCreate and FileOrCreate make what
 * is missing; Directory, File, Socket, CharDevice and BlockDevice must exist as that; "" only that it exists.
 */
export function prepareHostPath(volName: string, src: HostPathVolumeSource): string {
  const p = src.path;
  const type = src.type ?? '';
  const fail = (why: string): Error =>
    new Error(`MountVolume.SetUp failed for volume "${volName}" : hostPath type check failed: ${p} ${why}`);
  const st = fs.statSync(p, { throwIfNoEntry: false });
  switch (type) {
    case 'DirectoryOrCreate':
      if (!st) fs.mkdirSync(p, { recursive: true, mode: 0o755 });
      else if (!st.isDirectory()) throw fail('is not a directory');
      break;
    case 'FileOrCreate':
      if (!st) {
        fs.mkdirSync(path.dirname(p), { recursive: true });
        fs.writeFileSync(p, '', { mode: 0o644 });
      } else if (!st.isFile()) throw fail('is not a file');
      break;
    case 'Directory':
      if (!st?.isDirectory()) throw fail('is not a directory');
      break;
    case 'File':
      if (!st?.isFile()) throw fail('is not a file');
      break;
    case 'Socket':
      if (!st?.isSocket()) throw fail('is not a socket file');
      break;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw fail('is not a character device');
      break;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw fail('is not a block device');
      break;
    default:
      // no type: nothing is made; a missing path would fail the bind mount, so say it here
      if (!st) throw fail('does not exist');
  }
  return p;
}

/** the host path of a persistentVolumeClaim or ephemeral volume, or a ClaimVolumeError saying why not yet */
export async function claimVolumePath(pod: Pod, vol: Volume, sources: ClaimSources): Promise<string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const name = podVolumeClaimName(pod, vol)!;
  const processing = (why: string): ClaimVolumeError =>
    new ClaimVolumeError(
      `Unable to attach or mount volumes: unmounted volumes=[${vol.name}], unattached volumes=[], failed to process volumes=[${vol.name}]: error processing PVC ${ns}/${name}: ${why}`,
    );
  const claim = await sources.claim(ns, name);
  if (!claim)
    throw processing(`failed to fetch PVC from API server: persistentvolumeclaims "${name}" not found`);
  if (vol.ephemeral && !ephemeralClaimOwnedBy(pod, claim))
    throw processing(
      `PVC ${ns}/${name} was not created for pod ${ns}/${pod.metadata?.name ?? ''} (pod is not owner)`,
    );
  const pvName = claim.spec?.volumeName;
  if (!pvName || claim.status?.phase !== 'Bound') throw processing('PVC is not bound');
  const pv = await sources.persistentVolume(pvName);
  if (!pv)
    throw processing(`failed to fetch PV ${pvName} from API server: persistentvolumes "${pvName}" not found`);
  if (pv.spec?.claimRef?.uid && pv.spec.claimRef.uid !== claim.metadata?.uid)
    throw processing(`PV ${pvName} is not bound to this claim`);
  const node = sources.node();
  if (node && !volumeFitsNode(pv, node))
    throw new ClaimVolumeError(
      `MountVolume.NodeAffinity check failed for volume "${pvName}" : no matching NodeSelectorTerms`,
    );
  if (pv.spec?.hostPath) return prepareHostPath(vol.name, pv.spec.hostPath);
  if (pv.spec?.local) {
    const p = pv.spec.local.path;
    if (!fs.existsSync(p))
      throw new ClaimVolumeError(
        `MountVolume.NewMounter initialization failed for volume "${pvName}" : path "${p}" does not exist`,
      );
    return p;
  }
  const kind = Object.keys(pv.spec ?? {}).find((k) =>
    /(Disk|Store|nfs|iscsi|csi|rbd|cephfs|fc|glusterfs|cinder|flocker|azureFile|vsphereVolume|quobyte|portworxVolume|scaleIO|storageos|photonPersistentDisk|flexVolume)/.test(
      k,
    ),
  );
  throw new ClaimVolumeError(
    `MountVolume.SetUp failed for volume "${pvName}" : volume type ${kind ?? 'unknown'} is not supported by kubemu (hostPath and local PVs are)`,
  );
}

/** is every mount of this volume read-only (`persistentVolumeClaim.readOnly`)? */
export function claimReadOnly(vol: Volume): boolean {
  return vol.persistentVolumeClaim?.readOnly ?? false;
}
