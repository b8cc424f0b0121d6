// What a kubelet keeps outside its root dir: its run dir (tmpfs) and its CPU cgroups. Its own start and close
// handle them; this is for cleaning up after one that died hard (`kubemu down`, tests).
import { kubeletInstanceName, kubeletRunDir } from '../util/run-dir.js';
import { CpuCgroups } from './runtime/cgroups.js';
import { removeTreeSync, subordinateIdsIfAny } from './runtime/id-map.js';

/** Removes the run dir and CPU cgroups of the kubelet whose root dir is `rootDir`. */
export function removeKubeletScratch(rootDir: string): void {
  // what a runAsUser container left there belongs to a subordinate id (id-map.ts)
  removeTreeSync(kubeletRunDir(rootDir), subordinateIdsIfAny());
  CpuCgroups.remove(kubeletInstanceName(rootDir));
}
