// exec/attach over WebSocket, as upstream's wsstream (k8s.io/apimachinery/pkg/util/httpstream/wsstream) serves it:
// every message is one channel's data, its first byte the channel — 0 stdin, 1 stdout, 2 stderr, 3 error,
// 4 resize — and v5.channel.k8s.io adds 255, CLOSE, whose one byte of payload names the channel the client is done
// with (kubectl ≥ 1.30 half-closes stdin with it). The error channel carries the result, then the connection closes
// normally, which is what ends the client's reads. Framing (binary or base64) is ws-codec's.
import { PassThrough, Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  errorStreamPayload,
  ResizeDecoder,
  STREAM_PROTOCOL_V1,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V5,
  type CommandResult,
  type CommandStreams,
  type TerminalSize,
} from './command-streams.js';
import { binaryProtocolOf, channelCodec } from './ws-codec.js';

/**
 * The subprotocols upstream's remotecommand serves over WebSocket (createWebSocketStreams): '' (no subprotocol,
 * meaning channel.k8s.io), channel.k8s.io and v4/v5 binary, and the base64 variants of channel.k8s.io and v4.
 */
export const CHANNEL_PROTOCOLS = [
  '',
  STREAM_PROTOCOL_V1,
  'base64.channel.k8s.io',
  STREAM_PROTOCOL_V4,
  'v4.base64.channel.k8s.io',
  STREAM_PROTOCOL_V5,
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

export function websocketCommandStreams(ws: WebSocket, opts: ChannelOptions): CommandStreams {
  const codec = channelCodec(ws.protocol);
  const protocol = binaryProtocolOf(ws.protocol || STREAM_PROTOCOL_V1);
  const resizeHandlers: ((s: TerminalSize) => void)[] = [];
  const resize = new ResizeDecoder();
  const stdin = opts.stdin ? new PassThrough() : undefined;
  let finished = false;

  const channelWriter = (id: number): Writable =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (ws.readyState !== ws.OPEN) return cb();
        // the callback comes once the frame is in the socket: the command's output is paced by the client
        codec.send(ws, id, chunk, () => cb());
      },
    });

  // text frames too: wsstream reads every message as bytes (the Python client writes str stdin as text)
  ws.on('message', (data: Buffer) => {
    if (protocol === STREAM_PROTOCOL_V5 && data[0] === CLOSE) {
      if (data[1] === STDIN) stdin?.end();
      return;
    }
    const frame = codec.decode(data);
    if (!frame) return;
    const { channel: id, payload } = frame;
    if (id === STDIN && stdin && !stdin.writableEnded) {
      if (!stdin.write(payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (id === RESIZE) {
      for (const size of resize.push(payload)) for (const h of resizeHandlers) h(size);
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
      if (payload && ws.readyState === ws.OPEN) codec.send(ws, ERROR, payload);
      ws.close(1000);
    },
    closed,
  };
}
