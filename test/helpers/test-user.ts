// An unprivileged user made by a test (rootless scenarios run as it through `runuser`), removed again afterwards.
import { execFileSync, spawnSync } from 'node:child_process';

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
