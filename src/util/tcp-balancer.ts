// An L4 (TCP) balancer in front of several apiservers, as kind puts HAProxy in front of an HA control plane: TLS
// passes through untouched (kubectl verifies the apiserver's certificate, which names 127.0.0.1), each backend is
// checked with `GET /readyz` (less the etcd checks: see READINESS_PATH) over TLS with the cluster CA every interval,
// and one that fails `fall` checks in a row is taken out and its open connections are cut (HAProxy's
// `on-marked-down shutdown-sessions`, while another is up), so clients with a watch on a frozen apiserver reconnect
// to a live one instead of waiting. A refused connect is retried on the next
// backend at once, so a killed apiserver costs no client a failed request even before its check fails.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Agent, request } from 'node:https';
import type { Logger } from './logger.js';

/**
 * An apiserver's readiness apart from the etcd it shares with the others: etcd without quorum fails every apiserver's
 * `etcd` checks at once (each answering its requests with etcd's error), and a member frozen under one apiserver's
 * etcd client fails only that one's for a while; taking backends out for either cut the clients' open requests
 * (a write then failed with "socket hang up" instead of etcd's Status) and moved them nowhere better.
 */
const READINESS_PATH = '/readyz?exclude=etcd&exclude=etcd-readiness';

export interface BalancerBackend {
  host: string;
  port: number;
}

export interface BalancerOptions {
  host: string;
  port: number;
  backends: readonly BalancerBackend[];
  /** the CA that signed the backends' serving certificates (for the /readyz checks) */
  caPem: string;
  logger: Logger;
  /** check every (default 500 ms) */
  intervalMs?: number;
  /** a check unanswered this long fails (default 1.5 s) */
  timeoutMs?: number;
  /** failed checks in a row that take a backend out (default 2) */
  fall?: number;
  /** passed checks in a row that put it back (default 2) */
  rise?: number;
}

interface BackendState {
  backend: BalancerBackend;
  name: string;
  up: boolean;
  fails: number;
  oks: number;
  checking: boolean;
  agent: Agent;
  /** client sockets proxied to this backend: cut when it is marked down */
  clients: Set<Socket>;
}

export interface BackendView {
  backend: string;
  up: boolean;
  connections: number;
}

export class TcpBalancer {
  private readonly states: BackendState[];
  private server?: Server;
  private timer?: NodeJS.Timeout;
  private next = 0;
  private readonly log: Logger;

  constructor(private readonly opts: BalancerOptions) {
    if (opts.backends.length === 0) throw new Error('the balancer needs at least one backend');
    this.log = opts.logger;
    // every backend starts in, as HAProxy's servers do: a refused connect moves on to the next anyway
    this.states = opts.backends.map((b) => ({
      backend: b,
      name: `${b.host}:${b.port}`,
      up: true,
      fails: 0,
      oks: 0,
      checking: false,
      agent: new Agent({ keepAlive: true, maxSockets: 1, ca: opts.caPem }),
      clients: new Set(),
    }));
  }

  async listen(): Promise<void> {
    const server = createServer({ noDelay: true }, (client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    this.timer = setInterval(() => this.checkAll(), this.opts.intervalMs ?? 500);
    this.checkAll();
  }

  get port(): number {
    const addr = this.server?.address();
    return typeof addr === 'object' && addr ? addr.port : this.opts.port;
  }

  view(): BackendView[] {
    return this.states.map((s) => ({ backend: s.name, up: s.up, connections: s.clients.size }));
  }

  /** Backends to try for a new connection: the ones up, round robin; when none is up, all of them (better a try). */
  private candidates(): BackendState[] {
    const n = this.states.length;
    const start = this.next++ % n;
    const order = Array.from({ length: n }, (_, i) => this.states[(start + i) % n]);
    const up = order.filter((s) => s.up);
    return up.length > 0 ? [...up, ...order.filter((s) => !s.up)] : order;
  }

  private accept(client: Socket): void {
    client.pause();
    client.on('error', () => undefined);
    const tries = this.candidates();
    const attempt = (i: number): void => {
      if (client.destroyed) return;
      const state = tries[i];
      if (!state) {
        this.log.warn({ backends: this.states.map((s) => s.name) }, 'no apiserver accepted the connection');
        client.destroy();
        return;
      }
      const upstream = connect({ host: state.backend.host, port: state.backend.port, noDelay: true });
      const failed = (err: Error): void => {
        upstream.destroy();
        this.log.debug(
          { backend: state.name, err: err.message },
          'connect failed; trying the next apiserver',
        );
        attempt(i + 1);
      };
      upstream.once('error', failed);
      upstream.once('connect', () => {
        upstream.removeListener('error', failed);
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => {
          client.destroy();
          state.clients.delete(client);
        });
        state.clients.add(client);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  }

  private checkAll(): void {
    for (const s of this.states) if (!s.checking) this.check(s);
  }

  private check(s: BackendState): void {
    s.checking = true;
    let settled = false;
    const done = (ok: boolean, why?: string): void => {
      if (settled) return;
      settled = true;
      s.checking = false;
      this.record(s, ok, why);
    };
    const req = request(
      {
        host: s.backend.host,
        port: s.backend.port,
        path: READINESS_PATH,
        method: 'GET',
        agent: s.agent,
        timeout: this.opts.timeoutMs ?? 1_500,
      },
      (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode === 200, `${READINESS_PATH} answered ${res.statusCode}`));
        res.on('error', (err) => done(false, err.message));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      done(false, `${READINESS_PATH} did not answer within ${this.opts.timeoutMs ?? 1_500} ms`);
    });
    req.on('error', (err) => done(false, err.message));
    req.end();
  }

  private record(s: BackendState, ok: boolean, why: string | undefined): void {
    if (ok) {
      s.fails = 0;
      s.oks++;
      if (!s.up && s.oks >= (this.opts.rise ?? 2)) {
        s.up = true;
        this.log.info({ backend: s.name }, 'apiserver is up: back in the balancer');
        // clients left on backends that went down while none was up can move now
        this.cutClientsOfDownBackends();
      }
      return;
    }
    s.oks = 0;
    s.fails++;
    if (s.up && s.fails >= (this.opts.fall ?? 2)) {
      s.up = false;
      // another backend that passed its last check: when all fail at once (their storage lost quorum), the first
      // to be marked down finds the others still up on paper, each with a failed check of its own
      const elsewhere = this.states.some((o) => o.up && o.fails === 0);
      this.log.warn(
        { backend: s.name, reason: why, connections: s.clients.size },
        elsewhere
          ? 'apiserver is down: out of the balancer, its connections cut'
          : 'apiserver is down, and no other is ready (etcd without quorum?): its connections kept until one is',
      );
      if (elsewhere) this.cutClientsOfDownBackends();
    }
  }

  /**
   * HAProxy's `on-marked-down shutdown-sessions`, while another backend is up (and passed its last check) to
   * reconnect to: when every apiserver fails its check at once (their storage lost quorum), cutting connections
   * would only move clients to one as unready and cut the requests they have open, which answer with the storage's
   * error anyway. Backends that passed their last check are on their way back; theirs stay.
   */
  private cutClientsOfDownBackends(): void {
    for (const d of this.states) {
      // a backend that passed its last check is coming back: its clients stay
      if (d.up || d.fails === 0) continue;
      for (const c of d.clients) c.destroy();
      d.clients.clear();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const s of this.states) {
      for (const c of s.clients) c.destroy();
      s.agent.destroy();
    }
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
