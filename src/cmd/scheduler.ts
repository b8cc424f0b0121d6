#!/usr/bin/env node
// kube-scheduler for kubemu: `node dist/cmd/scheduler.js --kubeconfig FILE [--metrics-port N] [--scheduler-name NAME]`.
import { parseArgs } from 'node:util';
import { connectKubeClient } from '../client/index.js';
import { Scheduler } from '../scheduler/index.js';
import { readKubeconfig } from '../util/kubeconfig.js';
import { createLogger } from '../util/logger.js';
import { serveMetrics, type MetricsServer } from '../util/metrics.js';
import { runUntilSignal } from '../util/run.js';

export function schedulerMain(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string', default: '127.0.0.1' },
      'scheduler-name': { type: 'string', default: 'default-scheduler' },
      workers: { type: 'string', default: '16' },
      'pod-initial-backoff-seconds': { type: 'string', default: '1' },
      'pod-max-backoff-seconds': { type: 'string', default: '10' },
    },
    strict: true,
  });
  const log = createLogger('scheduler');
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
    const scheduler = new Scheduler({
      client,
      logger: log,
      schedulerName: values['scheduler-name'],
      workers: Number(values.workers),
      initialBackoffMs: Number(values['pod-initial-backoff-seconds']) * 1000,
      maxBackoffMs: Number(values['pod-max-backoff-seconds']) * 1000,
    });
    let metrics: MetricsServer | undefined;
    if (values['metrics-port'] !== undefined) {
      metrics = await serveMetrics(Number(values['metrics-port']), values['metrics-host']);
      log.info({ port: metrics.port }, 'serving /metrics');
    }
    await scheduler.start();
    return {
      async close() {
        await scheduler.stop();
        await metrics?.close();
        await connection.close();
      },
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) schedulerMain(process.argv.slice(2));
