// UDP forwarding for one proxied address: a session socket per client address (conntrack's role), closed after an idle timeout.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { BoundAddress, type ListenerOptions } from './bound-address.js';
import { proxyMetrics } from './metrics.js';
import type { ListenerSpec, ProxyEndpoint } from './rules.js';

export interface UdpListenerOptions extends ListenerOptions {
  /** close a client's session after this long without traffic either way (conntrack's UDP timeout) */
  idleTimeoutMs: number;
}

interface Session {
  upstream: Socket;
  endpoint: ProxyEndpoint;
  lastActive: number;
}

export class UdpListener extends BoundAddress {
  private socket: Socket | undefined;
  private readonly sessions = new Map<string, Session>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly idleTimeoutMs: number;

  constructor(spec: ListenerSpec, opts: UdpListenerOptions) {
    super(spec, opts);
    this.idleTimeoutMs = opts.idleTimeoutMs;
  }

  sessionCount(): number {
    return this.sessions.size;
  }

  protected bind(): Promise<void> {
    const socket = createSocket({ type: 'udp4', reuseAddr: false });
    return new Promise((resolve, reject) => {
      socket.once('error', (err) => {
        try {
          socket.close();
        } catch {
          // already closed
        }
        reject(err);
      });
      socket.bind({ address: this.spec.ip, port: this.spec.port, exclusive: true }, () => {
        socket.removeAllListeners('error');
        socket.on('error', (err) => this.log.warn({ err }, 'socket error'));
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
        this.socket = socket;
        const every = Math.max(100, Math.min(this.idleTimeoutMs / 2, 5000));
        this.sweepTimer = setInterval(() => this.sweep(), every);
        this.sweepTimer.unref();
        resolve();
      });
    });
  }

  protected release(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const key of [...this.sessions.keys()]) this.closeSession(key);
    this.socket?.close();
    this.socket = undefined;
  }

  protected override endpointsChanged(): void {
    // as upstream clears conntrack entries of removed UDP endpoints: the client's next datagram goes elsewhere
    for (const [key, s] of this.sessions) if (!this.picker.has(s.endpoint)) this.closeSession(key);
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const key = `${rinfo.address}:${rinfo.port}`;
    let session = this.sessions.get(key);
    if (!session) {
      const endpoint = this.picker.pick(rinfo.address);
      if (!endpoint) {
        proxyMetrics().connections.inc({ protocol: 'UDP', result: 'rejected' });
        return;
      }
      session = this.openSession(key, rinfo, endpoint);
    }
    session.lastActive = Date.now();
    session.upstream.send(msg, session.endpoint.port, session.endpoint.ip);
  }

  private openSession(key: string, client: RemoteInfo, endpoint: ProxyEndpoint): Session {
    const upstream = createSocket('udp4');
    const session: Session = { upstream, endpoint, lastActive: Date.now() };
    upstream.on('message', (reply, from) => {
      if (from.address !== endpoint.ip || from.port !== endpoint.port) return;
      session.lastActive = Date.now();
      this.socket?.send(reply, client.port, client.address);
    });
    upstream.on('error', (err) => {
      this.log.debug({ err, client: key }, 'session socket error');
      this.closeSession(key);
    });
    this.sessions.set(key, session);
    const metrics = proxyMetrics();
    metrics.connections.inc({ protocol: 'UDP', result: 'forwarded' });
    metrics.activeConnections.inc({ protocol: 'UDP' });
    return session;
  }

  private closeSession(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    proxyMetrics().activeConnections.dec({ protocol: 'UDP' });
    try {
      s.upstream.close();
    } catch {
      // never bound (nothing was sent yet) or already closed
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, s] of this.sessions) if (now - s.lastActive > this.idleTimeoutMs) this.closeSession(key);
  }
}
