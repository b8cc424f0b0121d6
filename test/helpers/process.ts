// Starts a kubemu component process from dist/ for a test, and stops it by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DIST } from './apiserver.js';
import { waitFor } from './wait.js';
import { stopChild } from '../../src/util/stop-child.js';

export { stopChild };

export interface ComponentProcess {
  child: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startComponent(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): ComponentProcess {
  let stderr = '';
  const child = spawn(process.execPath, [join(DIST, 'cmd', `${name}.js`), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, KUBEMU_LOG_LEVEL: process.env['KUBEMU_LOG_LEVEL'] ?? 'warn', ...env },
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
    if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
  });
  return {
    child,
    logs: () => stderr,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopChild(child, signal),
  };
}

/**
 * The first JSON log line of a component that mentions `marker` (its "ready" line, say), parsed; fails at once
 * when the process exits first, and after `ms`.
 */
export function waitForLogLine<T>(
  proc: { child: ChildProcess; logs(): string },
  marker: string,
  ms = 20_000,
): Promise<T> {
  return waitFor(
    `a log line "${marker}"`,
    () => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null)
        throw new Error(`exited before logging "${marker}": ${proc.logs()}`);
      const line = proc
        .logs()
        .split('\n')
        .find((l) => l.includes(marker));
      return Promise.resolve(line ? (JSON.parse(line) as T) : undefined);
    },
    ms,
    50,
  );
}
