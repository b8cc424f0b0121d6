import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { AccessLog, type AccessEntry } from './access-log.js';

function capture(level = 'info'): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  let text = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  const logger = pino({ level, base: { component: 'ingress', pid: 7 } }, sink).child({ log: 'access' });
  return {
    logger,
    lines: () =>
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const entry: AccessEntry = {
  method: 'GET',
  host: 'shop.example',
  path: '/sales?q="x"\\y',
  status: 200,
  upstream: '127.244.1.5:8080',
  duration: 1.234,
  requestId: 'abc',
  ingress: 'default/shop',
  service: 'default/sales',
  completed: true,
};

describe('access log', () => {
  it('writes the line pino would, fields escaped, in batches flushed on demand', () => {
    const { logger, lines } = capture();
    const log = new AccessLog(logger);
    log.write(entry);
    log.write({ ...entry, host: undefined, status: 404 });
    expect(lines()).toHaveLength(0);
    log.flush();
    const [a, b] = lines();
    expect(a).toMatchObject({
      level: 30,
      component: 'ingress',
      pid: 7,
      log: 'access',
      msg: 'access',
      ...entry,
    });
    expect(typeof a?.['time']).toBe('string');
    expect(Date.parse(a?.['time'] as string)).not.toBeNaN();
    expect(b).not.toHaveProperty('host');
    expect(b?.['status']).toBe(404);
  });

  it('writes nothing when the logger is above info', () => {
    const { logger, lines } = capture('warn');
    const log = new AccessLog(logger);
    log.write(entry);
    log.flush();
    expect(lines()).toHaveLength(0);
  });
});
