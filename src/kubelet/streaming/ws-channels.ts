// exec/attach over WebSocket, as upstream's wsstream (k8s.io/apimachinery/pkg/util/httpstream/wsstream) serves it:
// every binary message is one channel's data, its first byte the channel — 0 stdin, 1 stdout, 2 stderr, 3 error,
// 4 resize — and v5.channel.k8s.io adds 255, CLOSE, whose one byte of payload names the channel the client is done
// with (kubectl ≥ 1.30 half-closes stdin with it). The error channel carries the result, then the connection closes
// normally, which is what ends the client's reads.
import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  errorStreamPayload,
  ResizeDecoder,
  STREAM_PROTOCOL_V1,
  STREAM_PROTOCOL_V2,
  STREAM_PROTOCOL_V3,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V5,
  type CommandResult,
  type CommandStreams,
  type TerminalSize,
} from './command-streams.js';

/** the subprotocols served, preferred first (kubectl 1.30+ asks for v5 only) */
export const CHANNEL_PROTOCOLS = [
  STREAM_PROTOCOL_V5,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V3,
  STREAM_PROTOCOL_V2,
  STREAM_PROTOCOL_V1,
];

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;
const CLOSE = 255;

export interface ChannelOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The client's choice among CHANNEL_PROTOCOLS; '' (no subprotocol) means channel.k8s.io, as upstream. */
export function pickChannelProtocol(offered: Set<string>): string | false {
  if (offered.size === 0) return '';
  return CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false;
}

export function websocketCommandStreams(ws: WebSocket, opts: ChannelOptions): CommandStreams {
  const protocol = ws.protocol || STREAM_PROTOCOL_V1;
  const resizeHandlers: ((s: TerminalSize) => void)[] = [];
  const resize = new ResizeDecoder();
  const stdin = opts.stdin ? new PassThrough() : undefined;
  let finished = false;

  const channelWriter = (id: number): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (ws.readyState !== ws.OPEN) return cb();
        // the callback comes once the frame is in the socket: the command's output is paced by the client
        ws.send(Buffer.concat([Buffer.from([id]), chunk]), { binary: true }, () => cb());
      },
    });

  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (!isBinary || data.length === 0) return;
    const id = data[0];
    const payload = data.subarray(1);
    if (id === STDIN && stdin && !stdin.writableEnded) {
      if (!stdin.write(payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (id === RESIZE) {
      for (const size of resize.push(payload)) for (const h of resizeHandlers) h(size);
    } else if (id === CLOSE && protocol === STREAM_PROTOCOL_V5 && payload[0] === STDIN) {
      stdin?.end();
    }
  });

  const closed = new Promise<void>((resolve) => {
    ws.once('close', () => {
      stdin?.end();
      resolve();
    });
  });

  return {
    protocol,
    tty: opts.tty,
    ...(stdin ? { stdin } : {}),
    ...(opts.stdout ? { stdout: channelWriter(STDOUT) } : {}),
    ...(opts.stderr && !opts.tty ? { stderr: channelWriter(STDERR) } : {}),
    onResize(cb) {
      resizeHandlers.push(cb);
    },
    finish(result: CommandResult) {
      if (finished) return;
      finished = true;
      const payload = errorStreamPayload(protocol, result);
      if (payload && ws.readyState === ws.OPEN)
        ws.send(Buffer.concat([Buffer.from([ERROR]), payload]), { binary: true });
      ws.close(1000);
    },
    closed,
  };
}
