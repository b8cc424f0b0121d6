// An unprivileged user made by a test (rootless scenarios run as it through `runuser`), removed again afterwards.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export interface TestUser {
  name: string;
  uid: number;
  gid: number;
  /** removes the user, if this test made it */
  remove(): void;
}

/** Makes system user `name` (no home, no login shell) unless it exists; needs root, like every `useradd`. */
export function createTestUser(name: string): TestUser {
  const exists = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  let made = false;
  if (exists.status !== 0) {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    made = true;
  }
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return {
    name,
    uid,
    gid,
    remove: () => {
      if (made) spawnSync('userdel', [name], { stdio: 'ignore' });
    },
  };
}

/** `runuser -u USER -- argv`: argv as that user (from root), in `/` so no private directory is its cwd. */
export function asUser(
  user: TestUser | undefined,
  argv: string[],
): { file: string; args: string[]; cwd: string } {
  const all = user ? ['runuser', '-u', user.name, '--', ...argv] : argv;
  return { file: all[0], args: all.slice(1), cwd: '/' };
}

export interface SubordinateGrant {
  start: number;
  count: number;
  /** takes the lines out of /etc/subuid and /etc/subgid again */
  remove(): void;
}

/**
 * Gives `user` `count` subordinate uids and gids (`NAME:START:COUNT` in /etc/subuid and /etc/subgid, as `usermod
 * --add-subuids` would), after every range already there; needs root.
 */
export function grantSubordinateIds(user: TestUser, count = 65536): SubordinateGrant {
  const files = ['/etc/subuid', '/etc/subgid'];
  const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  let start = 100000;
  for (const f of files)
    for (const line of read(f).split('\n')) {
      const [, s, n] = line.split(':');
      if (s !== undefined && n !== undefined) start = Math.max(start, Number(s) + Number(n));
    }
  const line = `${user.name}:${start}:${count}`;
  for (const f of files) {
    const text = read(f);
    writeFileSync(f, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${line}\n`);
  }
  return {
    start,
    count,
    remove: () => {
      for (const f of files)
        writeFileSync(
          f,
          read(f)
            .split('\n')
            .filter((l) => l !== line)
            .join('\n'),
        );
    },
  };
}
