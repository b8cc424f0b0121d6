// Files only their owner may read: made 0600 (directories 0700) whatever the umask, and existing ones tightened.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** a directory (and missing parents) that only its owner may enter, also when it existed with a looser mode */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Makes `file` exist with mode 0600 before a library or another process opens it (SQLite, a log file pm2 appends
 * to): they keep the mode of a file that exists, and create one with whatever the umask gives.
 */
export function privateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
}
