// The L7 data plane: one request in, routed by the current table, forwarded to a ready endpoint, answered.
import { Agent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../util/logger.js';
import { errorPage } from './error-pages.js';
import { ingressMetrics } from './metrics.js';
import type { Backend, Endpoint, Route, RoutingTable } from './routing-table.js';

export type AnyRequest = IncomingMessage | Http2ServerRequest;
export type AnyResponse = ServerResponse | Http2ServerResponse;

/** headers that describe one hop and must not be forwarded (RFC 9110 §7.6.1), plus HTTP/2 pseudo-headers */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'http2-settings',
]);

export interface ProxyOptions {
  /** the table in force right now: read once per request, so a swap never affects a request in flight */
  table(): RoutingTable;
  /** the HTTPS listener's port, for redirects (omitted from Location when 443) */
  httpsPort(): number | undefined;
  log: Logger;
  /** keep-alive agent to the backends; one is made when absent */
  agent?: Agent;
}

interface Attempt {
  endpoint: Endpoint;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

function hasBody(req: AnyRequest): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

class UpstreamTimeout extends Error {
  constructor(readonly phase: 'connect' | 'read') {
    super(`upstream ${phase} timeout`);
  }
}

export class IngressProxy {
  readonly agent: Agent;
  private readonly rr = new Map<string, number>();
  private readonly metrics = ingressMetrics();

  constructor(private readonly opts: ProxyOptions) {
    this.agent = opts.agent ?? new Agent({ keepAlive: true, maxFreeSockets: 256, keepAliveMsecs: 30_000 });
  }

  /** forward one request; `scheme` and `port` are those of the listener it arrived on */
  handle(req: AnyRequest, res: AnyResponse, scheme: 'http' | 'https', port: number): void {
    const started = process.hrtime.bigint();
    const headers = req.headers;
    const host = (headers.host ?? headers[':authority']) as string | undefined;
    const url = req.url || '/';
    const requestId = (headers['x-request-id'] as string | undefined) || randomUUID().replace(/-/g, '');
    const { route, tlsHost } = this.opts.table().lookup(host, url);
    let upstream = '';
    const serviceLabel = route.backend ? `${route.backend.namespace}/${route.backend.service}` : '';
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      this.metrics.requests.inc({ ingress: route.ingress, service: serviceLabel, status: String(status) });
      this.metrics.duration.observe({ ingress: route.ingress, service: serviceLabel }, seconds);
      this.opts.log.info(
        {
          method: req.method,
          host,
          path: url,
          status,
          upstream,
          duration: Math.round(seconds * 1e6) / 1e3,
          requestId,
          ingress: route.ingress,
          service: serviceLabel,
          completed: res.writableFinished,
        },
        'access',
      );
    });

    if (scheme === 'http' && tlsHost && route.sslRedirect) {
      const httpsPort = this.opts.httpsPort();
      const authority = hostName(host) + (httpsPort && httpsPort !== 443 ? `:${httpsPort}` : '');
      return this.answer(res, 308, { location: `https://${authority}${url}` });
    }
    const length = Number(headers['content-length'] ?? 0);
    if (length > route.bodyLimit) return this.answer(res, 413, { connection: 'close' });
    if (!route.backend) return this.answer(res, 404);
    if (route.backend.endpoints.length === 0) return this.answer(res, 503);

