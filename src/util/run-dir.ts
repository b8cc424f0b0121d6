// Where a kubelet keeps its containers' scratch (private root skeleton, fstab, /tmp, overlay layers): on tmpfs when
// the machine has one, as containerd keeps its bundles under /run. On a disk filesystem the dozen directory
// operations of every container start cost milliseconds each under load (ext4's journal), and a burst of pods
// queues behind them; on tmpfs they cost microseconds.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const SHM = '/dev/shm';
/** a smaller tmpfs (Docker gives containers 64 MiB) would fill up with containers' /tmp: use the disk then */
const MIN_SHM_BYTES = 1024 ** 3;

/**
 * The run dir of the kubelet whose root dir is `rootDir`: `/dev/shm/kubemu-<hash of rootDir>` when /dev/shm is a
 * writable directory of at least 1 GiB, else `<rootDir>/run`. The same root dir always gives the same run dir, so `kubemu down`
 * and a restarted kubelet find what an earlier one left.
 */
export function kubeletRunDir(rootDir: string, shm = SHM): string {
  if (writableDir(shm)) return path.join(shm, kubeletInstanceName(rootDir));
  return path.join(path.resolve(rootDir), 'run');
}

/** `kubemu-<hash of the absolute root dir>`: names what belongs to one node on this machine (run dir, cgroup). */
export function kubeletInstanceName(rootDir: string): string {
  return `kubemu-${createHash('sha256').update(path.resolve(rootDir)).digest('hex').slice(0, 16)}`;
}

function writableDir(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.X_OK);
    const size = fs.statfsSync(dir);
    return fs.statSync(dir).isDirectory() && size.blocks * size.bsize >= MIN_SHM_BYTES;
  } catch {
    return false;
  }
}
