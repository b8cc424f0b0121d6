// The framing of upstream's wsstream (k8s.io/apimachinery/pkg/util/httpstream/wsstream/conn.go) shared by exec,
// attach and port-forward over WebSocket: each message is one channel's data behind a channel byte. The binary
// subprotocols send the byte and the raw data; the base64 ones (`base64.channel.k8s.io`, `v4.base64.channel.k8s.io`,
// for browsers) send text: the channel as an ASCII digit, then the data in base64. Like wsstream, a message's frame
// type is not looked at on receipt: the Python client writes its text stdin as text frames.
import type { WebSocket } from 'ws';

/** The subprotocol the client prefers among `served`, as wsstream's handshake picks (the client's order wins). */
export function negotiateChannelProtocol(
  offered: Iterable<string>,
  served: readonly string[],
): string | undefined {
  const list = [...offered];
  if (list.length === 0) return served.includes('') ? '' : undefined;
  return list.find((p) => served.includes(p));
}

/** wsstream's handshake refusal */
export function unsupportedProtocolMessage(offered: Iterable<string>, served: readonly string[]): string {
  return `requested protocol(s) are not supported: [${[...offered].join(' ')}]; supports [${served.join(' ')}]`;
}

/** whether the subprotocol is one of the base64 variants */
export function isBase64Protocol(protocol: string): boolean {
  return protocol === 'base64.channel.k8s.io' || protocol.endsWith('.base64.channel.k8s.io');
}

/** The binary protocol a base64 one stands for (its version decides the error channel's content). */
export function binaryProtocolOf(protocol: string): string {
  if (protocol === 'base64.channel.k8s.io') return 'channel.k8s.io';
  return protocol.replace('.base64.channel.k8s.io', '.channel.k8s.io');
}

export interface ChannelFrame {
  channel: number;
  payload: Buffer;
}

export interface ChannelCodec {
  /** one message for the client; `done` once it is in the socket */
  send(ws: WebSocket, channel: number, data: Buffer, done?: () => void): void;
  /** a message from the client, or undefined when it is empty or its base64 is malformed (wsstream drops those) */
  decode(data: Buffer): ChannelFrame | undefined;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function channelCodec(protocol: string): ChannelCodec {
  if (!isBase64Protocol(protocol))
    return {
      send(ws, channel, data, done) {
        ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true }, () => done?.());
      },
      decode(data) {
        if (data.length === 0) return undefined;
        return { channel: data[0], payload: data.subarray(1) };
      },
    };
  return {
    send(ws, channel, data, done) {
      ws.send(String.fromCharCode(48 + channel) + data.toString('base64'), { binary: false }, () => done?.());
    },
    decode(data) {
      if (data.length === 0) return undefined;
      const text = data.subarray(1).toString('latin1');
      if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
      return { channel: (data[0] - 48) & 0xff, payload: Buffer.from(text, 'base64') };
    },
  };
}