    const fwdHeaders = forwardedHeaders(req, scheme, port, host, requestId);
    const backend = route.backend;
    const attempts: Attempt[] = [];
    const tryNext = (): void => {
      const endpoint = this.pick(backend, attempts.length);
      const attempt: Attempt = { endpoint };
      attempts.push(attempt);
      upstream = `${endpoint.ip}:${endpoint.port}`;
      this.forward(req, res, route, endpoint, fwdHeaders, (err, retryable) => {
        const reason = err instanceof UpstreamTimeout ? `${err.phase}_timeout` : (err.code ?? 'error');
        this.metrics.upstreamErrors.inc({ ingress: route.ingress, service: serviceLabel, reason });
        // nothing reached the backend: another endpoint may take it (proxy_next_upstream error)
        if (retryable && attempts.length < Math.max(backend.endpoints.length, 2)) return tryNext();
        if (err instanceof UpstreamTimeout) return this.answer(res, 504);
        this.answer(res, 502);
      });
    };
    tryNext();
  }

  /** round-robin over the backend's endpoints; `offset` skips those already tried for this request */
  private pick(backend: Backend, offset: number): Endpoint {
    const key = `${backend.namespace}/${backend.service}/${backend.servicePort}`;
    if (offset === 0) {
      const n = (this.rr.get(key) ?? 0) + 1;
      this.rr.set(key, n % 1_000_000_007);
    }
    const base = this.rr.get(key) ?? 0;
    return backend.endpoints[(base + offset) % backend.endpoints.length];
  }

  /** one attempt; `fail` is called at most once, only while the client has been sent nothing */
  private forward(
    req: AnyRequest,
    res: AnyResponse,
    route: Route,
    endpoint: Endpoint,
    headers: Record<string, string | string[]>,
    fail: (err: NodeJS.ErrnoException, retryable: boolean) => void,
  ): void {
    let failed = false;
    let bodyStarted = false;
    const proxyReq: ClientRequest = httpRequest({
      host: endpoint.ip,
      port: endpoint.port,
      method: req.method,
      path: req.url,
      headers,
      agent: this.agent,
    });
    const onClientGone = (): void => {
      if (!res.writableFinished) proxyReq.destroy();
    };
    res.once('close', onClientGone);
    let connectTimer: NodeJS.Timeout | undefined;
    proxyReq.on('socket', (socket) => {
      const start = (): void => {
        if (connectTimer) clearTimeout(connectTimer);
        if (failed) return;
        bodyStarted = true;
        this.pumpBody(req, res, proxyReq, route.bodyLimit);
      };
      if (socket.connecting) {
        connectTimer = setTimeout(
          () => proxyReq.destroy(new UpstreamTimeout('connect')),
          route.connectTimeoutMs,
        );
        socket.once('connect', start);
      } else start();
    });
    proxyReq.setTimeout(route.readTimeoutMs, () => proxyReq.destroy(new UpstreamTimeout('read')));
    proxyReq.on('error', (err: NodeJS.ErrnoException) => {
      if (connectTimer) clearTimeout(connectTimer);
      if (failed) return;
      failed = true;
      res.off('close', onClientGone);
      if (res.headersSent || res.writableEnded) {
        // mid-response: nothing sensible to tell the client but a cut connection
        destroyResponse(res);
        return;
      }
      // A refusal happens before any byte is sent; a kept-alive socket the backend had just closed fails
      // the same way for a body-less idempotent request: both are safe to send elsewhere.
      const refused = err.code === 'ECONNREFUSED' && !bodyStarted;
      const staleSocket =
        proxyReq.reusedSocket &&
        err.code === 'ECONNRESET' &&
        IDEMPOTENT.has(req.method ?? '') &&
        !hasBody(req);
      fail(err, refused || staleSocket);
    });
    proxyReq.on('response', (up) => {
      if (res.writableEnded) {
        up.resume();
        return;
      }
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      res.writeHead(up.statusCode ?? 502, out);
      up.on('data', (chunk: Buffer) => {
        if (!(res as ServerResponse).write(chunk)) {
          up.pause();
          res.once('drain', () => up.resume());
        }
      });
      up.on('end', () => res.end());
      up.on('error', () => destroyResponse(res));
    });
  }

  /** stream the client's body upstream, enforcing the body limit for bodies without Content-Length */
  private pumpBody(req: AnyRequest, res: AnyResponse, proxyReq: ClientRequest, limit: number): void {
    if (req.readableEnded) {
      proxyReq.end();
      return;
    }
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (bytes > limit) {
        req.off('data', onData);
        proxyReq.destroy();
        if (!res.headersSent) this.answer(res, 413, { connection: 'close' });
        return;
      }
      if (!proxyReq.write(chunk)) {
        req.pause();
        proxyReq.once('drain', () => req.resume());
      }
    };
    req.on('data', onData);
    req.once('end', () => proxyReq.end());
  }

  /** an answer of the gateway's own: nginx-style HTML */
  answer(res: AnyResponse, status: number, extra: Record<string, string> = {}): void {
    if (res.headersSent) return destroyResponse(res);
    const body = errorPage(status);
    const isH2 = 'stream' in res;
    const headers: Record<string, string> = {
      'content-type': 'text/html',
      'content-length': String(Buffer.byteLength(body)),
      ...extra,
    };
    if (isH2) delete headers['connection'];
    res.writeHead(status, headers);
    res.end(body);
  }
}

function hostName(host: string | undefined): string {
  if (!host) return 'localhost';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0];
}

function destroyResponse(res: AnyResponse): void {
  if ('stream' in res) res.stream.close(0x2 /* INTERNAL_ERROR */);
  else res.destroy();
}

/** the request's headers as the backend should see them: hop-by-hop dropped, X-Forwarded-* and X-Real-IP set */
export function forwardedHeaders(
  req: AnyRequest,
  scheme: 'http' | 'https',
  port: number,
  host: string | undefined,
  requestId: string,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k.startsWith(':') || HOP_BY_HOP.has(k)) continue;
    out[k] = v;
  }
  const clientIp = req.socket?.remoteAddress ?? '';
  if (host) out['host'] = host;
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${clientIp}` : clientIp;
  out['x-forwarded-proto'] = scheme;
  out['x-forwarded-host'] = host ?? '';
  out['x-forwarded-port'] = String(port);
  out['x-forwarded-scheme'] = scheme;
  out['x-real-ip'] = clientIp;
  out['x-request-id'] = requestId;
  return out;
}
