// Command-line tools a test drives (openssl, curl): installed with apt-get when missing, so a fresh machine
// runs the test and a machine where installing fails fails it (never a skip).
import { execFileSync, spawnSync } from 'node:child_process';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/**
 * `apt-get ARGS` as the test setups run it: serialised across the suite's parallel files by a lock file (two
 * dpkg runs at once fail), and — when the test runner put this file in a network namespace of its own
 * (`scripts/test.mjs` sets KUBEMU_TEST_HOST_NETNS) — run in the host's network namespace, where Debian's
 * mirror is reachable. Returns the argv to execute.
 */
export function aptGetArgv(args: string[]): [string, string[]] {
  const apt = ['flock', '-w', '900', '/var/lock/kubemu-test-apt', 'apt-get', ...args];
  const hostNetns = process.env.KUBEMU_TEST_HOST_NETNS;
  const argv = hostNetns ? ['nsenter', `--net=${hostNetns}`, ...apt] : apt;
  return [argv[0], argv.slice(1)];
}

export const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

/** `apt-get ARGS` (see aptGetArgv), synchronously; throws on failure. */
export function aptGet(args: string[], timeoutMs: number): void {
  const [file, argv] = aptGetArgv(args);
  execFileSync(file, argv, { env: APT_ENV, stdio: 'ignore', timeout: timeoutMs });
}

/** `[command, Debian package]` pairs; installs the packages of the missing commands, or throws. */
export function ensureCommands(wanted: [command: string, pkg: string][]): void {
  const missing = wanted.filter(([command]) => !has(command));
  if (missing.length === 0) return;
  aptGet(['update'], 300_000);
  aptGet(['install', '-y', ...missing.map(([, pkg]) => pkg)], 600_000);
  const still = missing.filter(([command]) => !has(command)).map(([command]) => command);
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}
