// The apiserver's internal face: one WebSocket per component, msgpack frames, multiplexed watches.
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { ApiError, errors } from '../../api/errors.js';
import type { ApiHandler, ApiRequest, UserInfo, WatchEvent, WatchHandle } from '../../api/request.js';
import {
  CLOSE_CODES,
  MAX_FRAME_BYTES,
  decodeClientFrames,
  encodeAnswer,
  encodeFrame,
  encodeWatchEvent,
  type ClientFrame,
  type ServerFrame,
  type WireRequest,
} from '../../api/wire.js';
import type { Logger } from '../../util/logger.js';
import { InflightLimiter, type InflightLimits } from './inflight.js';
import { Outbox } from './outbox.js';

export interface WebSocketFaceOptions {
  /** the upgrade path, e.g. '/kubemu/v1/ws' */
  path: string;
  handler: ApiHandler;
  authenticate(req: http.IncomingMessage): UserInfo | undefined;
  /**
   * a bearer token a `cred` frame registered (see CredentialFrame): its user, or undefined (401). Without it, requests
   * naming a credential get 401.
   */
  authenticateToken?(token: string): UserInfo | undefined;
  logger: Logger;
  /** a watch is cut off (410 Expired) once the socket has more than this many bytes queued; default 16 MiB */
  maxBufferedBytes?: number;
  /** ping every this many ms; default 5 s */
  pingIntervalMs?: number;
  /** a connection that leaves this many pings in a row unanswered is terminated; default 3 */
  maxMissedPongs?: number;
  /** the largest frame accepted from a client; default MAX_FRAME_BYTES */
  maxFrameBytes?: number;
  /** per connection: requests executing at once, and waiting; past both, 429 (see InflightLimiter) */
  limits?: InflightLimits;
  /** answers are written while the socket has less than this buffered; default 1 MiB */
  highWaterBytes?: number;
  /** watches one connection may hold open; more end at once with 429; default 1024 */
  maxWatches?: number;
}

export interface WebSocketFace {
  close(): Promise<void>;
  connections(): number;
}

const DEFAULT_MAX_BUFFERED = 16 * 1024 * 1024;
const DEFAULT_PING_INTERVAL = 5_000;
const DEFAULT_MAX_WATCHES = 1024;
/** credentials one connection may register (a controller-manager has one per controller) */
const MAX_CREDENTIALS = 256;
/** how long a credential's authentication is reused, as upstream's token cache (10 s for success and failure) */
const CREDENTIAL_TTL_MS = 10_000;

interface Credential {
  token: string;
  /** the last authentication's user (undefined: refused) and until when it stands */
  user?: UserInfo;
  until: number;
}
/**
 * Answers wait for the socket to drain and watches are cut off past maxBufferedBytes, so only refusals (429) could
 * pile up beyond it: a client with this many times maxBufferedBytes unread is not reading, and is disconnected.
 */
const UNREAD_LIMIT_FACTOR = 4;

interface WatchEntry {
  handle?: WatchHandle;
  stopped: boolean;
}

function statusOf(err: unknown, logger: Logger): ApiError {
  if (ApiError.isApiError(err)) return err;
  logger.error({ err }, 'handler failed with a non-ApiError');
  return errors.internal(err instanceof Error ? err.message : 'unknown error', err);
}

