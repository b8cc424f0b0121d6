import net from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { UPSTREAM_ERRORS, UpstreamPool, type UpstreamRequest } from './upstream.js';

interface Result {
  status?: number;
  headers: string[];
  body: string;
  error?: NodeJS.ErrnoException;
}

/** a backend that answers each request head it reads with the next scripted answer (written in small pieces) */
async function scripted(
  answers: (string | ((req: string) => string))[],
  opts: { split?: number } = {},
): Promise<{ origin: string; requests: string[]; connections: () => number; close: () => void }> {
  const requests: string[] = [];
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    connections++;
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // a request is complete at its blank line, or at the end of its chunked body
      for (;;) {
        const headEnd = buf.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const chunked = /transfer-encoding: chunked/i.test(buf.slice(0, headEnd));
        const end = chunked ? buf.indexOf('0\r\n\r\n', headEnd) : headEnd;
        if (end < 0) return;
        const len = /content-length: (\d+)/i.exec(buf.slice(0, headEnd));
        const total = chunked ? end + 5 : headEnd + 4 + (len ? Number(len[1]) : 0);
        if (buf.length < total) return;
        const req = buf.slice(0, total);
        buf = buf.slice(total);
        requests.push(req);
        const next = answers.shift();
        if (next === undefined) return void s.end();
        const text = typeof next === 'function' ? next(req) : next;
        if (text === 'CLOSE') return void s.destroy();
        const step = opts.split ?? text.length;
        const parts: string[] = [];
        for (let i = 0; i < text.length; i += step) parts.push(text.slice(i, i + step));
        const write = (): void => {
          const p = parts.shift();
          if (p === undefined) return;
          if (p.endsWith('<EOF>')) {
            s.end(p.slice(0, -5), 'latin1');
            return;
          }
          s.write(p, 'latin1');
          setImmediate(write);
        };
        write();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

function send(pool: UpstreamPool, req: Partial<UpstreamRequest> & { origin: string }): Promise<Result> {
  return new Promise((resolve) => {
    const out: Result = { headers: [], body: '' };
    pool.dispatch(
      {
        method: 'GET',
        path: '/',
        headers: { host: 'backend' },
        body: null,
        headersTimeout: 2000,
        bodyTimeout: 2000,
        ...req,
      },
      {
        onConnect: () => undefined,
        onHeaders: (status, headers) => {
          out.status = status;
          out.headers = headers;
          return true;
        },
        onData: (chunk) => {
          out.body += chunk.toString('latin1');
          return true;
        },
        onComplete: () => resolve(out),
        onError: (err) => resolve({ ...out, error: err }),
      },
    );
  });
}

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup) c();
  cleanup = [];
});

function pool(): UpstreamPool {
  const p = new UpstreamPool({ connectTimeoutMs: 1000 });
  cleanup.push(() => void p.destroy());
  return p;
}

