// The pod's fsGroup on its volumes, as upstream's SetVolumeOwnership (pkg/volume/volume_linux.go): every file and
// directory of an emptyDir, configMap, secret, downwardAPI, projected or claimed volume gets the group fsGroup,
// group read (and write, unless the volume is read-only) and, on directories, group search and setgid, so files the
// containers make there belong to fsGroup too. hostPath volumes are left as they are, as upstream leaves them.
import fs from 'node:fs';
import path from 'node:path';
import type { Pod, Volume } from 'kubernetes-types/core/v1.js';
import { runInUserNamespace, type SubordinateIds } from './runtime/id-map.js';

const RW_MASK = 0o660;
const RO_MASK = 0o440;
const EXEC_MASK = 0o110;

/** the volumes upstream's plugins apply fsGroup to, and whether the plugin mounts them read-only */
function ownership(vol: Volume): { readOnly: boolean } | undefined {
  if (vol.configMap || vol.secret || vol.downwardAPI || vol.projected) return { readOnly: true };
  if (vol.emptyDir || vol.persistentVolumeClaim || vol.ephemeral) return { readOnly: false };
  return undefined;
}

async function changeFile(file: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const st = await fs.promises.lstat(file);
  await fs.promises.lchown(file, -1, fsGroup);
  if (st.isSymbolicLink()) return;
  let mask = readOnly ? RO_MASK : RW_MASK;
  if (st.isDirectory()) mask |= 0o2000 | EXEC_MASK;
  const mode = st.mode & 0o7777;
  if ((mode | mask) !== mode) await fs.promises.chmod(file, mode | mask);
}

/** Walks one volume's tree (without following symlinks). */
export async function setVolumeOwnership(dir: string, fsGroup: number, readOnly: boolean): Promise<void> {
  await changeFile(dir, fsGroup, readOnly);
  for (const entry of await fs.promises.readdir(dir, { withFileTypes: true, recursive: true })) {
    await changeFile(path.join(entry.parentPath, entry.name), fsGroup, readOnly);
  }
}

/**
 * The same as setVolumeOwnership for a rootless kubelet with subordinate ids (id-map.ts): fsGroup is a gid of the
 * containers' user namespace that the kubelet's user may not give files, but that namespace's root may. One shell
 * there: the group on everything, then the mode bits as changeFile sets them (u and g read/write, directories also
 * search and setgid; read, and search on directories, for a read-only volume).
 */
export function setVolumeOwnershipInUserNamespace(
  ids: SubordinateIds,
  dir: string,
  fsGroup: number,
  readOnly: boolean,
): Promise<void> {
  const dirs = readOnly ? 'ug+rx,g+s' : 'ug+rwx,g+s';
  const files = readOnly ? 'ug+r' : 'ug+rw';
  const script =
    'chgrp -hR "$1" "$2" && find "$2" -type d -exec chmod "$3" {} + && ' +
    'find "$2" -type f -exec chmod "$4" {} +';
  return runInUserNamespace(
    ids,
    ['/bin/sh', '-c', script, 'kubemu-fsgroup', String(fsGroup), dir, dirs, files],
    `chgrp ${fsGroup} in the user namespace`,
  );
}

/**
 * Applies the pod's fsGroup to each of its volumes that takes it; returns what failed (a kubelet that is not root
 * cannot give files another group), one message per volume.
 */
export async function applyFsGroup(
  pod: Pod,
  volumePaths: ReadonlyMap<string, string>,
  /** only the volumes the kubelet rewrites on its syncs (configMap, secret, downwardAPI, projected) */
  projectedOnly = false,
  /** a rootless kubelet's subordinate ids: the change is made in the containers' user namespace */
  ids?: SubordinateIds,
): Promise<string[]> {
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  if (fsGroup === undefined) return [];
  const failures: string[] = [];
  for (const vol of pod.spec?.volumes ?? []) {
    const how = ownership(vol);
    const dir = volumePaths.get(vol.name);
    if (!how || !dir || (projectedOnly && !how.readOnly)) continue;
    try {
      if (ids) await setVolumeOwnershipInUserNamespace(ids, dir, fsGroup, how.readOnly);
      else await setVolumeOwnership(dir, fsGroup, how.readOnly);
    } catch (err) {
      failures.push(
        `setting volume ownership for volume "${vol.name}" to fsGroup ${fsGroup}: ${(err as Error).message}`,
      );
    }
  }
  return failures;
}
