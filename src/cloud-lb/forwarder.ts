// One LoadBalancer's data plane: listeners on its external IP that pipe TCP and relay UDP, byte for byte
// (TLS passes through untouched), to the Service's NodePort on the backend nodes.
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../util/logger.js';
import type { Backend } from './backends.js';
import { ALLOW_ALL, sourceAllowed, type SourceRanges } from './source-ranges.js';

export type LbProtocol = 'TCP' | 'UDP';

export interface ForwardedPort {
  protocol: LbProtocol;
  /** the Service port: what the load balancer listens on */
  port: number;
  nodePort: number;
}

export interface ForwarderOptions {
  /** the external IP to listen on */
  ip: string;
  logger?: Logger;
  /** give up on a node that neither accepts nor refuses within this long; default 2 s */
  connectTimeoutMs?: number;
  /** a UDP flow with no traffic this long is forgotten; default 30 s */
  udpIdleMs?: number;
}

/** the `Error syncing load balancer` text for a listener that could not be opened */
function bindErrorMessage(
  protocol: LbProtocol,
  ip: string,
  port: number,
  err: NodeJS.ErrnoException,
): string {
  const where = `${ip}:${port}/${protocol}`;
  if (err.code === 'EACCES')
    return `cannot listen on ${where}: permission denied (ports below 1024 need root or a lower net.ipv4.ip_unprivileged_port_start)`;
  if (err.code === 'EADDRINUSE') return `cannot listen on ${where}: address already in use`;
  if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: address not available on this machine`;
  return `cannot listen on ${where}: ${err.message}`;
}

export class ListenError extends Error {}

interface TcpListener {
  protocol: 'TCP';
  server: Server;
  nodePort: number;
  connections: Set<Socket>;
}

interface UdpFlow {
  upstream: UdpSocket;
  backend: Backend;
  idle: NodeJS.Timeout;
  /** datagrams sent while the upstream socket was still connecting */
  pending: Buffer[] | undefined;
  /** the last datagram, re-sent once to another node if this one refuses */
  last: Buffer | undefined;
  retried: boolean;
}

interface UdpListener {
  protocol: 'UDP';
  socket: UdpSocket;
  nodePort: number;
  flows: Map<string, UdpFlow>;
}

type Listener = TcpListener | UdpListener;

const listenerKey = (protocol: LbProtocol, port: number): string => `${protocol}/${port}`;

export class LoadBalancerForwarder {
  readonly ip: string;
  private readonly log: Logger;
  private readonly connectTimeoutMs: number;
  private readonly udpIdleMs: number;
  private readonly listeners = new Map<string, Listener>();
  private backends: Backend[] = [];
  private ranges: SourceRanges = ALLOW_ALL;
  /** round-robin cursor shared by every port: successive connections start at successive nodes */
  private next = 0;
  private closed = false;

  constructor(opts: ForwarderOptions) {
    this.ip = opts.ip;
    this.log = (opts.logger ?? silentLogger()).child({ lb: opts.ip });
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    this.udpIdleMs = opts.udpIdleMs ?? 30_000;
  }

  setBackends(backends: Backend[]): void {
    this.backends = [...backends];
  }

  setSourceRanges(ranges: SourceRanges): void {
    this.ranges = ranges;
  }

  /** the ports listened on now, e.g. `['TCP/80', 'UDP/53']` */
  ports(): string[] {
    return [...this.listeners.keys()].sort();
  }

  /**
   * Listen on exactly `ports`: open the new, close the gone, retarget changed NodePorts. Throws a ListenError
   * naming every port that could not be opened; the others stay open.
   */
  async setPorts(ports: ForwardedPort[]): Promise<void> {
    const wanted = new Map(ports.map((p) => [listenerKey(p.protocol, p.port), p]));
    for (const [key, listener] of this.listeners) {
      if (!wanted.has(key)) {
        this.listeners.delete(key);
        await closeListener(listener);
      }
    }
    const failures: string[] = [];
    for (const [key, p] of wanted) {
      const existing = this.listeners.get(key);
      if (existing) {
        existing.nodePort = p.nodePort;
        continue;
      }
      try {
        const listener = p.protocol === 'TCP' ? await this.listenTcp(p) : await this.listenUdp(p);
        if (this.closed) await closeListener(listener);
        else this.listeners.set(key, listener);
      } catch (err) {
        failures.push(bindErrorMessage(p.protocol, this.ip, p.port, err as NodeJS.ErrnoException));
      }
    }
    if (failures.length) throw new ListenError(failures.join('; '));
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map(closeListener));
  }

  /** backends in the order to try for one new connection or flow */
  private pickOrder(): Backend[] {
    const n = this.backends.length;
    if (n === 0) return [];
    const start = this.next++ % n;
    return [...this.backends.slice(start), ...this.backends.slice(0, start)];
  }

  private listenTcp(p: ForwardedPort): Promise<TcpListener> {
    const listener: TcpListener = {
      protocol: 'TCP',
      server: createServer({ pauseOnConnect: true, allowHalfOpen: true }),
      nodePort: p.nodePort,
      connections: new Set(),
    };
    listener.server.on('connection', (client) => this.onTcpConnection(listener, client));
    return new Promise((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen({ host: this.ip, port: p.port, exclusive: true }, () => {
        listener.server.off('error', reject);
        listener.server.on('error', (err) => this.log.error({ err, port: p.port }, 'TCP listener failed'));
        resolve(listener);
      });
    });
  }

  private onTcpConnection(listener: TcpListener, client: Socket): void {
    if (!sourceAllowed(this.ranges, client.remoteAddress)) {
      this.log.debug({ client: client.remoteAddress }, 'connection outside loadBalancerSourceRanges closed');
      client.resetAndDestroy();
      return;
    }
    listener.connections.add(client);
    client.once('close', () => listener.connections.delete(client));
    client.on('error', () => client.destroy());
    const order = this.pickOrder();
    const tryNext = (i: number): void => {
      if (client.destroyed) return;
      const backend = order[i];
      if (!backend) {
        this.log.warn({ port: listener.nodePort, tried: order.length }, 'no node accepted the connection');
        client.destroy();
        return;
      }
      const upstream = connect({ host: backend.ip, port: listener.nodePort, allowHalfOpen: true });
      upstream.setTimeout(this.connectTimeoutMs);
      const onFail = (err?: Error): void => {
        upstream.destroy();
        this.log.debug(
          { node: backend.node, err: err?.message ?? 'timeout' },
          'node did not accept; trying the next',
        );
        tryNext(i + 1);
      };
      upstream.once('error', onFail);
      upstream.once('timeout', onFail);
      upstream.once('connect', () => {
        upstream.off('error', onFail);
        upstream.off('timeout', onFail);
        upstream.setTimeout(0);
        if (client.destroyed) {
          upstream.destroy();
          return;
        }
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    tryNext(0);
  }

  private listenUdp(p: ForwardedPort): Promise<UdpListener> {
    const listener: UdpListener = {
      protocol: 'UDP',
      socket: createSocket({ type: 'udp4' }),
      nodePort: p.nodePort,
      flows: new Map(),
    };
    listener.socket.on('message', (msg, rinfo) => this.onDatagram(listener, msg, rinfo));
    return new Promise((resolve, reject) => {
      listener.socket.once('error', reject);
      listener.socket.bind({ address: this.ip, port: p.port, exclusive: true }, () => {
        listener.socket.off('error', reject);
        listener.socket.on('error', (err) => this.log.error({ err, port: p.port }, 'UDP listener failed'));
        resolve(listener);
      });
    });
  }

  private onDatagram(listener: UdpListener, msg: Buffer, client: RemoteInfo): void {
    if (!sourceAllowed(this.ranges, client.address)) return;
    const key = `${client.address}:${client.port}`;
    let flow = listener.flows.get(key);
    if (!flow) {
      const backend = this.pickOrder()[0];
      if (!backend) return;
      flow = this.openFlow(listener, key, client, backend, []);
    }
    flow.idle.refresh();
    flow.last = msg;
    flow.retried = false;
    if (flow.pending) flow.pending.push(msg);
    else flow.upstream.send(msg);
  }

  private openFlow(
    listener: UdpListener,
    key: string,
    client: RemoteInfo,
    backend: Backend,
    pending: Buffer[],
  ): UdpFlow {
    const upstream = createSocket({ type: 'udp4' });
    const flow: UdpFlow = {
      upstream,
      backend,
      pending,
      last: undefined,
      retried: false,
      idle: setTimeout(() => this.closeFlow(listener, key, flow), this.udpIdleMs).unref(),
    };
    listener.flows.set(key, flow);
    upstream.on('message', (reply) => {
      flow.idle.refresh();
      listener.socket.send(reply, client.port, client.address);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // A connected UDP socket learns of ICMP port-unreachable as ECONNREFUSED: move the flow to another node.
      this.closeFlow(listener, key, flow);
      const others = this.pickOrder().filter((b) => b.node !== backend.node);
      if (err.code !== 'ECONNREFUSED' || flow.retried || !flow.last || !others[0]) return;
      this.log.debug({ node: backend.node }, 'UDP flow refused; moving it to another node');
      const moved = this.openFlow(listener, key, client, others[0], [flow.last]);
      moved.retried = true;
      moved.last = flow.last;
    });
    upstream.connect(listener.nodePort, backend.ip, () => {
      const queued = flow.pending ?? [];
      flow.pending = undefined;
      for (const m of queued) upstream.send(m);
    });
    return flow;
  }

  private closeFlow(listener: UdpListener, key: string, flow: UdpFlow): void {
    if (listener.flows.get(key) === flow) listener.flows.delete(key);
    clearTimeout(flow.idle);
    try {
      flow.upstream.close();
    } catch {
      // already closed
    }
  }
}

async function closeListener(listener: Listener): Promise<void> {
  if (listener.protocol === 'TCP') {
    const closed = new Promise<void>((resolve) => listener.server.close(() => resolve()));
    // An LB that goes away takes its connections with it.
    for (const c of listener.connections) c.destroy();
    await closed;
    return;
  }
  for (const flow of listener.flows.values()) {
    clearTimeout(flow.idle);
    try {
      flow.upstream.close();
    } catch {
      // already closed
    }
  }
  listener.flows.clear();
  await new Promise<void>((resolve) => listener.socket.close(() => resolve()));
}
