#!/usr/bin/env node
// kube-scheduler for kubemu: `node dist/cmd/scheduler.js --kubeconfig FILE [--metrics-port N] [--scheduler-name NAME]`.
import { Scheduler } from '../scheduler/index.js';
import { METRICS_OPTIONS, runComponent } from '../util/component-main.js';
import {
  LEADER_ELECTION_OPTIONS,
  leaderElectionFlags,
  runWhenLeading,
} from '../util/leader-election-flags.js';

export function schedulerMain(argv: string[]): void {
  runComponent({
    name: 'scheduler',
    argv,
    options: {
      ...METRICS_OPTIONS,
      ...LEADER_ELECTION_OPTIONS,
      'scheduler-name': { type: 'string', default: 'default-scheduler' },
      workers: { type: 'string', default: '16' },
      'pod-initial-backoff-seconds': { type: 'string', default: '1' },
      'pod-max-backoff-seconds': { type: 'string', default: '10' },
    },
    check: (values) => leaderElectionFlags(values, 'kube-scheduler'),
    async start({ values, checked: leaderElection, logger: log, connect, serveMetrics }) {
      const { client } = connect();
      await serveMetrics();
      // upstream's scheduler waits to lead before it schedules anything (one Lease per scheduler name)
      return runWhenLeading({
        flags: leaderElection,
        client,
        logger: log,
        component: 'default-scheduler',
        async lead() {
          const scheduler = new Scheduler({
            client,
            logger: log,
            schedulerName: values['scheduler-name'],
            workers: Number(values.workers),
            initialBackoffMs: Number(values['pod-initial-backoff-seconds']) * 1000,
            maxBackoffMs: Number(values['pod-max-backoff-seconds']) * 1000,
          });
          await scheduler.start();
          return { close: () => scheduler.stop() };
        },
      });
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) schedulerMain(process.argv.slice(2));
