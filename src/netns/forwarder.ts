// The sandbox side of host publishing: takes listening sockets the host-side publisher bound (passed over Node's
// IPC channel, so across namespaces), accepts on them and pipes each connection to its in-cluster address.
import net from 'node:net';
import type { Logger } from '../util/logger.js';
import type { Endpoint, ForwarderReply, PublisherMessage } from './publisher.js';

interface IpcProcess {
  send?(message: ForwarderReply): boolean;
  on(event: 'message', listener: (message: PublisherMessage, handle?: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

/** Serves the publisher's messages on `ipc` (the forwarder process itself) until the channel closes. */
export function runForwarder(ipc: IpcProcess, log: Logger, onDisconnect: () => void): void {
  const servers = new Map<string, net.Server>();
  const reply = (message: ForwarderReply): void => void ipc.send?.(message);
  ipc.on('message', (message, handle) => {
    if (message.type === 'publish') {
      if (!(handle instanceof net.Server)) {
        reply({ type: 'error', key: message.key, message: 'no listening socket came with the message' });
        return;
      }
      servers.get(message.key)?.close();
      handle.on('connection', (client) => forward(client, message.target, log));
      handle.on('error', (err) => log.warn({ err, key: message.key }, 'published listener failed'));
      servers.set(message.key, handle);
      reply({ type: 'published', key: message.key });
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

/** Pipes `client` to `target`; a refused or failed upstream resets the client, as a closed port would. */
function forward(client: net.Socket, target: Endpoint, log: Logger): void {
  const upstream = net.connect({ host: target.host, port: target.port });
  client.on('error', () => upstream.destroy());
  upstream.on('error', (err) => {
    log.debug({ err, target }, 'forwarding failed');
    if (!client.destroyed) client.resetAndDestroy();
  });
  upstream.on('connect', () => {
    client.pipe(upstream);
    upstream.pipe(client);
  });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}
