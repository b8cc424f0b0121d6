// The gateway's client for its backends: HTTP/1.1 over keep-alive plain sockets, one request at a time per
// connection, as nginx's `proxy_http_version 1.1` with `keepalive`. It does one job, so it costs a third of a general
// client's CPU per request (see docs/design.md): the gateway spends most of its time here.
//
// The caller's handler sees the answer as undici's dispatch handlers do: onConnect(abort), onHeaders(status, raw
// headers, resume) → false pauses, onData(chunk) → false pauses, onComplete(), or onError(err) once instead.
import net from 'node:net';
import type { Readable } from 'node:stream';

export interface UpstreamRequest {
  /** `http://ip:port` */
  origin: string;
  method: string;
  path: string;
  /** as they go out; no Connection or Transfer-Encoding (framing is this client's business) */
  headers: Record<string, string | string[]>;
  /** null: no body; otherwise sent with the request's Content-Length, or chunked when it has none */
  body: Readable | null;
  /** how long the backend may stay silent before the answer's head, and between two reads of its body */
  headersTimeout: number;
  bodyTimeout: number;
}

export interface UpstreamHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: string[], resume: () => void): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

/** Error codes of this client; the others (ECONNREFUSED, ECONNRESET, EPIPE) are the socket's own. */
export const UPSTREAM_ERRORS = {
  connectTimeout: 'UPSTREAM_CONNECT_TIMEOUT',
  headersTimeout: 'UPSTREAM_HEADERS_TIMEOUT',
  bodyTimeout: 'UPSTREAM_BODY_TIMEOUT',
  /** the backend closed the connection before its answer was complete */
  closed: 'UPSTREAM_CLOSED',
  /** the answer is not HTTP/1.1 as RFC 9112 frames it */
  invalid: 'UPSTREAM_INVALID_RESPONSE',
} as const;

export class UpstreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** An answer's head above this size is refused (nginx's proxy_buffer_size is 4-8 KiB; undici's limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');

export interface UpstreamPoolOptions {
  connectTimeoutMs: number;
  /** an idle kept-alive connection is closed after this long */
  keepAliveTimeoutMs?: number;
}

/** Keep-alive connections to every backend endpoint, reused most-recent first. */
export class UpstreamPool {
  private readonly idle = new Map<string, Conn[]>();
  private readonly all = new Set<Conn>();
  private closed = false;

  constructor(private readonly opts: UpstreamPoolOptions) {}

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.closed) {
      handler.onError(new UpstreamError(UPSTREAM_ERRORS.closed, 'the upstream pool is closed'));
      return;
    }
    const reused = this.idle.get(req.origin)?.pop();
    const conn = reused ?? this.connect(req.origin);
    const exchange = new Exchange(this, req, handler, conn, reused !== undefined);
    conn.exchange = exchange;
    exchange.start();
  }

  /** closes every connection, idle or busy */
  destroy(): Promise<void> {
    this.closed = true;
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.clear();
    return Promise.resolve();
  }

  /** @internal the exchange on `conn` is over; a reusable connection waits for the next request to its origin */
  release(conn: Conn, reusable: boolean): void {
    conn.exchange = undefined;
    if (!reusable || this.closed || conn.socket.destroyed) {
      this.drop(conn);
      return;
    }
    const list = this.idle.get(conn.origin);
    if (list) list.push(conn);
    else this.idle.set(conn.origin, [conn]);
    conn.socket.setTimeout(this.opts.keepAliveTimeoutMs ?? 30_000);
  }

  get connectTimeoutMs(): number {
    return this.opts.connectTimeoutMs;
  }

  private connect(origin: string): Conn {
    const u = new URL(origin);
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) });
    socket.setNoDelay(true);
    const conn: Conn = { origin, socket, exchange: undefined };
    this.all.add(conn);
    // Listeners for the connection's whole life, passing events to its exchange of the moment. Idle, a backend may
    // close it at any time; an idle connection that talks or times out is dropped.
    socket.on('data', (chunk: Buffer) => (conn.exchange ? conn.exchange.onData(chunk) : this.drop(conn)));
    socket.on('timeout', () => (conn.exchange ? conn.exchange.timeout() : this.drop(conn)));
    socket.on('error', (err) => (conn.exchange ? conn.exchange.fail(err) : this.drop(conn)));
    socket.on('end', () => (conn.exchange ? conn.exchange.onEnd() : this.drop(conn)));
    socket.on('close', () => (conn.exchange ? conn.exchange.onEnd() : this.drop(conn)));
    return conn;
  }

  private drop(conn: Conn): void {
    conn.socket.destroy();
    if (!this.all.delete(conn)) return;
    const list = this.idle.get(conn.origin);
    const i = list ? list.indexOf(conn) : -1;
    if (i >= 0) list!.splice(i, 1);
  }
}

/** a connection to one backend endpoint and the exchange using it, if any */
interface Conn {
  origin: string;
  socket: net.Socket;
  exchange: Exchange | undefined;
}

type ParseState =
  'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'until-close' | 'done';

