// Command-line tools a test drives (openssl, curl): installed with apt-get when missing, so a fresh machine
// runs the test and a machine where installing fails fails it (never a skip).
import { execFileSync, spawnSync } from 'node:child_process';

const has = (command: string): boolean => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;

/** `[command, Debian package]` pairs; installs the packages of the missing commands, or throws. */
export function ensureCommands(wanted: [command: string, pkg: string][]): void {
  const missing = wanted.filter(([command]) => !has(command));
  if (missing.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { env, stdio: 'ignore', timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', ...missing.map(([, pkg]) => pkg)], {
    env,
    stdio: 'ignore',
    timeout: 600_000,
  });
  const still = missing.filter(([command]) => !has(command)).map(([command]) => command);
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}
