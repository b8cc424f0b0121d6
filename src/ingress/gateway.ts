// The gateway's listeners: plain HTTP and TLS (SNI, ALPN h2 + http/1.1), WebSocket upgrades; never restarted.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket, TlsOptions } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { nginxHostHeaderError } from '../util/host-header.js';
import type { Logger } from '../util/logger.js';
import { openFileLimit } from '../util/fd-limit.js';
import { secureContextOf } from './certificates.js';
import { peekClientHello } from './client-hello.js';
import { DEFAULT_CLIENT_TIMEOUTS, IdleClients, type ClientTimeouts } from './client-timeouts.js';
import { errorPage } from './error-pages.js';
import { IngressProxy } from './proxy.js';
import { RoutingTable } from './routing-table.js';

/** What the controller hands the gateway on every change: swapped whole, read per request / handshake. */
export interface GatewaySnapshot {
  table: RoutingTable;
  /** Secret key (`namespace/name`) → usable certificate */
  contexts: ReadonlyMap<string, SecureContext>;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface GatewayOptions {
  http?: ListenAddress;
  https?: ListenAddress;
  defaultCertificate: { certPem: string; keyPem: string };
  log: Logger;
  /** when idle clients are closed; nginx's client_header_timeout 60 s and ingress-nginx's keep-alive 75 s */
  clientTimeouts?: ClientTimeouts;
  /** client connections (both listeners) beyond which new ones are refused; default: defaultMaxConnections() */
  maxConnections?: number;
}

const NODE_REQUEST_TIMEOUT_MS = 300_000;
/** ingress-nginx's max-worker-connections */
const NGINX_MAX_CONNECTIONS = 16_384;
/** descriptors kept for everything else: the API connection, logs, DNS, certificates */
const RESERVED_FDS = 256;
/** at most one refusal / accept failure logged per this, with the count since the last */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * ingress-nginx's 16,384, but never more than the open-file limit allows: each client connection may hold a
 * connection to a backend as well, so half of what is left after a reserve.
 */
export function defaultMaxConnections(fdLimit: number | undefined): number {
  if (fdLimit === undefined) return NGINX_MAX_CONNECTIONS;
  return Math.max(16, Math.min(NGINX_MAX_CONNECTIONS, Math.floor((fdLimit - RESERVED_FDS) / 2)));
}

type SNICallback = NonNullable<TlsOptions['SNICallback']>;

export class IngressGateway {
  private snapshot: GatewaySnapshot = { table: RoutingTable.empty(), contexts: new Map() };
  private readonly proxy: IngressProxy;
  private readonly wsProxy = createProxyServer({ ws: true, xfwd: true });
  private httpServer: Server | undefined;
  /** accepts TLS connections and hands each to one of the two TLS servers below */
  private tlsListener: TcpServer | undefined;
  /** clients that send a server name: exactly one certificate each, picked by SNICallback */
  private sniServer: Http2SecureServer | undefined;
  /** clients without a server name: the default certificate */
  private defaultServer: Http2SecureServer | undefined;
  private httpPort: number | undefined;
  private httpsPort: number | undefined;
  private readonly sockets = new Set<Duplex>();
  /** accepted TCP connections, both listeners */
  private clientConnections = 0;
  private readonly idle: IdleClients;
  private readonly timeouts: ClientTimeouts;
  readonly maxConnections: number;
  /** refusals (connection cap) and accept failures (EMFILE) not logged yet, by kind */
  private readonly refusals = new Map<string, { count: number; since: number }>();

  constructor(private readonly opts: GatewayOptions) {
    this.timeouts = opts.clientTimeouts ?? DEFAULT_CLIENT_TIMEOUTS;
    this.idle = new IdleClients(this.timeouts, opts.log);
    const fdLimit = openFileLimit();
    this.maxConnections = opts.maxConnections ?? defaultMaxConnections(fdLimit);
    // Past the open-file limit, libuv accepts and closes new connections itself, and nothing can log them.
    if (fdLimit !== undefined && this.maxConnections > defaultMaxConnections(fdLimit))
      opts.log.warn(
        { maxConnections: this.maxConnections, openFileLimit: fdLimit },
        'the connection cap is above what the open-file limit leaves room for: once descriptors run out, new connections are closed without a warning and backends cannot be reached',
      );
    this.proxy = new IngressProxy({
      table: () => this.snapshot.table,
      httpsPort: () => this.httpsPort,
      log: opts.log.child({ log: 'access' }),
    });
  }