/** Serve the internal face on `server`'s upgrade requests to `opts.path`. */
export function attachWebSocketFace(
  server: http.Server | https.Server,
  opts: WebSocketFaceOptions,
): WebSocketFace {
  const logger = opts.logger;
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  const pingInterval = opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL;
  const maxMissedPongs = opts.maxMissedPongs ?? 3;
  const maxWatches = opts.maxWatches ?? DEFAULT_MAX_WATCHES;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxFrameBytes ?? MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  // consecutive pings a connection left unanswered: a busy client may be late once or twice
  const missed = new WeakMap<WebSocket, number>();

  const onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== opts.path) {
      // Other upgrade paths (exec, port-forward) may belong to another listener; refuse only if none.
      if (server.listenerCount('upgrade') <= 1)
        refuse(socket, 404, 'NotFound', `the server could not find the requested resource`);
      return;
    }
    let user: UserInfo | undefined;
    try {
      user = opts.authenticate(req);
    } catch (err) {
      logger.error({ err }, 'authenticate threw');
    }
    if (!user) {
      logger.info({ remote: req.socket.remoteAddress }, 'unauthenticated internal-face connection refused');
      refuse(socket, 401, 'Unauthorized', 'Unauthorized');
      return;
    }
    const who = user;
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, who));
  };
  server.on('upgrade', onUpgrade);

  function serveConnection(ws: WebSocket, user: UserInfo): void {
    const log = logger.child({ user: user.username });
    const watches = new Map<number, WatchEntry>();
    missed.set(ws, 0);
    log.debug('internal-face connection open');

    const outbox = new Outbox(
      {
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
        send: (bytes, done) => {
          if (ws.readyState === WebSocket.OPEN) ws.send(bytes, done);
          else done();
        },
      },
      opts.highWaterBytes !== undefined ? { highWaterBytes: opts.highWaterBytes } : {},
    );
    const limiter = new InflightLimiter(opts.limits);
    let refusing = false;
    const send = (bytes: Buffer): void => outbox.push(bytes);
    const sendFrame = (frame: ServerFrame): void => send(encodeFrame(frame));

    const credentials = new Map<number, Credential>();
    /** the user of a request: the connection's, or that of the credential it names (each request authenticated) */
    const userOf = (cred: number | undefined): UserInfo => {
      if (cred === undefined) return user;
      const c = credentials.get(cred);
      if (!c) throw errors.unauthorized();
      const now = Date.now();
      if (now >= c.until) {
        let who: UserInfo | undefined;
        try {
          who = opts.authenticateToken?.(c.token);
        } catch (err) {
          log.error({ err }, 'authenticateToken threw');
        }
        if (who) c.user = who;
        else delete c.user;
        c.until = now + CREDENTIAL_TTL_MS;
      }
      if (!c.user) throw errors.unauthorized();
      return c.user;
    };
    const toRequest = (w: WireRequest, cred?: number): ApiRequest => ({
      ...w,
      options: w.options ?? {},
      user: userOf(cred),
    });

    // Holds its in-flight slot until the whole answer is in the socket: a client that does not read its answers
    // stops its own queue, not the server's memory.
    const answer = async (id: number, w: WireRequest, cred?: number): Promise<void> => {
      let frames: Iterable<Buffer, void, undefined>;
      try {
        frames = encodeAnswer(id, await opts.handler.handle(toRequest(w, cred)), w.verb === 'list');
      } catch (err) {
        frames = [encodeFrame({ t: 'err', id, status: statusOf(err, log).toStatus() })];
      }
      try {
        await outbox.stream(frames);
      } catch (err) {
        sendFrame({ t: 'err', id, status: statusOf(err, log).toStatus() });
      }
    };

    // Refusals are written at once (they are small), so they are what a client that sends without reading could
    // pile up: past the unread limit it is disconnected. One log line per burst of refusals, not one per request.
    const refuse = (frame: ServerFrame, why: string): void => {
      if (outbox.buffered() > maxBuffered * UNREAD_LIMIT_FACTOR) {
        log.warn({ buffered: outbox.buffered() }, 'client does not read its answers; closing');
        ws.close(CLOSE_CODES.policyViolation, 'too many unread answers');
        return;
      }
      if (!refusing) {
        refusing = true;
        log.warn(
          { inflight: limiter.inflight(), queued: limiter.queued(), watches: watches.size },
          `${why}; answering 429`,
        );
      }
      sendFrame(frame);
    };

    const handleRequest = (id: number, w: WireRequest, cred?: number): void => {
      if (limiter.submit(() => answer(id, w, cred))) refusing = false;
      else
        refuse(
          { t: 'err', id, status: errors.tooManyRequests().toStatus() },
          'too many requests in flight on one connection',
        );
    };

    const endWatch = (id: number, entry: WatchEntry, err?: unknown): void => {
      if (entry.stopped) return;
      entry.stopped = true;
      watches.delete(id);
      entry.handle?.stop();
      sendFrame(
        err === undefined ? { t: 'end', id } : { t: 'end', id, status: statusOf(err, log).toStatus() },
      );
    };

    const startWatch = async (id: number, w: WireRequest, cred?: number): Promise<void> => {
      if (watches.has(id)) {
        sendFrame({ t: 'end', id, status: errors.badRequest(`watch id ${id} is already in use`).toStatus() });
        return;
      }
      if (watches.size >= maxWatches) {
        refuse(
          { t: 'end', id, status: errors.tooManyRequests().toStatus() },
          'too many watches on one connection',
        );
        return;
      }
      const entry: WatchEntry = { stopped: false };
      watches.set(id, entry);
      const sink = {
        event: (ev: WatchEvent): boolean => {
          if (entry.stopped) return false;
          send(encodeWatchEvent(id, ev.type, ev.object));
          if (outbox.buffered() > maxBuffered) {
            // Bounded server memory: a watcher that cannot keep up relists instead of queueing forever.
            log.warn(
              { watch: id, resource: w.resource, buffered: ws.bufferedAmount },
              'watch cut off: client too slow',
            );
            endWatch(id, entry, errors.gone('watch cut off: client too slow'));
            return false;
          }
          return true;
        },
        end: (err?: unknown): void => endWatch(id, entry, err),
      };
      try {
        const handle = await opts.handler.watch(toRequest(w, cred), sink);
        if (entry.stopped) handle.stop();
        else entry.handle = handle;
      } catch (err) {
        endWatch(id, entry, err);
      }
    };

    const onFrame = (frame: ClientFrame): void => {
      switch (frame.t) {
        case 'req':
          handleRequest(frame.id, frame.req, frame.cred);
          break;
        case 'watch':
          void startWatch(frame.id, frame.req, frame.cred);
          break;
        case 'cred':
          if (!credentials.has(frame.id) && credentials.size >= MAX_CREDENTIALS) {
            log.warn({ credentials: credentials.size }, 'too many credentials on one connection; closing');
            ws.close(CLOSE_CODES.policyViolation, 'too many credentials');
            return;
          }
          credentials.set(frame.id, { token: frame.token, until: 0 });
          break;
        case 'unwatch': {
          const entry = watches.get(frame.id);
          if (entry) endWatch(frame.id, entry);
          break;
        }
      }
    };

    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        log.warn('text frame on the internal face; closing');
        ws.close(CLOSE_CODES.unsupportedData, 'binary msgpack frames only');
        return;
      }
      let frames: ClientFrame[];
      try {
        frames = decodeClientFrames(rawBytes(data));
      } catch (err) {
        const reason = err instanceof Error ? err.message : 'malformed frame';
        log.warn({ err }, 'malformed frame on the internal face; closing');
        ws.close(CLOSE_CODES.invalidFrame, `malformed frame: ${reason}`.slice(0, 120));
        return;
      }
      for (const frame of frames) onFrame(frame);
    });
    ws.on('pong', () => missed.set(ws, 0));
    ws.on('error', (err) => log.warn({ err }, 'internal-face connection error'));
    ws.on('close', (code, reason) => {
      log.debug({ code, reason: reason.toString() }, 'internal-face connection closed');
      outbox.close();
      limiter.close();
      for (const [id, entry] of watches) {
        entry.stopped = true;
        entry.handle?.stop();
        watches.delete(id);
      }
    });
  }

  const pinger = setInterval(() => {
    for (const ws of wss.clients) {
      const count = missed.get(ws) ?? 0;
      if (count >= maxMissedPongs) {
        logger.warn({ missed: count }, 'internal-face connection missed its pongs; terminating');
        ws.terminate();
        continue;
      }
      missed.set(ws, count + 1);
      ws.ping();
    }
  }, pingInterval);
  pinger.unref();

  return {
    connections: () => wss.clients.size,
    async close(): Promise<void> {
      clearInterval(pinger);
      server.off('upgrade', onUpgrade);
      const closing = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.close(CLOSE_CODES.goingAway, 'apiserver shutting down');
            // A peer that never answers the close handshake must not hold shutdown up.
            setTimeout(() => ws.terminate(), 1_000).unref();
          }),
      );
      await Promise.all(closing);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function refuse(socket: Duplex, code: number, reason: string, message: string): void {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
  const text = code === 401 ? 'Unauthorized' : 'Not Found';
  socket.end(
    `HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function rawBytes(data: RawData): Uint8Array {
  if (Buffer.isBuffer(data)) return data;
  return Array.isArray(data) ? Buffer.concat(data) : new Uint8Array(data);
}
