// Stopping a child process we started: `signal` to it (by its PID), SIGKILL after a grace period.
import type { ChildProcess } from 'node:child_process';

/** `signal` to a child (by its PID), SIGKILL after `graceMs`; resolves once it has exited */
export function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 5000,
): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill(signal);
  });
}
