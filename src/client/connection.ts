// A component's one WebSocket to the apiserver: requests by id, resumable watches, reconnect with backoff.
import type { Status } from 'kubernetes-types/meta/v1.js';
import { WebSocket, type RawData } from 'ws';
import { ApiError, type StatusReason, REASON_CODES } from '../api/errors.js';
import type { ApiResult, WatchEvent } from '../api/request.js';
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  decodeServerFrames,
  FrameBatcher,
  encodeFrame,
  type ClientFrame,
  type ServerFrame,
  type WireRequest,
} from '../api/wire.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { withRetryAfter } from './retry-after.js';

/** first-connection attempts made at the initial backoff before it starts doubling (5 s at the default 100 ms) */
const STARTUP_RETRIES = 50;

export interface ApiConnectionOptions {
  /** `wss://127.0.0.1:6443/kubemu/v1/ws` */
  url: string;
  /** bearer token */
  token?: string;
  /** PEM of the CA to trust (the cluster CA) */
  ca?: string;
  logger?: Logger;
  clock?: Clock;
  /**
   * reconnect backoff: starts at initialMs, doubles to maxMs; defaults 100 ms → 1 s, so every component is back
   * within about a second of an apiserver restart (on loopback a retry a second costs nothing). The first
   * connection is retried at initialMs for its first 50 attempts.
   */
  backoff?: { initialMs?: number; maxMs?: number };
  /** send a ping this often; three unanswered in a row → reconnect; default 5 s */
  pingIntervalMs?: number;
  /** a request not answered within this long fails with a Timeout ApiError; default 60 s */
  requestTimeoutMs?: number;
}

export type WatchEventHandler = (event: WatchEvent) => void;
/** The watch is over: `err` is an ApiError (410 Expired → relist) or undefined for a plain end. Called once. */
export type WatchEndHandler = (err?: ApiError) => void;

export interface WatchSubscription {
  /** stop the watch; onEnd is not called after stop() */
  stop(): void;
}

/** What the typed client and informers need from a transport: ApiConnection, or handlerTransport in tests. */
export interface ApiTransport {
  request(req: WireRequest): Promise<ApiResult>;
  watch(req: WireRequest, onEvent: WatchEventHandler, onEnd: WatchEndHandler): WatchSubscription;
}

/** Where a transport made by `ApiConnection.withCredential` gets its bearer token (client-go's TokenSource). */
export interface TokenSource {
  /** the token to send; a source caches it until it nears its expiry */
  token(): Promise<string>;
  /** forget the cached token (the apiserver answered 401): the next token() makes a new one */
  reset(): void;
}

/** Rebuild the ApiError a Status describes. */
export function apiErrorFromStatus(status: Status): ApiError {
  const reason = (
    status.reason && status.reason in REASON_CODES ? status.reason : 'InternalError'
  ) as StatusReason;
  const err = new ApiError(reason, status.message ?? reason, status.details);
  // keep the server's code when it differs from the reason's default (e.g. a reason-less 5xx)
  if (typeof status.code === 'number' && status.code !== err.code) Object.assign(err, { code: status.code });
  return err;
}

/** The error a request sees when its connection drops before the answer came: retry it. */
export function connectionLost(detail: string): ApiError {
  return new ApiError('ServiceUnavailable', `connection to the apiserver lost: ${detail}`);
}

interface PendingRequest {
  frame: ClientFrame;
  resolve(r: ApiResult): void;
  reject(e: ApiError): void;
  sent: boolean;
  timer: { cancel(): void };
  /** a streamed list's answer so far: its `res` came, its `items` are arriving */
  streamed?: { result: ApiResult; items: unknown[] };
}

interface LiveWatch {
  req: WireRequest;
  /** the credential it is made with (withCredential) */
  cred?: number;
  onEvent: WatchEventHandler;
  onEnd: WatchEndHandler;
  /** the last resourceVersion this watch saw: where a resumed watch starts */
  lastRV: string | undefined;
}

