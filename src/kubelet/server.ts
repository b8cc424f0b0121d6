// The kubelet's HTTPS endpoint: container logs for the apiserver (`kubectl logs`), the stats Summary API, healthz,
// and the streaming endpoints (exec, port-forward) as upgraded connections.
// Callers authenticate and are authorized as upstream's kubelet does in webhook mode (server-auth.ts): an x509 client
// certificate of the --client-ca-file or a bearer token (TokenReview), then a SubjectAccessReview.
import fs from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePodLogOptions, type PodLogOptions } from '../api/query-params.js';
import { createCertificateAuthority, issueCertificate, type CertificateAndKey } from '../util/pki.js';
import { KubeletAuth } from './server-auth.js';
import type { Logger } from '../util/logger.js';
import { readLogs, type ReadLogsOptions } from './runtime/logs.js';
import type { ContainerRecord, PodWorker } from './pod-worker.js';

export interface KubeletServerOptions {
  host: string;
  port: number;
  /**
   * The serving certificate and key (upstream's --tls-cert-file/--tls-private-key-file), signed by the cluster CA
   * for the node's addresses; without them a self-signed one is made, which the apiserver will not trust.
   */
  tls?: CertificateAndKey;
  /**
   * CA bundle that callers' client certificates must chain to (upstream's --client-ca-file); without it no caller
   * authenticates and everything but /healthz answers 401.
   */
  clientCaPem?: string;
  /** who may call (default: client certificates of clientCaPem, system:masters only; no token reviews) */
  auth?: KubeletAuth;
  findPod(namespace: string, name: string): PodWorker | undefined;
  summary(): unknown;
  /** upgraded connections: exec, attach, port-forward (streaming/server.ts) */
  onUpgrade?: (req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => void;
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

/** Like upstream's kubelet without --tls-cert-file: a self-signed serving certificate made at start. */
async function selfSignedServing(host: string): Promise<CertificateAndKey> {
  const ca = await createCertificateAuthority(`${host}-ca@${Math.floor(Date.now() / 1000)}`);
  const serving = await issueCertificate(ca, { commonName: host, hosts: [host] });
  return { certPem: `${serving.certPem.trim()}\n${ca.certPem.trim()}\n`, keyPem: serving.keyPem };
}

export async function startKubeletServer(opts: KubeletServerOptions): Promise<KubeletServer> {
  if (!opts.tls)
    opts.log.warn(
      'no --tls-cert-file: serving a self-signed certificate, which the apiserver refuses (kubectl logs and metrics fail for this node)',
    );
  if (!opts.clientCaPem)
    opts.log.warn('no --client-ca-file: no caller can authenticate, everything but /healthz answers 401');
  const serving = opts.tls ?? (await selfSignedServing(opts.host));
  const auth =
    opts.auth ??
    new KubeletAuth({ nodeName: '', ...(opts.clientCaPem ? { clientCaPem: opts.clientCaPem } : {}) });
  const server = https.createServer(
    {
      cert: serving.certPem,
      key: serving.keyPem,
      // ask for a client certificate and verify it against the client CA; the handshake goes on without one,
      // so an unauthenticated caller gets upstream's 401 rather than a TLS alert
      requestCert: true,
      rejectUnauthorized: false,
      ...(opts.clientCaPem ? { ca: opts.clientCaPem } : {}),
    },
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
    const refused = await auth.check(req, url.pathname);
    if (refused) throw new HttpError(refused.status, refused.message);
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

  if (opts.onUpgrade) server.on('upgrade', opts.onUpgrade);
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
