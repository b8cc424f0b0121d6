// measureApiServer from a worker thread of its own, started for one apiserver and ended after it: a fresh V8
// isolate (empty heap, nothing compiled yet) for every side of an A/B comparison. Measured from the bench's own
// thread, whatever the first side left behind (its client's compiled code, ~70 MB of heap it still holds)
// makes the second side's client faster or slower than the first's, and the client's decoding of a 20 MB
// list is more than half of the time a list takes.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { measureApiServer, type ApiServerFigures, type MeasuredApiServer } from './apiserver-figures.js';

type Reply = { figures: ApiServerFigures } | { error: string };

export async function measureApiServerInWorker(server: MeasuredApiServer): Promise<ApiServerFigures> {
  const target: MeasuredApiServer = { url: server.url, token: server.token, ca: server.ca, pid: server.pid };
  const worker = new Worker(new URL(import.meta.url), { workerData: target });
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      worker.once('message', (r: Reply) => resolve(r));
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the measuring worker exited with ${code}`)));
    });
    if ('error' in reply) throw new Error(reply.error);
    return reply.figures;
  } finally {
    await worker.terminate();
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  await measureApiServer(workerData as MeasuredApiServer).then(
    (figures) => port.postMessage({ figures } satisfies Reply),
    (e: unknown) =>
      port.postMessage({ error: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies Reply),
  );
}
