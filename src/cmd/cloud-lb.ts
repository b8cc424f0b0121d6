#!/usr/bin/env node
// kubemu's cloud load balancer: `node dist/cmd/cloud-lb.js --kubeconfig FILE [--pool 127.0.2.0/24] [--workers N]`.
import { DEFAULT_POOL, LoadBalancerController } from '../cloud-lb/index.js';
import { runComponent } from '../util/component-main.js';

export function cloudLbMain(argv: string[]): void {
  runComponent({
    name: 'cloud-lb',
    argv,
    options: {
      pool: { type: 'string', default: DEFAULT_POOL },
      workers: { type: 'string', default: '4' },
    },
    async start({ values, logger: log, connect }) {
      const { client } = connect();
      const controller = new LoadBalancerController({
        client,
        pool: values.pool,
        workers: Number(values.workers),
        logger: log,
      });
      await controller.start();
      return { close: () => controller.stop() };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) cloudLbMain(process.argv.slice(2));