  /** install a new routing table and certificate set; in-flight requests keep the one they started with */
  setSnapshot(snapshot: GatewaySnapshot): void {
    this.snapshot = snapshot;
  }

  current(): GatewaySnapshot {
    return this.snapshot;
  }

  async start(): Promise<{ http?: ListenAddress; https?: ListenAddress }> {
    const out: { http?: ListenAddress; https?: ListenAddress } = {};
    if (this.opts.http) {
      const server = createHttpServer({
        keepAliveTimeout: this.timeouts.keepAliveMs,
        headersTimeout: this.timeouts.headerMs,
        // Node's default (5 min), which may not be shorter than the header timeout
        requestTimeout: Math.max(NODE_REQUEST_TIMEOUT_MS, this.timeouts.headerMs),
      });
      server.on('request', (req, res) => {
        this.idle.http1Request(req, res);
        this.proxy.handle(req, res, 'http', this.httpPort!);
      });
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        this.upgrade(req, socket, head, 'http'),
      );
      server.on('connection', (socket: Duplex) => this.idle.http1Connection(socket));
      this.track(server, 'http');
      this.httpServer = server;
      this.httpPort = await listen(server, this.opts.http);
      this.logAcceptErrors(server, 'http');
      out.http = { host: this.opts.http.host, port: this.httpPort };
    }
    if (this.opts.https) {
      const def = this.opts.defaultCertificate;
      const defaultContext = secureContextOf(def);
      // No certificate of its own: whatever SNICallback returns is the only one the connection can use.
      this.sniServer = this.secureServer({
        SNICallback: (name, cb) => {
          const snap = this.snapshot;
          const binding = snap.table.tlsFor(name);
          cb(null, (binding && snap.contexts.get(binding.secret)) ?? defaultContext);
        },
      });
      this.defaultServer = this.secureServer({ cert: def.certPem, key: def.keyPem });
      const listener = createTcpServer((socket) => this.dispatchTls(socket));
      this.track(listener, 'https');
      this.tlsListener = listener;
      this.httpsPort = await listen(listener, this.opts.https);
      this.logAcceptErrors(listener, 'https');
      out.https = { host: this.opts.https.host, port: this.httpsPort };
    }
    return out;
  }

  private secureServer(tls: { SNICallback: SNICallback } | { cert: string; key: string }): Http2SecureServer {
    const server = createSecureServer({ ...tls, allowHTTP1: true, handshakeTimeout: this.timeouts.headerMs });
    server.setTimeout(0);
    server.on('request', (req, res) => {
      // HTTP/1 over TLS; HTTP/2 sessions are timed as a whole
      if (!('stream' in req))
        this.idle.http1Request(req as IncomingMessage, res as unknown as ServerResponse);
      this.proxy.handle(req, res, 'https', this.httpsPort!);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head, 'https'),
    );
    server.on('secureConnection', (socket: TLSSocket) => {
      this.add(socket);
      if (socket.alpnProtocol !== 'h2') this.idle.http1Connection(socket);
    });
    server.on('session', (session: ServerHttp2Session) => this.idle.http2Session(session));
    return server;
  }