describe('the gateway upstream client', () => {
  it('reads a Content-Length answer and reuses the connection for the next request', async () => {
    const b = await scripted([
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello',
      'HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\nok',
    ]);
    cleanup.push(b.close);
    const p = pool();
    const r1 = await send(p, { origin: b.origin });
    expect(r1).toMatchObject({ status: 200, body: 'hello', headers: ['Content-Length', '5', 'X-A', '1'] });
    const r2 = await send(p, { origin: b.origin, method: 'DELETE', path: '/x?y=1' });
    expect(r2).toMatchObject({ status: 201, body: 'ok' });
    expect(b.connections()).toBe(1);
    expect(b.requests[1]).toMatch(/^DELETE \/x\?y=1 HTTP\/1\.1\r\nhost: backend\r\n\r\n$/);
  });

  it('decodes a chunked answer whatever the pieces it arrives in, trailers dropped', async () => {
    const answer =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: t\r\n\r\n';
    for (const split of [1, 2, 3, 7, answer.length]) {
      const b = await scripted([answer, 'HTTP/1.1 204 No Content\r\n\r\n'], { split });
      cleanup.push(b.close);
      const p = pool();
      expect(await send(p, { origin: b.origin })).toMatchObject({ status: 200, body: 'hello world!' });
      expect(await send(p, { origin: b.origin })).toMatchObject({ status: 204, body: '' });
      expect(b.connections()).toBe(1);
    }
  });

  it('reads an answer without a length until the backend closes, and does not reuse that connection', async () => {
    const b = await scripted([
      'HTTP/1.1 200 OK\r\n\r\nuntil the end<EOF>',
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx',
    ]);
    cleanup.push(b.close);
    const p = pool();
    expect(await send(p, { origin: b.origin })).toMatchObject({ status: 200, body: 'until the end' });
    expect(await send(p, { origin: b.origin })).toMatchObject({ status: 200, body: 'x' });
    expect(b.connections()).toBe(2);
  });

  it('skips 100 Continue, reads no body for HEAD, and honours Connection: close', async () => {
    const b = await scripted([
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc',
      'HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n',
      'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 1\r\n\r\nz',
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nq',
    ]);
    cleanup.push(b.close);
    const p = pool();
    expect(await send(p, { origin: b.origin })).toMatchObject({ status: 200, body: 'abc' });
    expect(await send(p, { origin: b.origin, method: 'HEAD' })).toMatchObject({ status: 200, body: '' });
    expect(b.connections()).toBe(1);
    expect(await send(p, { origin: b.origin })).toMatchObject({ body: 'z' });
    expect(await send(p, { origin: b.origin })).toMatchObject({ body: 'q' });
    expect(b.connections()).toBe(2);
  });

  it('sends a body of unknown length chunked, and one with a Content-Length as it is', async () => {
    const b = await scripted([
      'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n',
    ]);
    cleanup.push(b.close);
    const p = pool();
    const body = Readable.from([Buffer.from('abc'), Buffer.from('de')]);
    expect(await send(p, { origin: b.origin, method: 'POST', body })).toMatchObject({ status: 200 });
    expect(b.requests[0]).toBe(
      'POST / HTTP/1.1\r\nhost: backend\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n',
    );
    const sized = Readable.from([Buffer.from('12345')]);
    await send(p, { origin: b.origin, method: 'PUT', body: sized, headers: { 'content-length': '5' } });
    expect(b.requests[1]).toBe('PUT / HTTP/1.1\r\ncontent-length: 5\r\n\r\n12345');
  });

  it('refuses answers a smuggler or a broken backend would send, as errors, never as answers', async () => {
    const bad = [
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabcd',
      'HTTP/1.1 200 OK\r\ncontent-length: 1,2\r\n\r\nab',
      'HTTP/1.1 200 OK\r\nX-Bad: a\x00b\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n',
      'HTTP/2 200\r\n\r\n',
      'hello',
    ];
    for (const answer of bad) {
      const b = await scripted([
        answer.endsWith('\r\n') || answer.includes('\r\n\r\n') ? answer : `${answer}<EOF>`,
      ]);
      cleanup.push(b.close);
      const r = await send(pool(), { origin: b.origin });
      expect(r.error?.code, JSON.stringify(answer)).toMatch(/^UPSTREAM_(INVALID_RESPONSE|CLOSED)$/);
    }
  });

  it('says why a request failed: refused, timed out, or the connection closed before the answer', async () => {
    const gone = net.createServer();
    await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
    const { port } = gone.address() as net.AddressInfo;
    gone.close();
    expect((await send(pool(), { origin: `http://127.0.0.1:${port}` })).error?.code).toBe('ECONNREFUSED');

    const silent = await scripted([(): string => '']);
    cleanup.push(silent.close);
    const r = await send(pool(), { origin: silent.origin, headersTimeout: 200 });
    expect(r.error?.code).toBe(UPSTREAM_ERRORS.headersTimeout);

    const closing = await scripted(['CLOSE']);
    cleanup.push(closing.close);
    expect((await send(pool(), { origin: closing.origin })).error?.code).toBe(UPSTREAM_ERRORS.closed);
  });

  it('drops a kept-alive connection the backend closed while it was idle', async () => {
    const b = await scripted([
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na',
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nb',
    ]);
    cleanup.push(b.close);
    const p = pool();
    expect(await send(p, { origin: b.origin })).toMatchObject({ body: 'a' });
    b.close(); // destroys the server's side of the idle connection (the server stops listening too)
    const again = await scripted(['HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nc']);
    cleanup.push(again.close);
    await new Promise((r) => setTimeout(r, 50));
    expect(await send(p, { origin: again.origin })).toMatchObject({ body: 'c' });
  });
});
