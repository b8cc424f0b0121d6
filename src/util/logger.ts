// Structured logging for every process: pino, JSON to stderr, one child logger per component.
import { pino, type Logger } from 'pino';

export type { Logger };

const REDACT = [
  'token',
  'password',
  '*.token',
  '*.password',
  'headers.authorization',
  'req.headers.authorization',
  'object.data',
  'secret.data',
];

export function createLogger(component: string, level = process.env['KUBEMU_LOG_LEVEL'] ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { component, pid: process.pid },
      redact: { paths: REDACT, censor: '[REDACTED]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that writes nothing: for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
