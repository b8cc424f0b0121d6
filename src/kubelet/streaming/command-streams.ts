// What exec and attach need from a connection, whichever wire it came on (WebSocket channels or SPDY streams):
// the standard streams the client asked for, terminal resizes, and one way to report how the command ended.
import type { Readable, Writable } from 'node:stream';

export interface TerminalSize {
  width: number;
  height: number;
}

/** The remote command protocol versions (upstream's k8s.io/apimachinery/pkg/util/remotecommand). */
export const STREAM_PROTOCOL_V1 = 'channel.k8s.io';
export const STREAM_PROTOCOL_V2 = 'v2.channel.k8s.io';
export const STREAM_PROTOCOL_V3 = 'v3.channel.k8s.io';
export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';
export const STREAM_PROTOCOL_V5 = 'v5.channel.k8s.io';

/** How a command ended, as the kubelet reports it on the error stream. */
export type CommandResult =
  { kind: 'success' } | { kind: 'exit'; code: number; argv: string[] } | { kind: 'error'; message: string };

export interface CommandStreams {
  /** the negotiated protocol (SPDY's X-Stream-Protocol-Version, or the WebSocket subprotocol) */
  protocol: string;
  stdin?: Readable;
  stdout?: Writable;
  stderr?: Writable;
  tty: boolean;
  /** terminal sizes as the client sends them (the resize stream/channel) */
  onResize(cb: (size: TerminalSize) => void): void;
  /** Reports the result on the error stream and closes the connection, after what was written to stdout/stderr. */
  finish(result: CommandResult): void;
  /** resolves when the client is gone (or finish closed the connection) */
  closed: Promise<void>;
}

/**
 * The error stream's content for a result. v4 and later send a metav1.Status (kubectl turns NonZeroExitCode into
 * `command terminated with exit code N` and exits with N); earlier versions a plain message, nothing on success.
 */
export function errorStreamPayload(protocol: string, result: CommandResult): Buffer | undefined {
  const v4 = protocol === STREAM_PROTOCOL_V4 || protocol === STREAM_PROTOCOL_V5;
  if (result.kind === 'success')
    return v4 ? Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' })) : undefined;
  if (result.kind === 'exit') {
    const message = `command terminated with non-zero exit code: error executing command [${result.argv.join(' ')}], exit code ${result.code}`;
    if (!v4) return Buffer.from(message);
    return Buffer.from(
      JSON.stringify({
        metadata: {},
        status: 'Failure',
        message,
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: String(result.code) }] },
      }),
    );
  }
  if (!v4) return Buffer.from(result.message);
  return Buffer.from(
    JSON.stringify({
      metadata: {},
      status: 'Failure',
      message: `Internal error occurred: ${result.message}`,
      reason: 'InternalError',
      details: { causes: [{ message: result.message }] },
      code: 500,
    }),
  );
}

/** Reads a stream of TerminalSize JSON objects (`{"Width":80,"Height":24}`), one after another, as Go's json.Decoder. */
export class ResizeDecoder {
  private buf = '';

  push(chunk: Buffer | string): TerminalSize[] {
    this.buf += chunk.toString();
    const out: TerminalSize[] = [];
    for (;;) {
      const start = this.buf.indexOf('{');
      const end = this.buf.indexOf('}', start);
      if (start < 0 || end < 0) break;
      const text = this.buf.slice(start, end + 1);
      this.buf = this.buf.slice(end + 1);
      try {
        const v = JSON.parse(text) as { Width?: number; Height?: number };
        const width = Number(v.Width ?? 0);
        const height = Number(v.Height ?? 0);
        if (Number.isInteger(width) && Number.isInteger(height) && width >= 0 && height >= 0)
          out.push({ width, height });
      } catch {
        // a malformed size is dropped, as upstream's handleResizeEvents stops decoding
      }
    }
    if (this.buf.length > 4096) this.buf = '';
    return out;
  }
}
