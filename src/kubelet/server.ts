// The kubelet's HTTPS endpoint: container logs for the apiserver (`kubectl logs`), the stats Summary API, healthz.
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { decodePodLogOptions, type PodLogOptions } from '../api/query-params.js';
import { createCertificateAuthority, issueCertificate } from '../util/pki.js';
import type { Logger } from '../util/logger.js';
import { readLogs, type ReadLogsOptions } from './runtime/logs.js';
import type { ContainerRecord, PodWorker } from './pod-worker.js';

export interface KubeletServerOptions {
  host: string;
  port: number;
  /** Bearer token callers must present (the kubelet's own credential, which the apiserver also knows). */
  token: string | undefined;
  findPod(namespace: string, name: string): PodWorker | undefined;
  summary(): unknown;
  log: Logger;
}

export interface KubeletServer {
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Which instance's log to serve, with upstream's validateContainerLogStatus rules and messages. */
export function logContainerID(rec: ContainerRecord, pod: string, previous: boolean): string {
  const name = rec.spec.name;
  const { state, lastState } = rec;
  if (previous) {
    if (!lastState.terminated?.containerID)
      throw new HttpError(400, `previous terminated container "${name}" in pod "${pod}" not found`);
    return lastState.terminated.containerID;
  }
  if (state.running && rec.containerID) return rec.containerID;
  if (state.terminated) {
    if (state.terminated.containerID) return state.terminated.containerID;
    if (lastState.terminated?.containerID) return lastState.terminated.containerID;
    throw new HttpError(400, `container "${name}" in pod "${pod}" is terminated`);
  }
  if (lastState.terminated) {
    if (!lastState.terminated.containerID)
      throw new HttpError(400, `container "${name}" in pod "${pod}" is terminated`);
    return lastState.terminated.containerID;
  }
  if (state.waiting) {
    const reason = state.waiting.reason;
    if (reason === 'ErrImagePull')
      throw new HttpError(
        400,
        `container "${name}" in pod "${pod}" is waiting to start: image can't be pulled`,
      );
    if (reason === 'ImagePullBackOff')
      throw new HttpError(
        400,
        `container "${name}" in pod "${pod}" is waiting to start: trying and failing to pull image`,
      );
    throw new HttpError(400, `container "${name}" in pod "${pod}" is waiting to start: ${reason}`);
  }
  throw new HttpError(400, `container "${name}" in pod "${pod}" is waiting to start - no logs yet`);
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  // Like upstream's kubelet without --tls-cert-file: a self-signed serving certificate made at start.
  const ca = await createCertificateAuthority(`${opts.host}-ca@${Math.floor(Date.now() / 1000)}`);
  const serving = await issueCertificate(ca, { commonName: opts.host, hosts: [opts.host] });
  const server = https.createServer(
    { cert: `${serving.certPem.trim()}\n${ca.certPem.trim()}\n`, key: serving.keyPem },
    (req, res) => {
      serve(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (!(err instanceof HttpError)) opts.log.error({ err }, 'kubelet server error');
        if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end((err as Error).message);
      });
    },
  );

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    if (url.pathname === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const auth = req.headers.authorization ?? '';
    const presented = auth.startsWith('Bearer ') ? auth.slice(7).trim() : '';
    if (opts.token !== undefined && !sameToken(presented, opts.token))
      throw new HttpError(401, 'Unauthorized');
    if (req.method !== 'GET') throw new HttpError(405, 'Method Not Allowed');
    if (url.pathname === '/stats/summary' || url.pathname === '/stats/summary/') {
      const body = JSON.stringify(opts.summary());
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      return;
    }
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (m)
      return serveLogs(
        req,
        res,
        url,
        decodeURIComponent(m[1]),
        decodeURIComponent(m[2]),
        decodeURIComponent(m[3]),
      );
    throw new HttpError(404, '404 page not found');
  };

  const serveLogs = async (
    _req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    namespace: string,
    podName: string,
    containerName: string,
  ): Promise<void> => {
    const worker = opts.findPod(namespace, podName);
    if (!worker) throw new HttpError(404, `pod "${podName}" does not exist`);
    const rec = worker.records().find((r) => r.spec.name === containerName);
    if (!rec) throw new HttpError(404, `container "${containerName}" not found in pod "${podName}"`);
    let logOptions: PodLogOptions;
    try {
      logOptions = decodePodLogOptions(url.searchParams);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    const containerID = logContainerID(rec, podName, logOptions.previous ?? false);
    const file = rec.logFiles.get(containerID);
    if (!file)
      throw new HttpError(400, `container "${containerName}" in pod "${podName}" has no logs on this node`);
    const abort = new AbortController();
    const live = rec.containerID === containerID && rec.process?.running === true;
    const options: ReadLogsOptions = { follow: (logOptions.follow ?? false) && live, signal: abort.signal };
    if (logOptions.tailLines !== undefined) options.tailLines = logOptions.tailLines;
    if (logOptions.sinceSeconds !== undefined) options.sinceSeconds = logOptions.sinceSeconds;
    if (logOptions.sinceTime) options.sinceTime = logOptions.sinceTime;
    if (logOptions.limitBytes !== undefined) options.limitBytes = logOptions.limitBytes;
    if (logOptions.timestamps) options.timestamps = true;
    if (options.follow && rec.process) options.until = rec.process.exited;
    if (!fs.existsSync(file))
      throw new HttpError(400, `container "${containerName}" in pod "${podName}" has no logs on this node`);
    const stream = readLogs(file, options);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.flushHeaders();
    await new Promise<void>((resolve) => {
      stream.once('error', (err) => {
        res.end(err.message);
        resolve();
      });
      // paced by the client: a slow `kubectl logs` of a 10 MiB file must not buffer it all here
      stream.on('data', (chunk: string | Buffer) => {
        if (!res.write(chunk)) {
          stream.pause();
          res.once('drain', () => stream.resume());
        }
      });
      stream.once('end', () => {
        res.end();
        resolve();
      });
      res.once('close', () => {
        abort.abort();
        stream.destroy();
        resolve();
      });
    });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const sockets = new Set<import('node:stream').Duplex>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
