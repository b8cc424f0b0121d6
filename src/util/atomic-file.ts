// Crash-safe file writes: a temp file in the same directory, fsync'd, then renamed over the target.
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes `data` to `file` atomically with `mode` (default 0600, since most of what kubemu writes
 * holds keys or tokens). A symlinked target is followed, so the link itself survives.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  let target = file;
  try {
    target = realpathSync(file);
  } catch {
    // does not exist yet: write it where asked
  }
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', mode);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
