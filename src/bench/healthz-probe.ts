// GET /healthz one request after another from a worker thread of its own, so what the bench itself does meanwhile
// (decoding 80 MB answers, say) does not count against the apiserver's latency.
import { Agent, request } from 'node:https';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

interface ProbeTarget {
  url: string;
  ca: string;
}

/** Probe `/healthz` until `stop()`; resolves the latencies in ms, sorted. */
export function startHealthzProbe(target: ProbeTarget): { stop(): Promise<number[]> } {
  const worker = new Worker(new URL(import.meta.url), { workerData: { url: target.url, ca: target.ca } });
  const result = new Promise<number[]>((resolve, reject) => {
    worker.once('message', (times: number[]) => resolve(times.sort((a, b) => a - b)));
    worker.once('error', reject);
  });
  return {
    stop: async () => {
      worker.postMessage('stop');
      const times = await result;
      await worker.terminate();
      return times;
    },
  };
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

if (!isMainThread && parentPort) await probe(workerData as ProbeTarget);
