#!/usr/bin/env node
// kubemu's cloud load balancer: `node dist/cmd/cloud-lb.js --kubeconfig FILE [--pool 127.0.2.0/24] [--workers N]`.
import { parseArgs } from 'node:util';
import { DEFAULT_POOL, LoadBalancerController } from '../cloud-lb/index.js';
import { connectKubeClient } from '../client/index.js';
import { readKubeconfig } from '../util/kubeconfig.js';
import { createLogger } from '../util/logger.js';
import { runUntilSignal } from '../util/run.js';

export function cloudLbMain(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      pool: { type: 'string', default: DEFAULT_POOL },
      workers: { type: 'string', default: '4' },
    },
    strict: true,
  });
  const log = createLogger('cloud-lb');
  const kubeconfig = values.kubeconfig ?? process.env['KUBECONFIG'];
  if (!kubeconfig) {
    log.fatal('--kubeconfig is required');
    process.exit(2);
  }
  runUntilSignal(log, async () => {
    const creds = readKubeconfig(kubeconfig, values.context);
    const { client, connection } = connectKubeClient({
      server: creds.server,
      ...(creds.token ? { token: creds.token } : {}),
      ...(creds.caPem ? { ca: creds.caPem } : {}),
      logger: log,
    });
    const controller = new LoadBalancerController({
      client,
      pool: values.pool,
      workers: Number(values.workers),
      logger: log,
    });
    await controller.start();
    return {
      async close() {
        await controller.stop();
        await connection.close();
      },
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) cloudLbMain(process.argv.slice(2));