  /** Waits for the ClientHello, then gives the connection to the TLS server that holds its one certificate. */
  private dispatchTls(socket: Socket): void {
    let received: Buffer = Buffer.alloc(0);
    const fail = (): void => void socket.destroy();
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const hello = peekClientHello(received);
      if (hello.kind === 'incomplete') return;
      socket.off('data', onData);
      socket.off('timeout', fail);
      socket.off('error', fail);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(received);
      // A TLS server given a connection reads what it has buffered first (tls.Server's documented injection).
      const server = hello.kind === 'hello' && hello.serverName ? this.sniServer! : this.defaultServer!;
      server.emit('connection', socket);
    };
    // nginx times the handshake, ClientHello included, with client_header_timeout
    socket.setTimeout(this.timeouts.headerMs);
    socket.on('timeout', fail);
    socket.on('error', fail);
    socket.on('data', onData);
  }

  private add(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /**
   * Counts client connections, both listeners together, and caps them (nginx's worker_connections): past the cap a
   * new connection is closed at once, with a warning, rather than the process running out of file descriptors.
   */
  private track(server: Server | TcpServer, listener: 'http' | 'https'): void {
    server.on('connection', (socket: Duplex) => {
      if (this.clientConnections >= this.maxConnections) {
        socket.destroy();
        this.refused(
          'drop',
          { listener, maxConnections: this.maxConnections },
          'connection limit reached: refusing new client connections (--max-connections)',
        );
        return;
      }
      this.clientConnections++;
      socket.once('close', () => this.clientConnections--);
      this.add(socket);
    });
  }

  /**
   * Once listening: an accept that fails (out of descriptors, when libuv cannot shed the connection itself) is
   * logged, and the listener keeps serving; without a listener for it, it would end the process.
   */
  private logAcceptErrors(server: Server | TcpServer, listener: 'http' | 'https'): void {
    server.on('error', (err: NodeJS.ErrnoException) =>
      this.refused(
        `${listener}:${err.code ?? 'error'}`,
        { listener, err: err.message, code: err.code },
        'could not accept a client connection (out of file descriptors?): refusing new connections until some close',
      ),
    );
  }

  /** a warning the first time, then at most one per interval with how many more there were */
  private refused(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const seen = this.refusals.get(kind);
    if (seen && now - seen.since < REFUSAL_LOG_INTERVAL_MS) {
      seen.count++;
      return;
    }
    this.opts.log.warn({ ...fields, refusedSinceLastWarning: seen?.count ?? 0 }, message);
    this.refusals.set(kind, { count: 0, since: now });
  }

  /** WebSocket (and other Upgrade) requests: routed like any request, then spliced through by http-proxy-3 */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https'): void {
    this.idle.http1Upgraded(socket);
    const { route, tlsHost } = this.snapshot.table.lookup(req.headers.host, req.url ?? '/');
    const refuse = (status: number, extra = ''): void => {
      const body = errorPage(status);
      socket.end(
        `HTTP/1.1 ${status} ${status === 308 ? 'Permanent Redirect' : 'Error'}\r\n${extra}content-type: text/html\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    };
    if (nginxHostHeaderError(req.rawHeaders)) return refuse(400);
    if (scheme === 'http' && tlsHost && route.sslRedirect) {
      const port = this.httpsPort && this.httpsPort !== 443 ? `:${this.httpsPort}` : '';
      const host = (req.headers.host ?? 'localhost').split(':', 1)[0];
      return refuse(308, `location: https://${host}${port}${req.url}\r\n`);
    }
    const endpoints = route.backend?.endpoints ?? [];
    if (!route.backend) return refuse(404);
    if (endpoints.length === 0) return refuse(503);
    const ep = endpoints[Math.floor(Math.random() * endpoints.length)];
    (socket as Socket).setNoDelay?.(true);
    this.wsProxy.ws(req, socket, head, { target: `http://${ep.ip}:${ep.port}` }, (err: Error) => {
      this.opts.log.warn({ err: err.message, upstream: `${ep.ip}:${ep.port}` }, 'websocket proxy error');
      if (socket.writable) refuse(502);
      else socket.destroy();
    });
  }

  async close(): Promise<void> {
    const closing = [this.httpServer, this.tlsListener, this.sniServer, this.defaultServer]
      .filter((s): s is Server | TcpServer | Http2SecureServer => s !== undefined)
      .map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of this.sockets) s.destroy();
    this.wsProxy.close();
    await this.proxy.close();
    await Promise.all(closing);
  }
}

function listen(server: Server | TcpServer, addr: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
