#!/usr/bin/env node
// kube-scheduler for kubemu: `node dist/cmd/scheduler.js --kubeconfig FILE [--metrics-port N] [--scheduler-name NAME]`.
import { Scheduler } from '../scheduler/index.js';
import { METRICS_OPTIONS, runComponent } from '../util/component-main.js';

export function schedulerMain(argv: string[]): void {
  runComponent({
    name: 'scheduler',
    argv,
    options: {
      ...METRICS_OPTIONS,
      'scheduler-name': { type: 'string', default: 'default-scheduler' },
      workers: { type: 'string', default: '16' },
      'pod-initial-backoff-seconds': { type: 'string', default: '1' },
      'pod-max-backoff-seconds': { type: 'string', default: '10' },
    },
    async start({ values, logger: log, connect, serveMetrics }) {
      const { client } = connect();
      const scheduler = new Scheduler({
        client,
        logger: log,
        schedulerName: values['scheduler-name'],
        workers: Number(values.workers),
        initialBackoffMs: Number(values['pod-initial-backoff-seconds']) * 1000,
        maxBackoffMs: Number(values['pod-max-backoff-seconds']) * 1000,
      });
      await serveMetrics();
      await scheduler.start();
      return { close: () => scheduler.stop() };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) schedulerMain(process.argv.slice(2));
