// The gateway's listeners: plain HTTP and TLS (SNI, ALPN h2 + http/1.1), WebSocket upgrades; never restarted.
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import type { Logger } from '../util/logger.js';
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

export class IngressGateway {
  private snapshot: GatewaySnapshot = { table: RoutingTable.empty(), contexts: new Map() };
  private readonly proxy: IngressProxy;
  private readonly wsProxy = createProxyServer({ ws: true, xfwd: true });
  private httpServer: Server | undefined;
  private httpsServer: Http2SecureServer | undefined;
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
      const server = createSecureServer({
        cert: def.certPem,
        key: def.keyPem,
        allowHTTP1: true,
        SNICallback: (name, cb) => {
          const snap = this.snapshot;
          const binding = snap.table.tlsFor(name);
          cb(null, binding ? snap.contexts.get(binding.secret) : undefined);
        },
      });
      server.setTimeout(0);
      server.on('request', (req, res) => this.proxy.handle(req, res, 'https', this.httpsPort!));
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
        this.upgrade(req, socket, head, 'https'),
      );
      this.track(server);
      this.httpsServer = server;
      this.httpsPort = await listen(server, this.opts.https);
      out.https = { host: this.opts.https.host, port: this.httpsPort };
    }
    return out;
  }

  private track(server: Server | Http2SecureServer): void {
    const add = (socket: Duplex): void => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    };
    server.on('connection', add);
    server.on('secureConnection', add);
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
    const closing = [this.httpServer, this.httpsServer]
      .filter((s): s is Server | Http2SecureServer => s !== undefined)
      .map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const s of this.sockets) s.destroy();
    this.wsProxy.close();
    await this.proxy.close();
    await Promise.all(closing);
  }
}

function listen(server: Server | Http2SecureServer, addr: ListenAddress): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
