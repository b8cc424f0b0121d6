import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../util/logger.js';
import { UdpRelay } from './udp-relay.js';

const bound = (): Promise<Socket> =>
  new Promise((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });

const open: { close(): void }[] = [];
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

describe('UdpRelay', () => {
  it('relays each client to the target and the replies back from the published address, per client', async () => {
    // the target: an echo server that says who it saw
    const echo = await bound();
    echo.on('message', (m, r) => echo.send(`${String(m)} via ${r.port}`, r.port, r.address));
    const published = await bound();
    open.push(
      echo,
      new UdpRelay(published, { host: '127.0.0.1', port: echo.address().port }, silentLogger()),
    );
    const ask = async (client: Socket, text: string): Promise<{ text: string; from: number }> => {
      const reply = new Promise<{ text: string; from: number }>((resolve) =>
        client.once('message', (m, r) => resolve({ text: String(m), from: r.port })),
      );
      client.send(text, published.address().port, '127.0.0.1');
      return reply;
    };
    const [a, b] = [await bound(), await bound()];
    open.push(a, b);
    const a1 = await ask(a, 'one');
    const a2 = await ask(a, 'two');
    const b1 = await ask(b, 'three');
    expect(a1.from).toBe(published.address().port);
    expect(a1.text.startsWith('one via ')).toBe(true);
    // one upstream socket per client: a's datagrams share a source port, b's has another
    expect(a2.text.split(' via ')[1]).toBe(a1.text.split(' via ')[1]);
    expect(b1.text.split(' via ')[1]).not.toBe(a1.text.split(' via ')[1]);
  });
});
