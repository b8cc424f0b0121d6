// port-forward over SPDY (portforward.k8s.io), as upstream's kubelet portforward/httpstream.go: for each local
// connection kubectl opens two streams with the same `requestid` and `port` headers, `error` and `data`; the kubelet
// connects to that port in the pod and copies bytes both ways. A connection that fails (nothing listening) gets
// upstream's message on its error stream, and the session goes on serving the others.
import net from 'node:net';
import type { Logger } from '../../util/logger.js';
import type { SpdySession, SpdyStream } from './spdy/session.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** upstream's streamCreationTimeout: a pair whose second stream never comes is dropped */
const PAIR_TIMEOUT_MS = 30_000;

export interface PortForwardTarget {
  /** the pod's name and uid, for messages */
  pod: string;
  uid: string;
  /** the pod IP, for messages */
  host: string;
  /**
   * A connection to the pod's `port`: today the pod IP on the shared loopback; with per-pod network namespaces, a
   * dial from inside the pod's namespace (upstream connects to localhost there).
   */
  connect(port: number): net.Socket;
  log: Logger;
}

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Validates a stream's headers as upstream's httpStreamReceived; a message when it is refused. */
function checkHeaders(stream: SpdyStream): string | undefined {
  const port = stream.header('port');
  if (!port) return `"port" header is required`;
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = stream.header('streamtype');
  if (!type) return `"streamType" header is required`;
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return undefined;
}

export function servePortForward(session: SpdySession, target: PortForwardTarget): void {
  const pairs = new Map<string, Pair>();
  session.on('close', () => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
  session.on('stream', (stream) => {
    const refused = checkHeaders(stream);
    if (refused) {
      target.log.debug({ refused }, 'port-forward stream refused');
      stream.destroy();
      return;
    }
    const type = stream.header('streamtype') as 'error' | 'data';
    // very old clients send no request id: upstream derives one from the stream id
    const requestId = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    let pair = pairs.get(requestId);
    if (!pair) {
      const timer = setTimeout(() => {
        pairs.delete(requestId);
        const p = pair!;
        p.error?.end(`(conn=${target.pod}, request=${requestId}) timed out waiting for streams`);
        p.data?.destroy();
      }, PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(requestId, pair);
    }
    if (pair[type]) {
      pair.error?.write(`error processing stream for request ${requestId}: ${type} stream already assigned`);
      stream.destroy();
      return;
    }
    pair[type] = stream;
    if (!pair.error || !pair.data) return;
    clearTimeout(pair.timer);
    pairs.delete(requestId);
    forward(pair.data, pair.error, Number(stream.header('port')), target);
  });
}

/** The message a client gets on the error stream when the pod's port cannot be reached (upstream's words). */
export function connectFailure(target: PortForwardTarget, port: number, err: NodeJS.ErrnoException): string {
  const cause =
    err.code === 'ECONNREFUSED'
      ? `dial tcp4 ${target.host}:${port}: connect: connection refused`
      : `dial tcp4 ${target.host}:${port}: ${err.message}`;
  return `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: failed to connect to localhost:${port} inside the pod's network, IPv4: ${cause}`;
}

function forward(data: SpdyStream, error: SpdyStream, port: number, target: PortForwardTarget): void {
  error.resume(); // the client writes nothing on it
  const socket = target.connect(port);
  let connected = false;
  socket.once('connect', () => {
    connected = true;
    data.pipe(socket);
    socket.pipe(data);
  });
  socket.once('error', (err: NodeJS.ErrnoException) => {
    if (!connected) {
      error.end(connectFailure(target, port, err));
      data.end();
      return;
    }
    // a reset mid-copy ends this connection only (upstream keeps serving after EPIPE/ECONNRESET)
    data.destroy();
    error.end();
  });
  socket.once('close', () => {
    if (!connected) return;
    error.end();
    data.end();
  });
  data.once('close', () => socket.destroy());
  data.on('error', () => socket.destroy());
}
