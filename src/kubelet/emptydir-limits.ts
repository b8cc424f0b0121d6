// The eviction manager's local-storage check for emptyDir volumes (upstream pkg/kubelet/eviction, emptyDirLimitEviction):
// an emptyDir using more than its sizeLimit gets its pod evicted. Sizes are read asynchronously, off the event loop.
import fs from 'node:fs';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, quantityValue } from '../api/schema/quantity.js';

/** bytes of the regular files under `dir` (links are not followed); 0 when it is gone */
export async function diskUsage(dir: string): Promise<number> {
  let entries: fs.Dirent[];
  try {
    entries = await fs.promises.readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const e of entries) {
    if (!e.isFile()) continue;
    try {
      total += (await fs.promises.lstat(path.join(e.parentPath, e.name))).size;
    } catch {
      // removed while we counted
    }
  }
  return total;
}

/** upstream's emptyDirMessageFmt */
export const emptyDirLimitMessage = (volume: string, limit: string): string =>
  `Usage of EmptyDir volume "${volume}" exceeds the limit "${limit}". `;

/** the first emptyDir of the pod whose usage exceeds its sizeLimit, with that limit as written */
export async function emptyDirOverLimit(
  pod: Pod,
  volumePaths: ReadonlyMap<string, string>,
): Promise<{ volume: string; limit: string } | undefined> {
  for (const vol of pod.spec?.volumes ?? []) {
    const limit = vol.emptyDir?.sizeLimit;
    if (limit === undefined) continue;
    const q = parseQuantity(String(limit));
    const dir = volumePaths.get(vol.name);
    if (!q || !dir) continue;
    const bytes = quantityValue(q);
    if (bytes <= 0) continue;
    if ((await diskUsage(dir)) > bytes) return { volume: vol.name, limit: String(limit) };
  }
  return undefined;
}
