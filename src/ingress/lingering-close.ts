// nginx's lingering close: after the gateway answers early (413) while the client is still sending its body, keep
// reading — and discarding — what it sends for a while before closing. Closing a socket with unread data makes the
// kernel send a reset, and a client still writing then sees EPIPE/ECONNRESET instead of the answer waiting for it.
import type { IncomingMessage } from 'node:http';

/** nginx's lingering_time and lingering_timeout */
export const LINGERING_TIME_MS = 30_000;
export const LINGERING_TIMEOUT_MS = 5_000;

/**
 * Arrange for the connection of `req` (HTTP/1) to close lingeringly once its answer is sent. Node's server closes a
 * `Connection: close` response's socket through `socket.destroySoon()`; this replaces that for this one socket with:
 * send our FIN, discard what still arrives, and destroy when the client closes, goes quiet for 5 s, or after 30 s.
 */
export function lingerOnClose(
  req: IncomingMessage,
  timing = { total: LINGERING_TIME_MS, idle: LINGERING_TIMEOUT_MS },
): void {
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  if (req.complete || socket.destroyed || typeof socket.destroySoon !== 'function') return;
  socket.destroySoon = () => {
    socket.end();
    req.resume(); // the body goes nowhere; Node's parser keeps consuming it
    let idle: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(total);
      clearTimeout(idle);
      socket.off('data', quiet);
      socket.destroy();
    };
    const quiet = (): void => {
      clearTimeout(idle);
      idle = setTimeout(finish, timing.idle);
      idle.unref();
    };
    const total = setTimeout(finish, timing.total);
    total.unref();
    quiet();
    socket.on('data', quiet);
    socket.once('end', finish);
    socket.once('close', finish);
  };
}
