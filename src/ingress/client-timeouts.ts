// Idle clients are closed, as nginx closes them: a connection that has not sent a complete request header within
// client_header_timeout, a kept-alive HTTP/1 connection or an HTTP/2 session with no request in flight for
// keepalive_timeout. Without this any pod could hold the gateway's file descriptors with idle sockets for ever.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerHttp2Session } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from '../util/logger.js';

export interface ClientTimeouts {
  /** nginx's client_header_timeout (ingress-nginx `client-header-timeout`: 60 s): until a request's header is in */
  headerMs: number;
  /** nginx's keepalive_timeout (ingress-nginx `keep-alive`: 75 s): an idle connection between requests */
  keepAliveMs: number;
}

export const DEFAULT_CLIENT_TIMEOUTS: ClientTimeouts = { headerMs: 60_000, keepAliveMs: 75_000 };

/** after GOAWAY, how long a session that does not go away by itself is given before it is cut */
const GOAWAY_GRACE_MS = 1_000;

interface Http1State {
  timer: NodeJS.Timeout | undefined;
  /** requests whose response is not finished yet (pipelined ones included) */
  inFlight: number;
}

export class IdleClients {
  private readonly http1 = new WeakMap<Duplex, Http1State>();

  constructor(
    private readonly timeouts: ClientTimeouts,
    private readonly log: Logger,
  ) {}

  /** a new HTTP/1 connection (plain, or TLS without h2): it has client_header_timeout to send a request header */
  http1Connection(socket: Duplex): void {
    const state: Http1State = { timer: undefined, inFlight: 0 };
    this.http1.set(socket, state);
    this.arm(socket, state, this.timeouts.headerMs, 'client_header_timeout');
    socket.once('close', () => clearTimeout(state.timer));
  }

  /** a request's header arrived: no timer while it is served; the keep-alive one once the last answer is sent */
  http1Request(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket;
    const state = this.http1.get(socket);
    if (!state) return;
    clearTimeout(state.timer);
    state.timer = undefined;
    state.inFlight++;
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      state.inFlight--;
      // a `Connection: close` answer (or a lingering close) ends the socket itself
      if (state.inFlight === 0 && !socket.destroyed && !socket.writableEnded)
        this.arm(socket, state, this.timeouts.keepAliveMs, 'keepalive_timeout');
    };
    res.once('finish', finished);
    res.once('close', finished);
  }

  /** an upgraded connection (WebSocket) belongs to the tunnel from now on */
  http1Upgraded(socket: Duplex): void {
    const state = this.http1.get(socket);
    if (!state) return;
    clearTimeout(state.timer);
    this.http1.delete(socket);
  }

  /** an HTTP/2 session: GOAWAY once it has had no stream open for the timeout (the first request: header timeout) */
  http2Session(session: ServerHttp2Session): void {
    let open = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number, which: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        if (session.closed || session.destroyed) return;
        this.log.debug(
          { remote: session.socket?.remoteAddress, timeout: which },
          'closing idle HTTP/2 session',
        );
        session.close();
        setTimeout(() => session.destroy(), GOAWAY_GRACE_MS).unref();
      }, ms);
      timer.unref();
    };
    arm(this.timeouts.headerMs, 'client_header_timeout');
    session.on('stream', (stream) => {
      open++;
      clearTimeout(timer);
      stream.once('close', () => {
        open--;
        if (open === 0 && !session.closed && !session.destroyed)
          arm(this.timeouts.keepAliveMs, 'keepalive_timeout');
      });
    });
    session.once('close', () => clearTimeout(timer));
  }

  private arm(socket: Duplex, state: Http1State, ms: number, which: string): void {
    clearTimeout(state.timer);
    state.timer = setTimeout(() => {
      this.log.debug(
        { remote: (socket as { remoteAddress?: string }).remoteAddress, timeout: which },
        'closing idle connection',
      );
      socket.destroy();
    }, ms);
    state.timer.unref();
  }
}
