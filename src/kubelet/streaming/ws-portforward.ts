// port-forward over WebSocket channels, as upstream's kubelet serves it (pkg/kubelet/cri/streaming/portforward/
// websocket.go) to the Python client and @kubernetes/client-node: the ports come in the query; port i gets a data
// channel 2i and an error channel 2i+1, each opened by the port as two little-endian bytes. The kubelet connects
// to every port at once and copies bytes both ways; a port that cannot be reached gets upstream's message on its
// error channel. When every port's connection has ended the WebSocket closes, which is how the client learns it.
import type { WebSocket } from 'ws';
import { connectFailure, type PortForwardTarget } from './portforward.js';
import { channelCodec } from './ws-codec.js';

/** the subprotocols upstream's handleWebSocketStreams serves ('' is a client that offers none) */
export const PORT_FORWARD_CHANNEL_PROTOCOLS = ['', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];

interface PortChannel {
  port: number;
  /** connection to the pod; undefined once it is over */
  socket?: ReturnType<PortForwardTarget['connect']>;
}

export function serveWebSocketPortForward(ws: WebSocket, ports: number[], target: PortForwardTarget): void {
  const codec = channelCodec(ws.protocol);
  const open = ws.readyState === ws.OPEN;
  let live = ports.length;
  const channels: PortChannel[] = ports.map((port) => ({ port }));

  const ended = (ch: PortChannel): void => {
    if (!ch.socket) return;
    ch.socket = undefined;
    live -= 1;
    // upstream closes the connection when every port's forwarding has returned
    if (live === 0 && ws.readyState === ws.OPEN) ws.close(1000);
  };

  channels.forEach((ch, i) => {
    const dataChannel = 2 * i;
    const errorChannel = 2 * i + 1;
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(ch.port);
    if (open) {
      codec.send(ws, dataChannel, portBytes);
      codec.send(ws, errorChannel, portBytes);
    }
    const socket = target.connect(ch.port);
    ch.socket = socket;
    let connected = false;
    socket.once('connect', () => (connected = true));
    socket.on('data', (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      // one frame in flight per port: the pod is paced by the client
      socket.pause();
      codec.send(ws, dataChannel, chunk, () => socket.resume());
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected && ws.readyState === ws.OPEN)
        codec.send(ws, errorChannel, Buffer.from(connectFailure(target, ch.port, err)));
      target.log.debug({ port: ch.port, err: err.message }, 'port-forward connection failed');
      socket.destroy();
    });
    // the pod's end (or a reset) ends this port's forwarding, as a CRI runtime's PortForward returns
    socket.once('end', () => socket.destroy());
    socket.once('close', () => ended(ch));
  });

  ws.on('message', (data: Buffer) => {
    const frame = codec.decode(data);
    // only data channels are read; the error channels and unknown channels are ignored, as wsstream does
    if (!frame || frame.channel % 2 !== 0) return;
    const ch = channels[frame.channel / 2];
    const socket = ch?.socket;
    if (!socket || frame.payload.length === 0) return;
    if (!socket.write(frame.payload)) {
      ws.pause();
      const resume = (): void => {
        socket.off('drain', resume);
        socket.off('close', resume);
        ws.resume();
      };
      socket.on('drain', resume);
      socket.on('close', resume);
    }
  });
  ws.once('close', () => {
    for (const ch of channels) ch.socket?.destroy();
  });
  ws.on('error', () => ws.terminate());
}
