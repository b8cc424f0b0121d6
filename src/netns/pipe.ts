// One forwarded TCP connection: `client` piped to `target`; a refused or failed upstream resets the client, as a
// closed port would. Shared by both directions of publishing.
import net from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

export function pipeTo(client: net.Socket, target: Endpoint, onError?: (err: Error) => void): void {
  const upstream = net.connect({ host: target.host, port: target.port });
  client.on('error', () => upstream.destroy());
  upstream.on('error', (err) => {
    onError?.(err);
    if (!client.destroyed) client.resetAndDestroy();
  });
  upstream.on('connect', () => {
    client.pipe(upstream);
    upstream.pipe(client);
  });
  client.on('close', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
}
