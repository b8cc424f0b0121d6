// Where `emptyDir.medium: Memory` volumes really are. kubemu keeps them in the kubelet's run dir, which is on tmpfs when
// /dev/shm is a writable tmpfs of at least 1 GiB (src/util/run-dir.ts) and on the node's disk otherwise. Upstream's
// kubelet mounts a tmpfs for each such volume and fails the mount when it cannot; kubemu falls back to disk instead,
// and says so: a log line when the kubelet starts and a Warning event on every pod with such a volume.
import fs from 'node:fs';
import type { Pod } from 'kubernetes-types/core/v1.js';

/** statfs f_type of the filesystems whose files live in memory */
const TMPFS_MAGIC = 0x01021994;
const RAMFS_MAGIC = 0x858458f6;

/** the event's reason */
export const MEMORY_MEDIUM_ON_DISK = 'MemoryMediumOnDisk';

/** Is `dir` on tmpfs (or ramfs)? `statfs` is injectable for tests. */
export function isMemoryBacked(
  dir: string,
  statfs: (dir: string) => { type: number } = fs.statfsSync,
): boolean {
  try {
    const { type } = statfs(dir);
    return type === TMPFS_MAGIC || type === RAMFS_MAGIC;
  } catch {
    return false;
  }
}

/** why Memory volumes are on disk on this node, for the log line and the events */
export const memoryOnDiskReason = (runDir: string): string =>
  `the kubelet's run dir ${runDir} is not on tmpfs (kubemu uses /dev/shm when it is a writable tmpfs of at least 1 GiB)`;

/** one Warning per `medium: Memory` emptyDir of the pod, when such volumes are on disk on this node (`why`) */
export function memoryOnDiskWarnings(pod: Pod, why: string): { volume: string; message: string }[] {
  return (pod.spec?.volumes ?? [])
    .filter((v) => v.emptyDir?.medium === 'Memory')
    .map((v) => ({
      volume: v.name,
      message: `emptyDir volume "${v.name}" has medium Memory but is on the node's disk: ${why}`,
    }));
}
