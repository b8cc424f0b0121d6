// TCP forwarding for one proxied address: accept, connect to an endpoint (retrying others that refuse), then splice both ways.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { BoundAddress, type ListenerOptions } from './bound-address.js';
import { proxyMetrics } from './metrics.js';
import { endpointKey, type ListenerSpec } from './rules.js';

export interface TcpListenerOptions extends ListenerOptions {
  /** give up on an endpoint that has not accepted within this long, and try another */
  connectTimeoutMs: number;
}

/** strip the IPv4-mapped prefix a dual-stack socket may report */
export const clientIPOf = (s: Socket): string => (s.remoteAddress ?? '').replace(/^::ffff:/, '');

function abort(s: Socket, reset: boolean): void {
  if (s.destroyed) return;
  if (reset) s.resetAndDestroy();
  else s.destroy();
}

/**
 * Pipe `a` and `b` into each other with backpressure (pipe pauses the reader while the writer's buffer is
 * full). A FIN travels as a FIN (half-close: both sockets allow half-open, pipe ends the other side when
 * one side ends); a reset or error travels as a reset, so neither side is left hanging.
 */
export function splice(a: Socket, b: Socket, onClosed: () => void): void {
  const link = (x: Socket, y: Socket): void => {
    let ended = false;
    x.once('end', () => (ended = true));
    x.on('error', (err: NodeJS.ErrnoException) => abort(y, err.code === 'ECONNRESET'));
    // closed without a FIN first: an abort, which the other side must see as one
    x.once('close', () => {
      if (!ended) abort(y, true);
    });
  };
  link(a, b);
  link(b, a);
  let open = 2;
  const closed = (): void => {
    if (--open === 0) onClosed();
  };
  a.once('close', closed);
  b.once('close', closed);
  a.pipe(b);
  b.pipe(a);
}

export class TcpListener extends BoundAddress {
  private server: Server | undefined;
  private readonly connectTimeoutMs: number;

  constructor(spec: ListenerSpec, opts: TcpListenerOptions) {
    super(spec, opts);
    this.connectTimeoutMs = opts.connectTimeoutMs;
  }

  protected bind(): Promise<void> {
    // a server whose listen() failed may listen() again, so one server serves every attempt
    const server = (this.server ??= createServer(
      { allowHalfOpen: true, pauseOnConnect: true, noDelay: true },
      (client) => this.onConnection(client),
    ));
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.off('error', onError);
        server.on('error', (err) => this.log.warn({ err }, 'listener error'));
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ host: this.spec.ip, port: this.spec.port, exclusive: true });
    });
  }

  protected release(): void {
    // established connections carry on, as conntrack keeps established flows when rules go
    this.server?.close(() => {});
    this.server = undefined;
  }

  private onConnection(client: Socket): void {
    const metrics = proxyMetrics();
    const clientIP = clientIPOf(client);
    const tried = new Set<string>();
    // errors before the splice (a reset while we connect) must not crash the process
    const early = (): void => {};
    client.on('error', early);
    const next = (): void => {
      if (client.destroyed) return;
      const ep = this.picker.pick(clientIP, tried);
      if (!ep) {
        // nothing answered: reset at once rather than leave the client hanging
        metrics.connections.inc({ protocol: 'TCP', result: 'rejected' });
        abort(client, true);
        return;
      }
      tried.add(endpointKey(ep));
      const upstream = connect({ host: ep.ip, port: ep.port, allowHalfOpen: true, noDelay: true });
      const timer = setTimeout(() => {
        const err: NodeJS.ErrnoException = new Error(`connect to ${endpointKey(ep)} timed out`);
        err.code = 'ETIMEDOUT';
        upstream.destroy(err);
      }, this.connectTimeoutMs);
      const clientGone = (): void => void upstream.destroy();
      client.once('close', clientGone);
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        client.off('close', clientGone);
        metrics.endpointFailures.inc({ protocol: 'TCP' });
        this.log.debug({ endpoint: endpointKey(ep), code: err.code }, 'endpoint failed; trying another');
        next();
      });
      upstream.once('connect', () => {
        clearTimeout(timer);
        client.off('close', clientGone);
        client.off('error', early);
        upstream.removeAllListeners('error');
        metrics.connections.inc({ protocol: 'TCP', result: 'forwarded' });
        metrics.activeConnections.inc({ protocol: 'TCP' });
        splice(client, upstream, () => metrics.activeConnections.dec({ protocol: 'TCP' }));
      });
    };
    next();
  }
}