export class ApiConnection implements ApiTransport {
  private readonly opts: ApiConnectionOptions;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private backoff: number;
  private ws: WebSocket | undefined;
  private batcher: FrameBatcher | undefined;
  private open = false;
  private everOpened = false;
  /** failed attempts at the first connection (see onClose) */
  private startupRetries = 0;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly watches = new Map<number, LiveWatch>();
  private reconnectTimer: { cancel(): void } | undefined;
  private pingTimer: { cancel(): void } | undefined;
  private missedPongs = 0;
  private readyWaiters: (() => void)[] = [];
  /** the bearer tokens of withCredential's transports, by credential id: sent again on every (re)connection */
  private readonly credentials = new Map<number, string>();
  private nextCredential = 1;

  constructor(opts: ApiConnectionOptions) {
    if (!/^wss?:\/\//.test(opts.url))
      throw new TypeError(`ApiConnection url must be ws:// or wss://, got ${opts.url}`);
    this.opts = opts;
    this.log = (opts.logger ?? silentLogger()).child({ apiserver: opts.url });
    this.clock = opts.clock ?? realClock;
    this.initialBackoff = opts.backoff?.initialMs ?? 100;
    this.maxBackoff = opts.backoff?.maxMs ?? 1_000;
    this.backoff = this.initialBackoff;
    this.connect();
  }

  /** true while the socket is open */
  isConnected(): boolean {
    return this.open;
  }

  /** resolves once the socket is open (immediately if it is) */
  ready(): Promise<void> {
    if (this.open) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Send `req`; a 429 is retried after the server's Retry-After, as client-go does. */
  request(req: WireRequest): Promise<ApiResult> {
    return withRetryAfter(() => this.requestOnce(req), this.clock);
  }

  /**
   * A transport over this connection whose requests are made with `source`'s bearer token instead of the
   * connection's credential: the apiserver authenticates and authorizes each of them as that token's user. Upstream's
   * controllers use one client each, but client-go's transport cache gives clients that differ only in their token one
   * HTTP/2 connection, whose requests carry their own Authorization header; this is that, over the WebSocket. A 401
   * resets the token and the request is made once more.
   */
  withCredential(source: TokenSource): ApiTransport {
    const cred = this.nextCredential++;
    const use = async (): Promise<void> => {
      const token = await source.token();
      if (this.credentials.get(cred) === token) return;
      this.credentials.set(cred, token);
      // when not open, onOpen sends every credential before any request
      if (this.open) this.sendFrame({ t: 'cred', id: cred, token });
    };
    return {
      request: async (req) => {
        for (let attempt = 0; ; attempt++) {
          await use();
          try {
            return await withRetryAfter(() => this.requestOnce(req, cred), this.clock);
          } catch (err) {
            if (attempt > 0 || !(err instanceof ApiError && err.reason === 'Unauthorized')) throw err;
            source.reset();
          }
        }
      },
      watch: (req, onEvent, onEnd) => {
        let sub: WatchSubscription | undefined;
        let stopped = false;
        use().then(
          () => {
            if (!stopped) sub = this.watch(req, onEvent, onEnd, cred);
          },
          (err: unknown) => {
            if (stopped) return;
            onEnd(
              err instanceof ApiError
                ? err
                : new ApiError(
                    'Unauthorized',
                    `no token: ${err instanceof Error ? err.message : String(err)}`,
                  ),
            );
          },
        );
        return {
          stop: () => {
            stopped = true;
            sub?.stop();
          },
        };
      },
    };
  }

  private requestOnce(req: WireRequest, cred?: number): Promise<ApiResult> {
    if (this.closed)
      return Promise.reject(new ApiError('ServiceUnavailable', 'connection to the apiserver is closed'));
    const id = this.nextId++;
    return new Promise<ApiResult>((resolve, reject) => {
      const timeoutMs = this.opts.requestTimeoutMs ?? 60_000;
      const p: PendingRequest = {
        frame: cred === undefined ? { t: 'req', id, req } : { t: 'req', id, req, cred },
        resolve,
        reject,
        sent: false,
        timer: this.clock.setTimeout(() => {
          this.pending.delete(id);
          reject(
            new ApiError('Timeout', `request ${req.verb} ${req.resource} timed out after ${timeoutMs}ms`),
          );
        }, timeoutMs),
      };
      this.pending.set(id, p);
      // Requests made while (re)connecting wait for the socket; they are sent on open.
      if (this.open) this.sendPending(p);
    });
  }

  watch(
    req: WireRequest,
    onEvent: WatchEventHandler,
    onEnd: WatchEndHandler,
    cred?: number,
  ): WatchSubscription {
    const id = this.nextId++;
    const w: LiveWatch = { req, onEvent, onEnd, lastRV: req.options?.resourceVersion };
    if (cred !== undefined) w.cred = cred;
    if (this.closed) {
      queueMicrotask(() =>
        onEnd(new ApiError('ServiceUnavailable', 'connection to the apiserver is closed')),
      );
      return { stop: () => undefined };
    }
    this.watches.set(id, w);
    if (this.open) this.sendWatch(id, w);
    return {
      stop: () => {
        if (!this.watches.delete(id)) return;
        if (this.open) this.sendFrame({ t: 'unwatch', id });
      },
    };
  }

  /** Close for good: pending requests fail, watches end silently, no reconnect. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.reconnectTimer?.cancel();
    this.pingTimer?.cancel();
    this.watches.clear();
    this.failPending(new ApiError('ServiceUnavailable', 'connection to the apiserver is closed'), true);
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once('close', () => resolve());
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(CLOSE_CODES.normal, 'client closing');
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 1_000).unref();
      });
    }
  }

  private connect(): void {
    if (this.closed) return;
    const headers: Record<string, string> = {};
    if (this.opts.token) headers['Authorization'] = `Bearer ${this.opts.token}`;
    const ws = new WebSocket(this.opts.url, {
      headers,
      ...(this.opts.ca ? { ca: this.opts.ca } : {}),
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    this.ws = ws;
    this.batcher?.clear();
    this.batcher = new FrameBatcher((bytes) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
    });
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => this.onMessage(ws, data, isBinary));
    ws.on('pong', () => (this.missedPongs = 0));
    ws.on('unexpected-response', (_req, res) => {
      const code = res.statusCode ?? 0;
      this.log.error({ code }, 'apiserver refused the internal-face connection');
      if (code === 401 || code === 403) {
        const reason: StatusReason = code === 401 ? 'Unauthorized' : 'Forbidden';
        this.failPending(new ApiError(reason, `apiserver refused the connection: ${code}`), true);
      }
      res.resume();
      ws.terminate();
    });
    ws.on('error', (err) => {
      // an apiserver not listening yet, while the component waits for its first connection, is no news
      const waiting = !this.everOpened && (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      if (waiting) this.log.debug({ err }, 'apiserver not listening yet');
      else this.log.warn({ err }, 'internal-face connection error');
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    this.open = true;
    this.everOpened = true;
    this.backoff = this.initialBackoff;
    this.log.debug('connected to apiserver');
    for (const [id, token] of this.credentials) this.sendFrame({ t: 'cred', id, token });
    for (const p of this.pending.values()) if (!p.sent) this.sendPending(p);
    for (const [id, w] of this.watches) this.sendWatch(id, w);
    this.schedulePing(ws);
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private schedulePing(ws: WebSocket): void {
    const interval = this.opts.pingIntervalMs ?? 5_000;
    this.missedPongs = 0;
    const tick = (): void => {
      if (ws !== this.ws || !this.open) return;
      // a busy apiserver may answer late once or twice; three silent intervals in a row mean it is gone
      if (this.missedPongs >= 3) {
        this.log.warn({ missed: this.missedPongs }, 'apiserver missed its pongs; reconnecting');
        ws.terminate();
        return;
      }
      this.missedPongs++;
      ws.ping();
      this.pingTimer = this.clock.setTimeout(tick, interval);
    };
    this.pingTimer = this.clock.setTimeout(tick, interval);
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    const wasOpen = this.open;
    this.open = false;
    this.pingTimer?.cancel();
    if (this.closed) return;
    if (wasOpen) this.log.warn({ code, reason }, 'connection to apiserver lost; reconnecting');
    // Requests already on the wire may or may not have been applied: their callers decide whether to retry.
    this.failPending(connectionLost(reason || `close code ${code}`), false);
    const delay = this.backoff;
    // A component started with its apiserver (`kubemu up` starts the kubelets beside it) retries its first connection
    // every initialMs for a few seconds instead of backing off: a refused connect on loopback costs next to nothing,
    // and doubling made a kubelet ready a few hundred ms before the apiserver wait up to that long again.
    if (this.everOpened || ++this.startupRetries > STARTUP_RETRIES)
      this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
    // kept alive: a component whose only handle is this connection must wait for the apiserver, not exit 0 (it did,
    // when started before the apiserver listened, and whenever the apiserver was down for longer than a backoff)
    this.reconnectTimer = this.clock.setTimeout(() => this.connect(), delay, { keepAlive: true });
  }

  private failPending(err: ApiError, includeUnsent: boolean): void {
    for (const [id, p] of this.pending) {
      if (!p.sent && !includeUnsent) continue;
      this.pending.delete(id);
      p.timer.cancel();
      p.reject(err);
    }
  }

  private sendFrame(frame: ClientFrame): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.batcher?.push(encodeFrame(frame));
  }

  private sendPending(p: PendingRequest): void {
    p.sent = true;
    this.sendFrame(p.frame);
  }

  private sendWatch(id: number, w: LiveWatch): void {
    const req: WireRequest =
      w.lastRV === undefined ? w.req : { ...w.req, options: { ...w.req.options, resourceVersion: w.lastRV } };
    this.sendFrame(w.cred === undefined ? { t: 'watch', id, req } : { t: 'watch', id, req, cred: w.cred });
  }

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (ws !== this.ws) return;
    let frames: ServerFrame[];
    try {
      if (!isBinary) throw new TypeError('text frame');
      frames = decodeServerFrames(
        Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : new Uint8Array(data),
      );
    } catch (err) {
      this.log.error({ err }, 'malformed frame from apiserver; reconnecting');
      ws.close(CLOSE_CODES.invalidFrame, 'malformed frame');
      return;
    }
    for (const frame of frames) this.onFrame(frame);
  }

  private onFrame(frame: ServerFrame): void {
    switch (frame.t) {
      case 'res': {
        const result: ApiResult = { code: frame.code, body: frame.body };
        if (frame.warnings) result.warnings = frame.warnings;
        if (frame.streamed) {
          // a list: its items follow in `items` frames
          const p = this.pending.get(frame.id);
          if (p) p.streamed = { result, items: [] };
          break;
        }
        this.takePending(frame.id)?.resolve(result);
        break;
      }
      case 'items': {
        const streamed = this.pending.get(frame.id)?.streamed;
        if (!streamed) break;
        for (const item of frame.items) streamed.items.push(item);
        if (!frame.done) break;
        (streamed.result.body as { items: unknown[] }).items = streamed.items;
        this.takePending(frame.id)?.resolve(streamed.result);
        break;
      }
      case 'err':
        this.takePending(frame.id)?.reject(apiErrorFromStatus(frame.status));
        break;
      case 'ev': {
        const w = this.watches.get(frame.id);
        if (!w) break;
        const rv = frame.object.metadata?.resourceVersion;
        if (rv && frame.type !== 'ERROR') w.lastRV = rv;
        w.onEvent({ type: frame.type, object: frame.object });
        break;
      }
      case 'end': {
        const w = this.watches.get(frame.id);
        if (!w) break;
        this.watches.delete(frame.id);
        w.onEnd(frame.status ? apiErrorFromStatus(frame.status) : undefined);
        break;
      }
    }
  }

  private takePending(id: number): PendingRequest | undefined {
    const p = this.pending.get(id);
    if (!p) return undefined;
    this.pending.delete(id);
    p.timer.cancel();
    return p;
  }
}
