// The shared shape of every process entry point: build, run until a signal, exit non-zero on failure.
import type { Logger } from './logger.js';

export interface Stoppable {
  close(): Promise<void>;
}

/** Run `start`, then wait for SIGINT/SIGTERM and close what it returned; exit 1 if start fails. */
export function runUntilSignal(log: Logger, start: () => Promise<Stoppable>): void {
  let running: Stoppable | undefined;
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const done = running ? running.close() : Promise.resolve();
    const force = setTimeout(() => process.exit(0), 5_000);
    force.unref();
    done.then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  start().then(
    (r) => {
      running = r;
    },
    (err: unknown) => {
      log.fatal(
        { err: err instanceof Error ? { message: err.message, stack: err.stack } : err },
        'failed to start',
      );
      // give pino's async destination a moment to flush
      setTimeout(() => process.exit(1), 100);
    },
  );
}
