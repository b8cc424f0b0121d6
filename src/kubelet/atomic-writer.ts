// Atomic projection of a volume's files (configMap, secret, downwardAPI, projected): upstream's AtomicWriter
// (pkg/volume/util/atomic_writer.go). The files live in a timestamped directory `..2026_12_06_05_00_00.123456789`,
// `..data` points at it, and every top-level name is a symlink `name -> ..data/name`. An update writes a new
// timestamped directory and renames a `..data_tmp` symlink over `..data`, so a reader sees either the old set of
// files or the new one, never a mix; then the old directory goes.
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** A payload path the writer refuses (absolute, `..`, reserved `..name`, too long). */
export class InvalidPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPayloadError';
  }
}

const DATA_DIR = '..data';
const NEW_DATA_DIR = '..data_tmp';
const MAX_FILE_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/** upstream's validatePath: relative, no `..` element, no leading `..name`, name and path length limits */
export function validatePayloadPath(p: string): void {
  if (p === '') throw new InvalidPayloadError(`invalid path: must not be empty: ""`);
  if (path.posix.isAbsolute(p)) throw new InvalidPayloadError(`invalid path: must be relative path: ${p}`);
  if (p.length > MAX_PATH_LENGTH)
    throw new InvalidPayloadError(
      `invalid path: must be less than or equal to ${MAX_PATH_LENGTH} characters`,
    );
  const items = p.split('/');
  for (const item of items) {
    if (item === '..') throw new InvalidPayloadError(`invalid path: must not contain '..': ${p}`);
    if (item.length > MAX_FILE_NAME_LENGTH)
      throw new InvalidPayloadError(
        `invalid path: filenames must be less than or equal to ${MAX_FILE_NAME_LENGTH} characters`,
      );
  }
  if (items[0].startsWith('..') && items[0].length > 2)
    throw new InvalidPayloadError(`invalid path: must not start with '..': ${p}`);
}

/** `..2026_12_06_05_00_00.` + random digits, as Go's MkdirTemp makes it from upstream's UTC time prefix */
export function timestampDirPrefix(now: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return (
    `..${now.getUTCFullYear()}_${two(now.getUTCMonth() + 1)}_${two(now.getUTCDate())}_` +
    `${two(now.getUTCHours())}_${two(now.getUTCMinutes())}_${two(now.getUTCSeconds())}.`
  );
}

