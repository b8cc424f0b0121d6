// The benchmarks' load generator: closed-loop keep-alive clients, each sending its next request on reply.
import type { ClientRequest } from 'node:http';
import { percentile } from './apiserver-process.js';

export interface LoadStats {
  /** requests answered okStatus (200 unless the caller says) */
  requests: number;
  /** other answers and failed requests */
  errors: number;
  /** answered okStatus per second */
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * `concurrency` loops, each sending a request made by `send` (already ended, on a keep-alive agent the caller
 * owns) and the next one on its reply, for `durationMs`; latencies of `okStatus` answers only.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  send: () => ClientRequest,
  /** the answer that counts as success (201 for creates) */
  okStatus = 200,
): Promise<LoadStats> {
  const latencies: number[] = [];
  let errors = 0;
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const req = send();
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === okStatus) latencies.push(performance.now() - t0);
          else errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) await once();
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    rps: (latencies.length * 1000) / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
