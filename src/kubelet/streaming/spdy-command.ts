// exec/attach over SPDY (kubectl 1.27–1.29, and newer ones' fallback), as upstream's kubelet remotecommand/httpstream.go:
// the client opens one stream per standard stream plus `error` (and `resize` with a TTY), each named by its
// `streamtype` header; the command starts once all that were asked for exist. The result goes on the error stream,
// every stream is half-closed, and the connection ends.
import type { Readable } from 'node:stream';
import {
  errorStreamPayload,
  ResizeDecoder,
  STREAM_PROTOCOL_V1,
  STREAM_PROTOCOL_V2,
  STREAM_PROTOCOL_V3,
  STREAM_PROTOCOL_V4,
  type CommandResult,
  type CommandStreams,
  type TerminalSize,
} from './command-streams.js';
import type { ChannelOptions } from './ws-channels.js';
import type { SpdySession, SpdyStream } from './spdy/session.js';

/** the X-Stream-Protocol-Version values served over SPDY, preferred first (upstream's kubelet: v4 … v1) */
export const SPDY_COMMAND_PROTOCOLS = [
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V3,
  STREAM_PROTOCOL_V2,
  STREAM_PROTOCOL_V1,
];

/** upstream's streamCreationTimeout (30 s): streams the client never opens end the session */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** Waits for the streams `opts` asks for; resolves with them, or undefined when the session ends first. */
export function spdyCommandStreams(
  session: SpdySession,
  protocol: string,
  opts: ChannelOptions,
): Promise<CommandStreams | undefined> {
  const wanted = new Set<string>(['error']);
  // v1 has no error stream of its own worth waiting for, but kubectl opens one anyway from v2 on
  if (protocol === STREAM_PROTOCOL_V1) wanted.delete('error');
  if (opts.stdin) wanted.add('stdin');
  if (opts.stdout) wanted.add('stdout');
  if (opts.stderr && !opts.tty) wanted.add('stderr');
  if (opts.tty && protocol !== STREAM_PROTOCOL_V1 && protocol !== STREAM_PROTOCOL_V2) wanted.add('resize');
  const got = new Map<string, SpdyStream>();
  const resizeHandlers: ((s: TerminalSize) => void)[] = [];
  const closed = new Promise<void>((resolve) => session.once('close', resolve));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      session.off('stream', onStream);
      session.close();
      resolve(undefined);
    }, STREAM_CREATION_TIMEOUT_MS);
    timer.unref();
    void closed.then(() => {
      clearTimeout(timer);
      resolve(undefined);
    });
    const onStream = (stream: SpdyStream): void => {
      const type = stream.header('streamtype') ?? '';
      if (!wanted.has(type) || got.has(type)) {
        stream.destroy();
        return;
      }
      got.set(type, stream);
      if (type === 'resize') {
        const decoder = new ResizeDecoder();
        stream.on('data', (c: Buffer) => {
          for (const size of decoder.push(c)) for (const h of resizeHandlers) h(size);
        });
      }
      if (type === 'error' || type === 'stdout' || type === 'stderr') stream.resume();
      if (got.size < wanted.size) return;
      clearTimeout(timer);
      session.off('stream', onStream);
      const stdin: Readable | undefined = got.get('stdin');
      let finished = false;
      resolve({
        protocol,
        tty: opts.tty,
        ...(stdin ? { stdin } : {}),
        ...(got.get('stdout') ? { stdout: got.get('stdout')! } : {}),
        ...(got.get('stderr') ? { stderr: got.get('stderr')! } : {}),
        onResize(cb) {
          resizeHandlers.push(cb);
        },
        finish(result: CommandResult) {
          if (finished) return;
          finished = true;
          const error = got.get('error');
          const payload = errorStreamPayload(protocol, result);
          if (error && payload) error.write(payload);
          // every stream half-closed (stdout and stderr after what is queued on them), then GOAWAY
          const ends = [...got.values()].map((s) => new Promise<void>((r) => s.end(() => r())));
          const stuck = new Promise<void>((r) => setTimeout(r, 5000).unref());
          void Promise.race([Promise.all(ends), stuck]).then(() => session.goAway());
        },
        closed,
      });
    };
    session.on('stream', onStream);
  });
}
