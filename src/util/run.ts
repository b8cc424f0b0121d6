// The shared shape of every process entry point: build, run until a signal, exit non-zero on failure.
import type { Logger } from './logger.js';

export interface Stoppable {
  close(): Promise<void>;
}

/** Exit with `code` once the logger has written what it holds (pino's destination is asynchronous). */
function exitAfterFlush(log: Logger, code: number): void {
  const exit = (): never => process.exit(code);
  setTimeout(exit, 1_000);
  try {
    log.flush(() => exit());
  } catch {
    // a logger without flush: the timer exits
  }
}

/** Run `start`, then wait for SIGINT/SIGTERM and close what it returned; exit 1 if start fails. */
export function runUntilSignal(log: Logger, start: () => Promise<Stoppable>): void {
  let running: Stoppable | undefined;
  let stopping = false;
  let failing = false;
  const fail = (fields: Record<string, unknown>, why: string): void => {
    if (failing || stopping) return;
    failing = true;
    log.fatal(fields, why);
    exitAfterFlush(log, 1);
  };
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
  // A component runs until told to stop. Were its last handle to go (a connection given up, a listener closed),
  // Node would end the process with status 0 and no word, which a supervisor takes for a clean stop and leaves be:
  // say so, and exit non-zero so that pm2 or `kubemu up --foreground` starts it again.
  process.on('beforeExit', () =>
    fail({}, 'nothing is left to keep the component running (no connection, listener or timer); exiting'),
  );
  process.on('uncaughtException', (err) =>
    fail({ err: { message: err.message, stack: err.stack } }, 'uncaught exception; exiting'),
  );
  process.on('unhandledRejection', (reason) =>
    fail(
      { err: reason instanceof Error ? { message: reason.message, stack: reason.stack } : reason },
      'unhandled promise rejection; exiting',
    ),
  );
  start().then(
    (r) => {
      running = r;
    },
    (err: unknown) =>
      fail(
        { err: err instanceof Error ? { message: err.message, stack: err.stack } : err },
        'failed to start',
      ),
  );
}
