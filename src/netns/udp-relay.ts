// One published UDP port, inside the sandbox: datagrams that arrive on the socket the host-side publisher bound (and
// passed in over IPC) go to `target` from a socket per client, and that socket's replies go back to the client from
// the published address — the session conntrack keeps for a UDP NodePort on a real node, closed when idle.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from '../util/logger.js';
import type { Endpoint } from './pipe.js';

interface Session {
  upstream: Socket;
  idle: NodeJS.Timeout;
  /** datagrams that came while the upstream socket was still connecting */
  pending: Buffer[] | undefined;
}

export class UdpRelay {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly socket: Socket,
    private readonly target: Endpoint,
    private readonly log: Logger,
    /** a client with no traffic either way this long is forgotten (conntrack's UDP stream timeout: 120 s) */
    private readonly idleMs = 120_000,
  ) {
    socket.on('message', (msg, client) => this.onDatagram(msg, client));
    socket.on('error', (err) => log.warn({ err, target }, 'published UDP socket failed'));
  }

  private onDatagram(msg: Buffer, client: RemoteInfo): void {
    const key = `${client.address}:${client.port}`;
    let session = this.sessions.get(key);
    if (!session) {
      const upstream = createSocket({ type: 'udp4' });
      const s: Session = {
        upstream,
        idle: setTimeout(() => this.end(key, s), this.idleMs).unref(),
        pending: [],
      };
      session = s;
      this.sessions.set(key, s);
      upstream.on('message', (reply) => {
        s.idle.refresh();
        this.socket.send(reply, client.port, client.address);
      });
      // ICMP port unreachable (nothing behind the NodePort): the client's next datagram opens a fresh session
      upstream.on('error', (err) => {
        this.log.debug({ err, target: this.target }, 'UDP forwarding failed');
        this.end(key, s);
      });
      upstream.connect(this.target.port, this.target.host, () => {
        const queued = s.pending ?? [];
        s.pending = undefined;
        for (const m of queued) upstream.send(m);
      });
    }
    session.idle.refresh();
    // (a send() before connect() has completed would throw for want of an address)
    if (session.pending) session.pending.push(msg);
    else session.upstream.send(msg);
  }

  private end(key: string, session: Session): void {
    if (this.sessions.get(key) === session) this.sessions.delete(key);
    clearTimeout(session.idle);
    try {
      session.upstream.close();
    } catch {
      // closed already
    }
  }

  /** Stops relaying: the published socket and every session. */
  close(): void {
    for (const [key, s] of [...this.sessions]) this.end(key, s);
    try {
      this.socket.close();
    } catch {
      // closed already
    }
  }
}
