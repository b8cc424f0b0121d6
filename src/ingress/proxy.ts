// The L7 data plane: one request in, routed by the current table, forwarded to a ready endpoint, answered.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { hostHeaderValues, nginxHostHeaderError } from '../util/host-header.js';
import type { Logger } from '../util/logger.js';
import { AccessLog } from './access-log.js';
import { errorPage } from './error-pages.js';
import { lingerOnClose } from './lingering-close.js';
import { ingressMetrics } from './metrics.js';
import type { Backend, Endpoint, Route, RoutingTable } from './routing-table.js';
import { UPSTREAM_ERRORS, UpstreamPool, type UpstreamHandler } from './upstream.js';

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
  // the gateway answers Expect itself (Node's server sends 100 Continue), as nginx does
  'expect',
]);

export interface ProxyOptions {
  /** the table in force right now: read once per request, so a swap never affects a request in flight */
  table(): RoutingTable;
  /** the HTTPS listener's port, for redirects (omitted from Location when 443) */
  httpsPort(): number | undefined;
  log: Logger;
}

interface Attempt {
  endpoint: Endpoint;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);

function hasBody(req: AnyRequest): boolean {
  return Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
}

/** a chunked request body grew past the route's limit while it was being sent */
class BodyTooLarge extends Error {
  constructor() {
    super('request body over the limit');
  }
}

/** what nginx calls connect and read timeouts (504) */
const TIMEOUTS: Record<string, string> = {
  [UPSTREAM_ERRORS.connectTimeout]: 'connect_timeout',
  [UPSTREAM_ERRORS.headersTimeout]: 'read_timeout',
  [UPSTREAM_ERRORS.bodyTimeout]: 'read_timeout',
};
/** the connection broke before an answer: for a body-less idempotent request, safe to send elsewhere */
const BROKEN = new Set(['ECONNRESET', 'EPIPE', UPSTREAM_ERRORS.closed]);

export class IngressProxy {
  /** keep-alive connection pools to the endpoints, one per connect timeout */
  private readonly dispatchers = new Map<number, UpstreamPool>();
  private readonly rr = new Map<string, number>();
  private readonly metrics = ingressMetrics();
  private readonly access: AccessLog;

  constructor(private readonly opts: ProxyOptions) {
    this.access = new AccessLog(opts.log);
  }

