// The kubelet-to-client half of the stream relay: every chunk (one TLS record from the kubelet) is written on its
// own, never merged with the next into one write (one TLS record to the client), which the Python client cannot read.
import { Duplex, PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { relayRecords } from './upgrade-proxy.js';

/** a socket-like sink whose writes complete a tick later, and which would take queued chunks in one writev */
function sink(): { to: Duplex; writes: string[][] } {
  const writes: string[][] = [];
  const to = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk.toString()]);
      setImmediate(cb);
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      setImmediate(cb);
    },
  });
  return { to, writes };
}

describe('relayRecords', () => {
  it('writes chunks that arrive together one by one, each after the last is in the socket', async () => {
    const from = new PassThrough();
    const { to, writes } = sink();
    relayRecords(from, to);
    // the error channel's frame and the close frame, arriving in the same tick
    from.write('\x03{"status":"Failure"}');
    from.write('\x88\x02\x03\xe8');
    from.write('third');
    from.end();
    await new Promise((resolve) => to.once('finish', resolve));
    expect(writes).toEqual([['\x03{"status":"Failure"}'], ['\x88\x02\x03\xe8'], ['third']]);
  });

  it('a paused source (a spare kubelet connection) flows', async () => {
    const from = new PassThrough();
    from.pause();
    const { to, writes } = sink();
    relayRecords(from, to);
    from.end('answer');
    await new Promise((resolve) => to.once('finish', resolve));
    expect(writes).toEqual([['answer']]);
  });
});