/** One request and its answer on one connection. */
class Exchange {
  private state: ParseState = 'head';
  private head: Buffer[] = [];
  private headBytes = 0;
  private remaining = 0;
  private line = '';
  private reusable = true;
  private finished = false;
  private bodySent: boolean;
  private paused = false;
  private connected = false;
  private readonly socket: net.Socket;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly req: UpstreamRequest,
    private readonly handler: UpstreamHandler,
    private readonly conn: Conn,
    private readonly reused: boolean,
  ) {
    this.socket = conn.socket;
    this.bodySent = req.body === null;
  }

  start(): void {
    const s = this.socket;
    this.handler.onConnect((err) => this.fail(err ?? new Error('aborted')));
    if (this.finished) return;
    if (this.reused) {
      this.connected = true;
      s.setTimeout(this.req.headersTimeout);
      this.send();
      return;
    }
    s.setTimeout(this.pool.connectTimeoutMs);
    s.once('connect', () => {
      this.connected = true;
      s.setTimeout(this.req.headersTimeout);
      this.send();
    });
  }

  private send(): void {
    const { method, path, headers, body } = this.req;
    let head = `${method} ${path} HTTP/1.1\r\n`;
    let hasLength = false;
    for (const k in headers) {
      const v = headers[k];
      if (k === 'content-length') hasLength = true;
      if (Array.isArray(v)) for (const one of v) head += `${k}: ${one}\r\n`;
      else head += `${k}: ${v}\r\n`;
    }
    const chunked = body !== null && !hasLength;
    head += chunked ? 'transfer-encoding: chunked\r\n\r\n' : '\r\n';
    this.socket.write(head, 'latin1');
    if (body) void this.sendBody(body, chunked);
  }

  private async sendBody(body: Readable, chunked: boolean): Promise<void> {
    const s = this.socket;
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        // answered (or failed) already: the connection is not reused, the rest of the body is not wanted
        if (this.finished || s.destroyed) return;
        const ok = chunked
          ? s.write(`${chunk.length.toString(16)}\r\n`, 'latin1') && s.write(chunk) && s.write(CRLF)
          : s.write(chunk);
        if (!ok) await new Promise<void>((r) => s.once('drain', r));
      }
      if (chunked && !s.destroyed) s.write('0\r\n\r\n', 'latin1');
      this.bodySent = true;
    } catch (err) {
      this.fail(err as Error);
    }
  }

  timeout(): void {
    if (!this.connected)
      return this.fail(
        new UpstreamError(UPSTREAM_ERRORS.connectTimeout, `connect to ${this.req.origin} timed out`),
      );
    const inHead = this.state === 'head';
    this.fail(
      new UpstreamError(
        inHead ? UPSTREAM_ERRORS.headersTimeout : UPSTREAM_ERRORS.bodyTimeout,
        `${this.req.origin} sent nothing for ${inHead ? this.req.headersTimeout : this.req.bodyTimeout} ms`,
      ),
    );
  }

  onEnd(): void {
    if (this.finished) return;
    if (this.state === 'until-close') return this.bodyDone();
    const err = new UpstreamError(UPSTREAM_ERRORS.closed, `${this.req.origin} closed the connection`);
    // a kept-alive connection the backend had just closed: as a reset (safe to retry a body-less request)
    if (this.reused && this.state === 'head' && this.headBytes === 0)
      (err as { code: string }).code = 'ECONNRESET';
    this.fail(err);
  }

  onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.finished) {
      switch (this.state) {
        case 'head':
          at = this.readHead(chunk, at);
          break;
        case 'length':
        case 'chunk-data': {
          // `remaining` bytes of the body, or of the current chunk
          const n = Math.min(this.remaining, chunk.length - at);
          this.deliver(chunk.subarray(at, at + n));
          at += n;
          this.remaining -= n;
          if (this.remaining > 0 || this.finished) break;
          if (this.state === 'length') this.bodyDone();
          else this.state = 'chunk-crlf';
          break;
        }
        case 'chunk-size':
        case 'chunk-crlf':
        case 'trailers':
          at = this.readChunkLine(chunk, at);
          break;
        case 'until-close':
          this.deliver(chunk.subarray(at));
          at = chunk.length;
          break;
        case 'done':
          at = chunk.length;
          break;
      }
    }
    // bytes after a complete answer: the connection is out of step with the backend, never reuse it
    if (at < chunk.length) this.socket.destroy();
  }

  /** collects the answer's head; returns where its body starts */
  private readHead(chunk: Buffer, at: number): number {
    this.head.push(at === 0 ? chunk : chunk.subarray(at));
    this.headBytes += chunk.length - at;
    const all = this.head.length === 1 ? this.head[0] : Buffer.concat(this.head);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.headBytes > MAX_HEAD_BYTES) this.invalid(`an answer head over ${MAX_HEAD_BYTES} bytes`);
      else this.head = [all];
      return chunk.length;
    }
    this.head = [];
    this.headBytes = 0;
    const consumedFromChunk = end + 4 - (all.length - (chunk.length - at));
    this.onHead(all.toString('latin1', 0, end));
    return at + consumedFromChunk;
  }

  private onHead(text: string): void {
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
    if (!m) return this.invalid(`the status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const status = Number(m[2]);
    const raw: string[] = [];
    let length: number | undefined;
    let chunked = false;
    let otherCoding = false;
    let close = m[1] === '0';
    for (let i = 1; i < lines.length; i++) {
      const l = lines[i];
      const colon = l.indexOf(':');
      // obsolete line folding (a line starting with whitespace) is refused, as RFC 9112 lets a proxy do
      if (colon <= 0 || l.charCodeAt(0) === 32 || l.charCodeAt(0) === 9)
        return this.invalid(`the header line ${JSON.stringify(l.slice(0, 80))}`);
      const name = l.slice(0, colon).toLowerCase();
      if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name))
        return this.invalid(`the header name ${JSON.stringify(name)}`);
      const value = l.slice(colon + 1).trim();
      // control characters (NUL, bare CR or LF) are how headers are injected; nothing downstream should see them
      if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) return this.invalid(`a control character in ${name}`);
      if (name === 'content-length') {
        if (!/^\d+(\s*,\s*\d+)*$/.test(value)) return this.invalid(`Content-Length ${JSON.stringify(value)}`);
        const values = new Set(value.split(',').map((v) => Number(v.trim())));
        if (values.size !== 1 || (length !== undefined && !values.has(length)))
          return this.invalid('conflicting Content-Length values');
        length = [...values][0];
      } else if (name === 'transfer-encoding') {
        const codings = value
          .toLowerCase()
          .split(',')
          .map((c) => c.trim());
        chunked = codings[codings.length - 1] === 'chunked';
        otherCoding = !chunked;
      } else if (name === 'connection') {
        const tokens = value
          .toLowerCase()
          .split(',')
          .map((c) => c.trim());
        if (tokens.includes('close')) close = true;
        else if (m[1] === '0' && tokens.includes('keep-alive')) close = false;
      }
      raw.push(l.slice(0, colon), value);
    }
    if (status < 200) {
      // 100 Continue, 103 Early Hints: the next head is the answer (101 never comes: no Upgrade is sent here)
      if (status === 101) return this.invalid('101 Switching Protocols to a request without Upgrade');
      this.state = 'head';
      return;
    }
    if (close) this.reusable = false;
    const noBody = this.req.method === 'HEAD' || status === 204 || status === 304;
    if (noBody) this.state = 'done';
    else if (chunked) {
      this.state = 'chunk-size';
      // both framings at once is how requests are smuggled: trust the chunks, then close (RFC 9112 §6.3)
      if (length !== undefined) this.reusable = false;
    } else if (otherCoding) {
      this.state = 'until-close';
      this.reusable = false;
    } else if (length !== undefined) {
      this.remaining = length;
      this.state = length === 0 ? 'done' : 'length';
    } else {
      this.state = 'until-close';
      this.reusable = false;
    }
    this.socket.setTimeout(this.req.bodyTimeout);
    let go: boolean;
    try {
      go = this.handler.onHeaders(status, raw, () => this.resume());
    } catch (err) {
      return this.fail(err as Error);
    }
    if (!go) this.pause();
    if (this.state === 'done') this.bodyDone();
  }

  /** one line of chunked framing: a chunk size, the CRLF after a chunk, or a trailer line */
  private readChunkLine(chunk: Buffer, at: number): number {
    const nl = chunk.indexOf(10, at);
    if (nl < 0) {
      this.line += chunk.toString('latin1', at);
      if (this.line.length > 4096) this.invalid('a chunk line over 4 KiB');
      return chunk.length;
    }
    const line = (this.line + chunk.toString('latin1', at, nl)).replace(/\r$/, '');
    this.line = '';
    if (this.state === 'chunk-crlf') {
      if (line !== '') return (this.invalid('chunk data longer than its size'), chunk.length);
      this.state = 'chunk-size';
    } else if (this.state === 'chunk-size') {
      const size = /^([0-9a-fA-F]{1,12})[ \t]*(;.*)?$/.exec(line);
      if (!size) return (this.invalid(`the chunk size ${JSON.stringify(line.slice(0, 40))}`), chunk.length);
      this.remaining = parseInt(size[1], 16);
      this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
    } else if (line === '') this.bodyDone(); // trailers: dropped, as nginx does by default
    return nl + 1;
  }

  private deliver(data: Buffer): void {
    if (data.length === 0) return;
    if (!this.handler.onData(data)) this.pause();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  /** The answer is complete. One that came before the request's body was all sent closes the connection. */
  private bodyDone(): void {
    this.state = 'done';
    this.finished = true;
    this.resume();
    this.socket.setTimeout(0);
    this.pool.release(this.conn, this.reusable && this.bodySent);
    this.handler.onComplete();
  }

  private invalid(what: string): void {
    this.fail(
      new UpstreamError(UPSTREAM_ERRORS.invalid, `${this.req.origin} sent an invalid answer: ${what}`),
    );
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.state = 'done';
    this.socket.setTimeout(0);
    this.pool.release(this.conn, false);
    this.handler.onError(err);
  }
}
