// GET /healthz from a worker thread of its own, so what the bench itself does meanwhile (decoding 80 MB answers,
// say) does not count against the apiserver's latency: one request after another (closed loop), or one every
// interval whether or not the earlier ones were answered (open loop).
import { Agent, request } from 'node:https';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

interface ProbeTarget {
  url: string;
  ca: string;
}

interface ProbeData extends ProbeTarget {
  /** open loop: a probe every intervalMs, its latency from when it was due; closed loop when absent */
  openLoopIntervalMs?: number;
}

export interface OpenLoopResult {
  /** ms from when each probe was due to its answer (or its failure), in order of answer */
  latencies: number[];
  /** probes that failed (connection reset, ...): their time counts as a latency too */
  errors: string[];
}

function startWorker<T>(data: ProbeData): { stop(): Promise<T> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: data });
  const result = new Promise<T>((resolve, reject) => {
    worker.once('message', (r: T) => resolve(r));
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const r = await result;
      await worker.terminate();
      return r;
    },
  };
}

/** Probe `/healthz` one request after another until `stop()`; resolves the latencies in ms, sorted. */
export function startHealthzProbe(target: ProbeTarget): { stop(): Promise<number[]> } {
  const probe = startWorker<number[]>({ url: target.url, ca: target.ca });
  return { stop: async () => (await probe.stop()).sort((a, b) => a - b) };
}

/**
 * Probe `/healthz` every `intervalMs` whether or not the earlier probes were answered (a probe waiting on the one
 * before it would count a 90 s stall as one slow sample) until `stop()`, which waits for the probes in flight.
 */
export function startOpenLoopHealthzProbe(
  target: ProbeTarget,
  intervalMs: number,
): { stop(): Promise<OpenLoopResult> } {
  return startWorker<OpenLoopResult>({ url: target.url, ca: target.ca, openLoopIntervalMs: intervalMs });
}

function healthzOnce(target: ProbeTarget, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(`${target.url}/healthz`, { agent, ca: target.ca }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function probe(target: ProbeTarget): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let stopped = false;
  parentPort!.once('message', () => (stopped = true));
  const times: number[] = [];
  while (!stopped) {
    times.push(await healthzOnce(target, agent));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  agent.destroy();
  parentPort!.postMessage(times);
}

async function openLoop(target: ProbeTarget, intervalMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  let stopped = false;
  parentPort!.once('message', () => (stopped = true));
  const result: OpenLoopResult = { latencies: [], errors: [] };
  const inflight = new Set<Promise<void>>();
  while (!stopped) {
    const due = performance.now();
    const answered = healthzOnce(target, agent).then(
      () => void result.latencies.push(performance.now() - due),
      (e: Error) => {
        result.latencies.push(performance.now() - due);
        result.errors.push(e.message);
      },
    );
    inflight.add(answered);
    void answered.then(() => inflight.delete(answered));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  await Promise.all(inflight);
  agent.destroy();
  parentPort!.postMessage(result);
}

if (!isMainThread && parentPort) {
  const data = workerData as ProbeData;
  if (data.openLoopIntervalMs !== undefined) await openLoop(data, data.openLoopIntervalMs);
  else await probe(data);
}
