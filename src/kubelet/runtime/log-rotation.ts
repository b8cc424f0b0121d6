// Container log rotation as upstream's container log manager does it: `N.log` is renamed `N.log.<YYYYMMDD-hhmmss>`,
// the rotated files but the newest are gzipped (`.gz`), and at most containerLogMaxFiles files exist per container.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Logger } from '../../util/logger.js';

/** KubeletConfiguration's containerLogMaxSize (bytes) and containerLogMaxFiles. */
export interface LogRotationPolicy {
  /** a log file reaching this size is rotated; negative turns rotation off (upstream's stub manager) */
  maxSize: number;
  /** the most files one container instance may have (the current one included); at least 2 */
  maxFiles: number;
}

/** Upstream's defaults: 10Mi × 5. */
export const DEFAULT_LOG_ROTATION: LogRotationPolicy = { maxSize: 10 * 1024 * 1024, maxFiles: 5 };

const COMPRESS_SUFFIX = '.gz';
const TMP_SUFFIX = '.tmp';
// `.20240501-100000`, `.20240501-100000.1` when a second rotation falls in the same second, then `.gz` or `.tmp`
const ROTATED = /^\.(\d{8}-\d{6})(?:\.(\d+))?(\.gz|\.tmp)?$/;

/** Checks a policy as upstream's NewContainerLogManager does; the message names the field. */
export function validateLogRotation(policy: LogRotationPolicy): string | undefined {
  if (!Number.isInteger(policy.maxFiles) || policy.maxFiles <= 1)
    return `invalid containerLogMaxFiles ${policy.maxFiles}, must be > 1`;
  if (!Number.isFinite(policy.maxSize)) return `invalid containerLogMaxSize ${policy.maxSize}`;
  return undefined;
}

/** Go's "20060102-150405" in local time, as upstream's rotateLatestLog names the rotated file. */
export function rotationStamp(d: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return (
    `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}-` +
    `${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`
  );
}

interface RotatedFile {
  path: string;
  stamp: string;
  seq: number;
  suffix: string;
}

/** The files rotated from `file` (`.tmp` leftovers included), oldest first. */
function listRotated(file: string): RotatedFile[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: RotatedFile[] = [];
  for (const name of names) {
    if (!name.startsWith(base)) continue;
    const m = ROTATED.exec(name.slice(base.length));
    if (!m) continue;
    out.push({ path: path.join(dir, name), stamp: m[1], seq: Number(m[2] ?? 0), suffix: m[3] ?? '' });
  }
  return out.sort((a, b) => (a.stamp < b.stamp ? -1 : a.stamp > b.stamp ? 1 : a.seq - b.seq));
}

/** Every rotated log of `file` still in use, oldest first, then `file` itself (upstream's GetAllLogs). */
export function allLogs(file: string): string[] {
  const rotated = listRotated(file);
  const names = new Set(rotated.map((r) => r.path));
  const inUse = rotated.filter(
    (r) => r.suffix !== TMP_SUFFIX && !(r.suffix === '' && names.has(r.path + COMPRESS_SUFFIX)),
  );
  return [...inUse.map((r) => r.path), file];
}

/**
 * Rotates one container instance's log file. `rotate()` is synchronous (two renames' worth of work, done by the
 * writer when the file is full, so the file never outgrows maxSize); compression runs after it, off the event loop,
 * one file at a time.
 */
export class LogRotator {
  private compressing: string | undefined;
  /** the file being compressed was removed meanwhile: drop the result */
  private compressCancelled = false;
  private queue: Promise<void> = Promise.resolve();
  private lastStamp = '';
  private seq = 0;

  constructor(
    readonly file: string,
    readonly policy: LogRotationPolicy,
    private readonly log?: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Renames the current file aside (the writer then opens a new one) and keeps at most maxFiles files. */
  rotate(): string {
    const stamp = rotationStamp(this.now());
    this.seq = stamp === this.lastStamp ? this.seq + 1 : 0;
    this.lastStamp = stamp;
    let rotated = `${this.file}.${stamp}${this.seq ? `.${this.seq}` : ''}`;
    // a rotation within the same second as one before this writer (a restarted kubelet): next free number
    while (fs.existsSync(rotated) || fs.existsSync(rotated + COMPRESS_SUFFIX))
      rotated = `${this.file}.${stamp}.${++this.seq}`;
    fs.renameSync(this.file, rotated);
    this.removeExcess();
    this.queue = this.queue.then(() => this.compressOlder());
    return rotated;
  }

  /** Resolves once the compressions asked for so far are done. */
  idle(): Promise<void> {
    return this.queue;
  }

  /** Upstream keeps maxFiles-1 rotated files besides the current one: the oldest go first. */
  private removeExcess(): void {
    const rotated = listRotated(this.file);
    const names = new Set(rotated.map((r) => r.path));
    const inUse: RotatedFile[] = [];
    for (const r of rotated) {
      // a leftover of a compression, or a file already compressed: unused (unless being compressed right now)
      const unused = r.suffix === TMP_SUFFIX || (r.suffix === '' && names.has(r.path + COMPRESS_SUFFIX));
      if (!unused) inUse.push(r);
      else if (r.path !== this.compressing && r.path !== this.compressing + TMP_SUFFIX) this.remove(r.path);
    }
    const excess = inUse.length - (this.policy.maxFiles - 1);
    for (const r of inUse.slice(0, Math.max(0, excess))) {
      if (r.path === this.compressing) this.compressCancelled = true;
      this.remove(r.path);
    }
  }

  private remove(file: string): void {
    try {
      fs.unlinkSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log?.warn({ err, file }, 'failed to remove an old container log');
    }
  }

  /** gzips every rotated file but the newest (which a reader following the log may still be finishing). */
  private async compressOlder(): Promise<void> {
    for (;;) {
      const plain = listRotated(this.file).filter((r) => r.suffix === '');
      const next = plain.slice(0, -1)[0];
      if (!next || !(await this.compress(next.path))) return;
    }
  }

  /** false when it failed (logged; the file stays as it is and the next rotation tries again) */
  private async compress(file: string): Promise<boolean> {
    const tmp = file + TMP_SUFFIX;
    this.compressing = file;
    this.compressCancelled = false;
    try {
      await pipeline(fs.createReadStream(file), createGzip(), fs.createWriteStream(tmp, { mode: 0o640 }));
      // removed meanwhile: too many rotations while it was compressed, or the pod's logs deleted with the pod
      if (this.compressCancelled || !fs.existsSync(file)) {
        this.remove(tmp);
        return true;
      }
      await fs.promises.rename(tmp, file + COMPRESS_SUFFIX);
      await fs.promises.rm(file, { force: true });
      return true;
    } catch (err) {
      this.remove(tmp);
      // removed before it was opened: nothing to do
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
      this.log?.warn({ err, file }, 'failed to compress a rotated container log');
      return false;
    } finally {
      this.compressing = undefined;
    }
  }
}
