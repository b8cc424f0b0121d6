#!/usr/bin/env node
// The apiserver endpoint of an HA control plane: `node dist/cmd/apiserver-lb.js --listen 127.0.0.1:6443
// --backend 127.0.0.1:P1 --backend 127.0.0.1:P2 ... --ca-file CA.crt` (src/util/tcp-balancer.ts says how it balances).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { durationFlag } from '../util/component-main.js';
import { createLogger } from '../util/logger.js';
import { runUntilSignal } from '../util/run.js';
import { TcpBalancer, type BalancerBackend } from '../util/tcp-balancer.js';

/** `127.0.0.1:6443` → host and port; a clear error for anything else */
export function hostPort(flag: string, text: string): BalancerBackend {
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new TypeError(`--${flag} ${JSON.stringify(text)}: expected HOST:PORT such as 127.0.0.1:6443`);
  return { host, port };
}

export function apiserverLbMain(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      listen: { type: 'string', default: '127.0.0.1:6443' },
      backend: { type: 'string', multiple: true, default: [] },
      'ca-file': { type: 'string' },
      'check-interval': { type: 'string', default: '500ms' },
      'check-timeout': { type: 'string', default: '1500ms' },
      fall: { type: 'string', default: '2' },
      rise: { type: 'string', default: '2' },
    },
    strict: true,
  });
  const log = createLogger('apiserver-lb');
  let opts;
  try {
    if (!values['ca-file']) throw new TypeError('--ca-file is required (the CA of the apiservers)');
    if (values.backend.length === 0)
      throw new TypeError('--backend HOST:PORT is required (one per apiserver)');
    const count = (flag: 'fall' | 'rise'): number => {
      const n = Number(values[flag]);
      if (!Number.isInteger(n) || n < 1)
        throw new TypeError(`--${flag} ${JSON.stringify(values[flag])}: expected a count ≥ 1`);
      return n;
    };
    opts = {
      ...hostPort('listen', values.listen),
      backends: values.backend.map((b) => hostPort('backend', b)),
      caPem: readFileSync(values['ca-file'], 'utf8'),
      intervalMs: durationFlag('check-interval', values['check-interval']),
      timeoutMs: durationFlag('check-timeout', values['check-timeout']),
      fall: count('fall'),
      rise: count('rise'),
    };
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(2);
  }
  runUntilSignal(log, async () => {
    const lb = new TcpBalancer({ ...opts, logger: log });
    await lb.listen();
    log.info(
      { listen: `${opts.host}:${lb.port}`, backends: opts.backends.map((b) => `${b.host}:${b.port}`) },
      'balancing the apiservers',
    );
    return { close: () => lb.close() };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) apiserverLbMain(process.argv.slice(2));
