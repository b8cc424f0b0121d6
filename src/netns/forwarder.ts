// The sandbox side of host publishing: takes listening sockets the host-side publisher bound (passed over Node's
// IPC channel, so across namespaces), accepts on them and pipes each connection to its in-cluster address.
import { Socket as UdpSocket } from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../util/logger.js';
import { pipeTo } from './pipe.js';
import { UdpRelay } from './udp-relay.js';
import type { ForwarderReply, PublisherMessage } from './publisher.js';

interface IpcProcess {
  send?(message: ForwarderReply, handle?: net.Server): boolean;
  on(event: 'message', listener: (message: PublisherMessage, handle?: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** Serves the publisher's messages on `ipc` (the forwarder process itself) until the channel closes. */
export function runForwarder(ipc: IpcProcess, log: Logger, onDisconnect: () => void): void {
  const servers = new Map<string, { close(): void }>();
  const reply = (message: ForwarderReply, handle?: net.Server): void => void ipc.send?.(message, handle);
  ipc.on('message', (message, handle) => {
    if (message.type === 'publish' && message.protocol === 'UDP') {
      if (!(handle instanceof UdpSocket)) {
        reply({ type: 'error', key: message.key, message: 'no UDP socket came with the message' });
        return;
      }
      servers.get(message.key)?.close();
      servers.set(message.key, new UdpRelay(handle, message.target, log));
      reply({ type: 'published', key: message.key });
    } else if (message.type === 'publish') {
      if (!(handle instanceof net.Server)) {
        reply({ type: 'error', key: message.key, message: 'no listening socket came with the message' });
        return;
      }
      servers.get(message.key)?.close();
      handle.on('connection', (client) =>
        pipeTo(client, message.target, (err) =>
          log.debug({ err, target: message.target }, 'forwarding failed'),
        ),
      );
      handle.on('error', (err) => log.warn({ err, key: message.key }, 'published listener failed'));
      servers.set(message.key, handle);
      reply({ type: 'published', key: message.key });
    } else if (message.type === 'import') {
      // the other way: listen in here, hand the socket to the host side, which pipes to a host address
      const server = net.createServer();
      server.once('error', (err) => reply({ type: 'error', key: message.key, message: err.message }));
      server.listen({ host: message.listen.host, port: message.listen.port }, () => {
        reply({ type: 'imported', key: message.key }, server);
        server.close();
      });
    } else if (message.type === 'unpublish') {
      // connections already made keep running, as kube-proxy's do when a Service goes
      servers.get(message.key)?.close();
      servers.delete(message.key);
      reply({ type: 'unpublished', key: message.key });
    }
  });
  ipc.on('disconnect', () => {
    for (const server of servers.values()) server.close();
    onDisconnect();
  });
  reply({ type: 'ready' });
}
