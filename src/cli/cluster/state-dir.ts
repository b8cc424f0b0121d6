// The state dir is the cluster's secrets (tokens, keys, every Secret in state.db): only the user may read it.
import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, privateDir } from '../../util/private-files.js';

/** umask for `kubemu up` and the processes it starts: new files 0600, new directories 0700 */
export const STATE_UMASK = 0o077;

/**
 * Whatever the state dir's prior mode and the umask: the dir and everything kubemu keeps in it are made 0700
 * (directories) and 0600 (files, sockets). Symlinks are never followed. What belongs to pods is left as the pods
 * have it (a volume's files keep their defaultMode, containers' scratch its own modes): `nodes/<node>/pods` and
 * `nodes/<node>/run` are made 0700 themselves, which keeps everyone else out of what is below them.
 */
export function secureStateDir(stateDir: string): void {
  privateDir(stateDir);
  tightenTree(stateDir);
  privateDir(join(stateDir, 'nodes'));
}

/** `dir`'s directories 0700 and files 0600, below it and pod data excepted; symlinks are not followed */
export function tightenTree(dir: string): void {
  tighten(dir, []);
}

function tighten(dir: string, rel: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const at = [...rel, entry.name];
    if (entry.isSymbolicLink()) continue;
    try {
      if (entry.isDirectory()) {
        chmodSync(path, PRIVATE_DIR_MODE);
        if (!isPodData(at)) tighten(path, at);
      } else if (lstatSync(path).isFile() || entry.isSocket()) chmodSync(path, PRIVATE_FILE_MODE);
    } catch (err) {
      // gone meanwhile (a pm2 pid file, a log rotated): nothing to tighten
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/** `nodes/<node>/pods` and `nodes/<node>/run`: pods' volumes and containers' scratch */
function isPodData(rel: string[]): boolean {
  return rel.length === 3 && rel[0] === 'nodes' && (rel[2] === 'pods' || rel[2] === 'run');
}
