// The gateway's listeners: plain HTTP and TLS (SNI, ALPN h2 + http/1.1), WebSocket upgrades; never restarted.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import {
  createServer as createTcpServer,
  type AddressInfo,
  type Server as TcpServer,
  type Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext, TlsOptions } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { nginxHostHeaderError } from '../util/host-header.js';
import type { Logger } from '../util/logger.js';
import { secureContextOf } from './certificates.js';
import { peekClientHello } from './client-hello.js';
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
}

/** nginx's keepalive_timeout default */
const CLIENT_KEEPALIVE_MS = 75_000;
type SNICallback = NonNullable<TlsOptions['SNICallback']>;
/** how long a new TLS connection may take to send its ClientHello (nginx's client_header_timeout) */
const CLIENT_HELLO_TIMEOUT_MS = 60_000;

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

  constructor(private readonly opts: GatewayOptions) {
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
      const server = createHttpServer({ keepAliveTimeout: CLIENT_KEEPALIVE_MS });
      server.on('request', (req, res) => this.proxy.handle(req, res, 'http', this.httpPort!));
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        this.upgrade(req, socket, head, 'http'),
      );
      this.track(server);
      this.httpServer = server;
      this.httpPort = await listen(server, this.opts.http);
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
      this.track(listener);
      this.tlsListener = listener;
      this.httpsPort = await listen(listener, this.opts.https);
      out.https = { host: this.opts.https.host, port: this.httpsPort };
    }
    return out;
  }

  private secureServer(tls: { SNICallback: SNICallback } | { cert: string; key: string }): Http2SecureServer {
    const server = createSecureServer({ ...tls, allowHTTP1: true });
    server.setTimeout(0);
    server.on('request', (req, res) => this.proxy.handle(req, res, 'https', this.httpsPort!));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head, 'https'),
    );
    server.on('secureConnection', (socket: Duplex) => this.add(socket));
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
    socket.setTimeout(CLIENT_HELLO_TIMEOUT_MS);
    socket.on('timeout', fail);
    socket.on('error', fail);
    socket.on('data', onData);
  }

  private add(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private track(server: Server | TcpServer): void {
    server.on('connection', (socket: Duplex) => this.add(socket));
  }

  /** WebSocket (and other Upgrade) requests: routed like any request, then spliced through by http-proxy-3 */
  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, scheme: 'http' | 'https'): void {
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