async function lstatOrUndefined(p: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function readlinkOrEmpty(p: string): Promise<string> {
  try {
    return await fs.promises.readlink(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // EINVAL: a plain file or directory where ..data should be (never written by us): treated as absent
    if (code === 'ENOENT' || code === 'EINVAL') return '';
    throw err;
  }
}

/** every path under dir, relative, files and directories alike (upstream walks the old version the same way) */
async function walk(dir: string): Promise<string[]> {
  try {
    const entries = await fs.promises.readdir(dir, { recursive: true });
    return entries.map(String);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Projects a set of files into one target directory; the caller serialises writes to the same directory. */
export class AtomicWriter {
  constructor(
    private readonly targetDir: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Writes the payload if anything differs from what is there; returns whether it wrote. */
  async write(payload: ReadonlyMap<string, FileProjection>): Promise<boolean> {
    // (1) validate and clean the paths
    const clean = new Map<string, FileProjection>();
    for (const [p, file] of payload) {
      validatePayloadPath(p);
      clean.set(path.posix.normalize(p).replace(/\/$/, ''), file);
    }
    await fs.promises.mkdir(this.targetDir, { recursive: true });
    // (2) the current timestamped directory
    const dataDirPath = path.join(this.targetDir, DATA_DIR);
    const oldTsDir = await readlinkOrEmpty(dataDirPath);
    const oldTsPath = oldTsDir ? path.join(this.targetDir, oldTsDir) : '';
    // (3) what the old version has that the new one does not, and (4) whether anything changed
    const pathsToRemove = new Set<string>();
    if (oldTsPath) {
      const keep = new Set<string>();
      for (const p of clean.keys())
        for (let sub = p; sub !== '.' && sub !== ''; sub = path.posix.dirname(sub)) keep.add(sub);
      for (const p of await walk(oldTsPath)) if (!keep.has(p)) pathsToRemove.add(p);
      if (pathsToRemove.size === 0 && !(await this.differs(clean, oldTsPath))) return false;
    } else {
      // No ..data: a fresh volume, or files an older kubemu wrote in place; those are replaced by the links.
      for (const name of await fs.promises.readdir(this.targetDir))
        if (!name.startsWith('..')) pathsToRemove.add(name);
    }
    // (5) a new timestamped directory, (6) the payload in it
    const tsDir = await this.newTimestampDir();
    const tsDirName = path.basename(tsDir);
    try {
      for (const [p, file] of clean) {
        const full = path.join(tsDir, p);
        await fs.promises.mkdir(path.dirname(full), { recursive: true, mode: 0o755 });
        await fs.promises.writeFile(full, file.data, { mode: file.mode });
        // writeFile's mode passes through the umask; the projection's mode is exact
        await fs.promises.chmod(full, file.mode);
      }
      // (8) ..data_tmp -> the new directory, (9) renamed over ..data: the atomic switch
      const newDataDirPath = path.join(this.targetDir, NEW_DATA_DIR);
      await fs.promises.rm(newDataDirPath, { force: true });
      await fs.promises.symlink(tsDirName, newDataDirPath);
      await fs.promises.rename(newDataDirPath, dataDirPath);
    } catch (err) {
      await fs.promises.rm(tsDir, { recursive: true, force: true });
      throw err;
    }
    // (10) the user-visible links for new top-level names
    const topLevel = new Set([...clean.keys()].map((p) => p.split('/')[0]));
    for (const name of topLevel) await this.ensureVisibleLink(name);
    // (11) names the payload no longer has; only top-level entries are links, the rest went with the old directory
    for (const p of pathsToRemove)
      if (!p.includes('/') && !topLevel.has(p))
        await fs.promises.rm(path.join(this.targetDir, p), { recursive: true, force: true });
    // (12) the previous timestamped directory
    if (oldTsPath) await fs.promises.rm(oldTsPath, { recursive: true, force: true });
    return true;
  }

  private async differs(payload: ReadonlyMap<string, FileProjection>, oldTsPath: string): Promise<boolean> {
    for (const [p, file] of payload) {
      const full = path.join(oldTsPath, p);
      const st = await lstatOrUndefined(full);
      if (!st?.isFile() || (st.mode & 0o7777) !== file.mode) return true;
      if (!(await fs.promises.readFile(full)).equals(file.data)) return true;
    }
    return false;
  }

  private async newTimestampDir(): Promise<string> {
    const prefix = timestampDirPrefix(this.now());
    for (;;) {
      const dir = path.join(this.targetDir, `${prefix}${randomInt(1_000_000_000, 4_294_967_295)}`);
      try {
        await fs.promises.mkdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      // 0755 whatever the umask: group and other must be able to reach the files
      await fs.promises.chmod(dir, 0o755);
      return dir;
    }
  }

  /** `name -> ..data/name`; whatever else stands at that name (an older kubemu's plain file) is replaced atomically */
  private async ensureVisibleLink(name: string): Promise<void> {
    const visible = path.join(this.targetDir, name);
    const want = path.posix.join(DATA_DIR, name);
    const st = await lstatOrUndefined(visible);
    if (st?.isSymbolicLink() && (await fs.promises.readlink(visible)) === want) return;
    if (st?.isDirectory()) await fs.promises.rm(visible, { recursive: true, force: true });
    const tmp = path.join(this.targetDir, `..${name.slice(0, 200)}.link_tmp`);
    await fs.promises.rm(tmp, { force: true });
    await fs.promises.symlink(want, tmp);
    await fs.promises.rename(tmp, visible);
  }
}
