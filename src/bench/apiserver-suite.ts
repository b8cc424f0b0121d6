// Benchmarks of the apiserver (issue: durable creates/s, watch latency, list latency), against a real process.
import { registerSuite } from './suites.js';
import type { BenchResult } from './report.js';
import { percentile, startBenchApiServer } from './apiserver-process.js';
import { measureApiServer, CREATES, WATCHERS, WATCH_EVENTS, WRITERS } from './apiserver-figures.js';

registerSuite('apiserver', async (): Promise<BenchResult[]> => {
  const server = await startBenchApiServer();
  try {
    const f = await measureApiServer(server);
    const note = `${f.delivered}/${WATCH_EVENTS * WATCHERS} deliveries; measured from the create request to receipt, so it includes the durable write`;
    return [
      {
        name: `durable creates over WebSocket (${WRITERS} writers, Pods)`,
        value: Math.round(f.createsPerSec),
        unit: 'creates/s',
        target: { op: '>=', value: 3000 },
      },
      {
        name: 'list 10,000 Pods, REST/JSON p99',
        value: percentile(f.restListMs, 99),
        unit: 'ms',
        target: { op: '<=', value: 500 },
      },
      { name: 'list 10,000 Pods, REST/JSON p50', value: percentile(f.restListMs, 50), unit: 'ms' },
      {
        name: 'list 10,000 Pods, WebSocket p99',
        value: percentile(f.wsListMs, 99),
        unit: 'ms',
        target: { op: '<=', value: 500 },
      },
      {
        name: `apiserver RSS with ${CREATES.toLocaleString('en')} Pods`,
        value: Math.round(f.rssMb),
        unit: 'MB',
      },
      { name: 'watch delivery to 100 watchers p50', value: percentile(f.watchMs, 50), unit: 'ms', note },
      {
        name: 'watch delivery to 100 watchers p99',
        value: percentile(f.watchMs, 99),
        unit: 'ms',
        target: { op: '<=', value: 50 },
        note,
      },
    ];
  } finally {
    await server.stop();
  }
});
