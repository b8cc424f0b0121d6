import { Duplex } from 'node:stream';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello } from './client-hello.js';

/** The first flight a real TLS client (Node's, i.e. OpenSSL's) writes, captured in memory without a socket. */
function clientHello(servername: string | undefined): Promise<Buffer> {
  return new Promise((resolve) => {
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer) {
        resolve(chunk);
        setImmediate(() => socket.destroy());
      },
    });
    const socket = connect({ socket: wire, ...(servername !== undefined ? { servername } : {}) });
    socket.on('error', () => undefined);
  });
}

/** The same handshake message cut into two TLS records, as a client may legally send it. */
function inTwoRecords(hello: Buffer): Buffer {
  const body = hello.subarray(5);
  const cut = 40;
  const record = (part: Buffer): Buffer =>
    Buffer.concat([Buffer.from([22, 3, 1, part.length >> 8, part.length & 0xff]), part]);
  return Buffer.concat([record(body.subarray(0, cut)), record(body.subarray(cut))]);
}

describe('peekClientHello', () => {
  it('finds the server name a client sends', async () => {
    expect(peekClientHello(await clientHello('shop.example.test'))).toEqual({
      kind: 'hello',
      serverName: 'shop.example.test',
    });
  });

  it('reports a ClientHello without a server name (clients connecting to an IP address)', async () => {
    // an empty servername: Node sends no server_name extension, as curl does for https://127.0.3.1/
    expect(peekClientHello(await clientHello(''))).toEqual({ kind: 'hello', serverName: undefined });
  });

  it('asks for more bytes until the whole ClientHello is there, byte by byte', async () => {
    const hello = await clientHello('a.example');
    for (let n = 0; n < hello.length; n++)
      expect(peekClientHello(hello.subarray(0, n)).kind).toBe('incomplete');
    expect(peekClientHello(hello)).toEqual({ kind: 'hello', serverName: 'a.example' });
  });

  it('reads a ClientHello split over two records', async () => {
    const split = inTwoRecords(await clientHello('split.example'));
    expect(peekClientHello(split.subarray(0, 50)).kind).toBe('incomplete');
    expect(peekClientHello(split)).toEqual({ kind: 'hello', serverName: 'split.example' });
  });

  it('says not-tls for plain HTTP, other record types and broken lengths', async () => {
    expect(peekClientHello(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')).kind).toBe('not-tls');
    expect(peekClientHello(Buffer.from([21, 3, 3, 0, 2, 2, 40])).kind).toBe('not-tls'); // an alert
    const hello = Buffer.from(await clientHello('x.example'));
    // claim a longer session id than the message holds
    const broken = Buffer.from(hello);
    broken[5 + 4 + 34] = 255;
    expect(peekClientHello(broken).kind).toBe('not-tls');
    // a handshake length beyond what the gateway will wait for
    const huge = Buffer.from(hello);
    huge.writeUIntBE(MAX_CLIENT_HELLO_BYTES, 6, 3);
    expect(peekClientHello(huge).kind).toBe('not-tls');
    expect(peekClientHello(Buffer.alloc(MAX_CLIENT_HELLO_BYTES, 22)).kind).toBe('not-tls');
  });
});