  /** forward one request; `scheme` and `port` are those of the listener it arrived on */
  handle(req: AnyRequest, res: AnyResponse, scheme: 'http' | 'https', port: number): void {
    const started = process.hrtime.bigint();
    const badHost = nginxHostHeaderError(req.rawHeaders);
    if (badHost) {
      this.opts.log.info({ hosts: hostHeaderValues(req.rawHeaders), url: req.url }, badHost);
      return this.answer(res, 400, { connection: 'close' });
    }
    const headers = req.headers;
    const host = (headers.host ?? headers[':authority']) as string | undefined;
    const url = req.url || '/';
    const requestId = (headers['x-request-id'] as string | undefined) || nextRequestId();
    const { route, tlsHost } = this.opts.table().lookup(host, url);
    let upstream = '';
    const serviceLabel = route.backend ? `${route.backend.namespace}/${route.backend.service}` : '';
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const status = res.statusCode;
      this.metrics.requests.inc({ ingress: route.ingress, service: serviceLabel, status: String(status) });
      this.metrics.duration.observe({ ingress: route.ingress, service: serviceLabel }, seconds);
      this.access.write({
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
      });
    });

    if (scheme === 'http' && tlsHost && route.sslRedirect) {
      const httpsPort = this.opts.httpsPort();
      const authority = hostName(host) + (httpsPort && httpsPort !== 443 ? `:${httpsPort}` : '');
      return this.answer(res, 308, { location: `https://${authority}${url}` });
    }
    const length = Number(headers['content-length'] ?? 0);
    if (length > route.bodyLimit) return this.tooLarge(req, res);
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
        if (err instanceof BodyTooLarge) return this.tooLarge(req, res);
        const timeout = TIMEOUTS[err.code ?? ''];
        const reason = timeout ?? err.code ?? 'error';
        this.metrics.upstreamErrors.inc({ ingress: route.ingress, service: serviceLabel, reason });
        // nothing reached the backend: another endpoint may take it (proxy_next_upstream error)
        if (retryable && attempts.length < Math.max(backend.endpoints.length, 2)) return tryNext();
        this.answer(res, timeout ? 504 : 502);
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
    let done = false;
    let answered = false;
    let bodyStarted = false;
    let abort: ((err?: Error) => void) | undefined;
    const onClientGone = (): void => {
      if (!res.writableFinished) abort?.(new Error('client went away'));
    };
    res.once('close', onClientGone);
    const body = hasBody(req)
      ? Readable.from(
          limitedBody(req, route.bodyLimit, () => (bodyStarted = true)),
          { objectMode: false },
        )
      : null;
    let onDrain: (() => void) | undefined;
    const settle = (): void => {
      done = true;
      res.off('close', onClientGone);
      if (onDrain) res.off('drain', onDrain);
    };
    const handler: UpstreamHandler = {
      onConnect: (a) => {
        abort = a;
        if (res.destroyed && !res.writableFinished) a(new Error('client went away'));
      },
      onError: (err: NodeJS.ErrnoException) => {
        if (done) return;
        settle();
        if (answered || res.headersSent || res.writableEnded) {
          // mid-response: nothing sensible to tell the client but a cut connection
          destroyResponse(res);
          return;
        }
        if (err instanceof BodyTooLarge) return fail(err, false);
        // A refusal happens before any byte is sent; a kept-alive connection the backend had just closed fails
        // the same way for a body-less idempotent request: both are safe to send elsewhere.
        const code = err.code ?? '';
        const refused = code === 'ECONNREFUSED' && !bodyStarted;
        const broken = BROKEN.has(code) && IDEMPOTENT.has(req.method ?? '') && body === null;
        fail(err, refused || broken);
      },
      onHeaders: (statusCode, raw, resume) => {
        if (res.writableEnded || res.destroyed) return false;
        answered = true;
        res.writeHead(statusCode, responseHeaders(raw));
        onDrain = resume;
        res.on('drain', onDrain);
        return true;
      },
      onData: (chunk) => (res as ServerResponse).write(chunk),
      onComplete: () => {
        settle();
        res.end();
      },
    };
    this.dispatcher(route.connectTimeoutMs).dispatch(
      {
        origin: `http://${endpoint.ip.includes(':') ? `[${endpoint.ip}]` : endpoint.ip}:${endpoint.port}`,
        method: req.method ?? 'GET',
        path: req.url || '/',
        headers,
        body,
        headersTimeout: route.readTimeoutMs,
        bodyTimeout: route.readTimeoutMs,
      },
      handler,
    );
  }

  private dispatcher(connectTimeoutMs: number): UpstreamPool {
    let d = this.dispatchers.get(connectTimeoutMs);
    if (!d) {
      d = new UpstreamPool({ connectTimeoutMs, keepAliveTimeoutMs: 30_000 });
      this.dispatchers.set(connectTimeoutMs, d);
    }
    return d;
  }

  /** closes the connections to the backends, writes the access log lines still waiting */
  async close(): Promise<void> {
    this.access.flush();
    await Promise.all([...this.dispatchers.values()].map((d) => d.destroy()));
    this.dispatchers.clear();
  }

  /** 413 and close, reading what the client still sends meanwhile so that it gets to read the 413 */
  private tooLarge(req: AnyRequest, res: AnyResponse): void {
    if (!('stream' in res)) lingerOnClose(req as IncomingMessage);
    this.answer(res, 413, { connection: 'close' });
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

/**
 * ingress-nginx's $request_id: 32 hex digits, unique per request. A random per-process prefix and a counter are
 * as unique as 16 random bytes per request, and cost nothing.
 */
const REQUEST_ID_PREFIX = randomBytes(8).toString('hex');
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 2 ** 52;
  return REQUEST_ID_PREFIX + requestCounter.toString(16).padStart(16, '0');
}

function hostName(host: string | undefined): string {
  if (!host) return 'localhost';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':', 1)[0];
}

/** the client's body, streamed; a body without Content-Length that grows past `limit` fails the request (413) */
async function* limitedBody(req: AnyRequest, limit: number, started: () => void): AsyncGenerator<Buffer> {
  let bytes = 0;
  started();
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > limit) throw new BodyTooLarge();
    yield chunk;
  }
}

/** the backend's answer headers without the hop-by-hop ones; repeated headers (Set-Cookie) as arrays */
function responseHeaders(raw: string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    if (HOP_BY_HOP.has(key)) continue;
    const value = raw[i + 1];
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
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
