// One DNS query over TCP (RFC 1035 §4.2.2: two bytes of length, then the message), as a resolver sends it.
import { connect } from 'node:net';
import { decodeMessage, encodeQuery, tcpFramed, type DnsMessage } from '../../src/dns/wire.js';

export function tcpDnsQuery(
  host: string,
  port: number,
  name: string,
  type: number,
  timeoutMs = 5000,
): Promise<DnsMessage> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const query = encodeQuery(0x4242, name, type);
    let buf = Buffer.alloc(0);
    sock.on('connect', () => sock.write(tcpFramed(query)));
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        sock.end();
        resolve(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))));
      }
    });
    sock.on('error', reject);
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')));
  });
}
