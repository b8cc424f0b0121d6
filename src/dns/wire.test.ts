import { describe, expect, it } from 'vitest';
import {
  CLASS_IN,
  DnsFormatError,
  RecordType,
  decodeMessage,
  encodeMessage,
  encodeQuery,
  type DnsMessage,
} from './wire.js';

const response = (over: Partial<DnsMessage>): DnsMessage => ({
  id: 7,
  qr: true,
  opcode: 0,
  aa: true,
  tc: false,
  rd: true,
  ra: false,
  rcode: 0,
  questions: [{ name: 'web.default.svc.cluster.local', type: RecordType.A, class: CLASS_IN }],
  answers: [],
  authority: [],
  additional: [],
  ...over,
});

describe('DNS wire format', () => {
  it('encodes a query byte for byte as RFC 1035 lays it out', () => {
    const q = encodeQuery(0x1234, 'a.bc', RecordType.A);
    expect(q.toString('hex')).toBe(
      '1234' +
        '0100' +
        '0001' +
        '0000' +
        '0000' +
        '0000' +
        '01' +
        '61' +
        '02' +
        '6263' +
        '00' +
        '0001' +
        '0001',
    );
  });

  it('round-trips every record kind, compressing repeated names', () => {
    const name = 'web.default.svc.cluster.local';
    const msg = response({
      answers: [
        { name, type: RecordType.A, class: CLASS_IN, ttl: 5, data: { kind: 'A', address: '127.96.0.12' } },
        {
          name,
          type: RecordType.AAAA,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: 'AAAA', address: 'fd00:0:0:0:0:0:0:1' },
        },
        {
          name,
          type: RecordType.SRV,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: 'SRV', priority: 0, weight: 100, port: 80, target: name },
        },
        {
          name,
          type: RecordType.CNAME,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: 'NAME', target: 'other.default.svc.cluster.local' },
        },
        {
          name: 'dns-version.cluster.local',
          type: RecordType.TXT,
          class: CLASS_IN,
          ttl: 5,
          data: { kind: 'TXT', texts: ['1.1.0'] },
        },
      ],
      authority: [
        {
          name: 'cluster.local',
          type: RecordType.SOA,
          class: CLASS_IN,
          ttl: 5,
          data: {
            kind: 'SOA',
            mname: 'ns.dns.cluster.local',
            rname: 'hostmaster.cluster.local',
            serial: 42,
            refresh: 7200,
            retry: 1800,
            expire: 86400,
            minimum: 5,
          },
        },
      ],
    });
    const bytes = encodeMessage(msg);
    const back = decodeMessage(bytes);
    expect(back.answers[1].data).toEqual({ kind: 'AAAA', address: 'fd00:0:0:0:0:0:0:1' });
    expect({ ...back, answers: back.answers.filter((a) => a.type !== RecordType.AAAA) }).toEqual({
      ...msg,
      answers: msg.answers.filter((a) => a.type !== RecordType.AAAA),
    });
    // the owner name is spelled out in the question, then pointed at; only the SRV target repeats it (RFC 2782)
    const spelled = Buffer.from('\x03web\x07default', 'latin1');
    let copies = 0;
    for (let i = bytes.indexOf(spelled); i >= 0; i = bytes.indexOf(spelled, i + 1)) copies++;
    expect(copies).toBe(2);
  });

  it('decodes the header flags', () => {
    const back = decodeMessage(encodeMessage(response({ tc: true, rcode: 3, aa: false, rd: false })));
    expect(back).toMatchObject({ qr: true, tc: true, rcode: 3, aa: false, rd: false, ra: false, id: 7 });
  });

  it('rejects malformed messages instead of looping or reading past the end', () => {
    const q = encodeQuery(1, 'a.b', RecordType.A);
    expect(() => decodeMessage(q.subarray(0, q.length - 1))).toThrow(DnsFormatError);
    // a compression pointer pointing at itself
    const loop = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => decodeMessage(loop)).toThrow(/point backwards/);
    expect(() => decodeMessage(Buffer.from([1, 2, 3]))).toThrow(DnsFormatError);
  });
});
