// pods/exec, pods/attach and pods/portforward: upgraded connections the apiserver authenticates, checks against the
// pod, and relays byte for byte to the pod's kubelet over its own TLS connection (upstream's UpgradeAwareHandler).
// The kubelet speaks the client's protocol (WebSocket channels, SPDY, or port-forward's SPDY-in-WebSocket tunnel),
// so nothing is translated here; whatever the kubelet answers instead of 101 reaches the client as it is.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, errors } from '../../api/errors.js';
import type { ApiHandler, UserInfo } from '../../api/request.js';
import type { Logger } from '../../util/logger.js';
import { getCoreObject, kubeletEndpoint, type KubeletClient } from '../kubelet-client.js';
import type { ExtraRoute } from '../rest/server.js';
import { kubeletStreamPath, STREAM_PATH, type StreamSubresource } from './stream-location.js';

export interface UpgradeProxyDeps {
  handler: ApiHandler;
  kubelets: KubeletClient;
  authenticate(req: IncomingMessage): UserInfo | undefined;
  /** upgrade paths another listener serves (the internal WebSocket face) */
  otherPaths: ReadonlySet<string>;
  logger: Logger;
}

/** request headers not relayed to the kubelet: the caller's credentials never leave the apiserver */
const DROPPED = new Set([
  'authorization',
  'host',
  'proxy-authorization',
  'content-length',
  'transfer-encoding',
]);

const REASON_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A Status as the HTTP answer of a request that was not upgraded. */
function refuse(socket: Duplex, err: ApiError): void {
  const body = JSON.stringify(err.toStatus());
  socket.end(
    `HTTP/1.1 ${err.code} ${REASON_TEXT[err.code] ?? 'Error'}\r\n` +
      'Content-Type: application/json\r\n' +
      'Cache-Control: no-cache, private\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

function requestHead(req: IncomingMessage, path: string, host: string): string {
  const lines = [`${req.method ?? 'GET'} ${path} HTTP/1.1`, `Host: ${host}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || lower.startsWith('impersonate-')) continue;
    lines.push(`${name}: ${raw[i + 1]}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * The kubelet's side to the client, one write a chunk, the next once the last is in the socket: a chunk is what one TLS
 * record from the kubelet carried, and each goes on as a TLS record of its own, as upstream's io.Copy between two
 * tls.Conns relays them. A pipe would let chunks that arrive together go out as one record (Node writes what queued
 * up behind a pending write in one go), and the Python client, which polls the socket before each WebSocket frame
 * it reads, never reads a close frame left in its buffer behind the error channel's frame: its `run_forever` then
 * waits out its timeout and `returncode` is None.
 */
export function relayRecords(from: Duplex, to: Duplex): void {
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed) return;
    from.pause();
    to.write(chunk, () => from.resume());
  });
  from.once('end', () => to.end());
  // a spare connection comes paused
  from.resume();
}

export function createUpgradeProxy(
  deps: UpgradeProxyDeps,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const get = <T>(
    resource: string,
    namespace: string | undefined,
    name: string,
    user: UserInfo,
  ): Promise<T> => getCoreObject<T>(deps.handler, resource, namespace, name, user);

  const relay = async (req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const m = STREAM_PATH.exec(url.pathname);
    if (!m) throw new ApiError('NotFound', 'the server could not find the requested resource', {});
    const user = deps.authenticate(req);
    if (!user) throw errors.unauthorized();
    const [namespace, name, sub] = [
      decodeURIComponent(m[1]),
      decodeURIComponent(m[2]),
      m[3] as StreamSubresource,
    ];
    const pod = await get<Pod>('pods', namespace, name, user);
    const path = kubeletStreamPath(sub, pod, url.searchParams);
    const node = await get<Node>('nodes', undefined, pod.spec!.nodeName!, user);
    const endpoint = kubeletEndpoint(node);
    if (!endpoint) throw errors.internal(`node "${node.metadata?.name ?? ''}" has no kubelet endpoint`);
    const upstream = await deps.kubelets.dial(endpoint);
    if (socket.destroyed) {
      upstream.destroy();
      return;
    }
    upstream.write(requestHead(req, path, `${endpoint.host}:${endpoint.port}`));
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
    relayRecords(upstream, socket);
    const done = (): void => {
      socket.destroy();
      upstream.destroy();
    };
    socket.once('close', done);
    upstream.once('close', done);
    upstream.on('error', done);
    deps.logger.debug(
      { pod: `${namespace}/${name}`, sub, user: user.username },
      'relaying stream to the kubelet',
    );
  };

  return (req, socket, head) => {
    const path = (req.url ?? '').split('?')[0];
    if (deps.otherPaths.has(path)) return;
    socket.on('error', () => socket.destroy());
    relay(req, socket, head).catch((e: unknown) => {
      const err = e instanceof ApiError ? e : errors.internal(e instanceof Error ? e.message : String(e), e);
      if (!(e instanceof ApiError)) deps.logger.error({ err: e }, 'stream relay failed');
      if (!socket.destroyed) refuse(socket, err);
    });
  };
}

/** A streaming subresource asked for without an upgrade: upstream's 400. */
export function upgradeRequiredRoute(): ExtraRoute {
  return (req, _res, { url, user }) => {
    if (!user || !STREAM_PATH.test(url.pathname) || req.headers.upgrade) return false;
    throw errors.badRequest('Upgrade request required');
  };
}
