// DNS messages in RFC 1035 wire format (plus AAAA, SRV and the EDNS OPT pseudo-record), written by hand:
// decode a query, encode a response with name compression.

export const RecordType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  ANY: 255,
} as const;

export const RCode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export const CLASS_IN = 1;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export type RecordData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  /** CNAME, PTR, NS */
  | { kind: 'NAME'; target: string }
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: string }
  | {
      kind: 'SOA';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  | { kind: 'TXT'; texts: string[] }
  | { kind: 'RAW'; bytes: Buffer };

export interface ResourceRecord {
  name: string;
  type: number;
  /** for OPT: the sender's UDP payload size */
  class: number;
  ttl: number;
  data: RecordData;
}

export interface DnsMessage {
  id: number;
  /** true in a response */
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

export class DnsFormatError extends Error {}

const MAX_NAME = 255;
const MAX_LABEL = 63;

/** `a.b.` and `a.b` are one name; the root is `` */
export function normalizeName(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

// ---- decoding ----

class Reader {
  offset = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number): void {
    if (this.offset + n > this.buf.length) throw new DnsFormatError('message truncated');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  /** a possibly compressed name; pointers may only point backwards, so loops are impossible */
  name(): string {
    const labels: string[] = [];
    let pos = this.offset;
    let jumped = false;
    let length = 0;
    for (;;) {
      if (pos >= this.buf.length) throw new DnsFormatError('name runs past the message');
      const len = this.buf[pos];
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsFormatError('truncated compression pointer');
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1];
        if (target >= pos) throw new DnsFormatError('compression pointer does not point backwards');
        if (!jumped) this.offset = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len & 0xc0) throw new DnsFormatError('unsupported label type');
      if (len === 0) {
        if (!jumped) this.offset = pos + 1;
        return labels.join('.');
      }
      if (pos + 1 + len > this.buf.length) throw new DnsFormatError('label runs past the message');
      length += len + 1;
      if (length > MAX_NAME) throw new DnsFormatError('name longer than 255 bytes');
      labels.push(this.buf.toString('latin1', pos + 1, pos + 1 + len));
      pos += 1 + len;
    }
  }
}

function decodeData(r: Reader, type: number, rdlength: number): RecordData {
  const end = r.offset + rdlength;
  r.need(rdlength);
  let data: RecordData;
  switch (type) {
    case RecordType.A:
      if (rdlength !== 4) throw new DnsFormatError('A record of the wrong length');
      data = { kind: 'A', address: [...r.bytes(4)].join('.') };
      break;
    case RecordType.AAAA: {
      if (rdlength !== 16) throw new DnsFormatError('AAAA record of the wrong length');
      const b = r.bytes(16);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
      data = { kind: 'AAAA', address: groups.join(':') };
      break;
    }
    case RecordType.CNAME:
    case RecordType.PTR:
    case RecordType.NS:
      data = { kind: 'NAME', target: r.name() };
      break;
    case RecordType.SRV:
      data = { kind: 'SRV', priority: r.u16(), weight: r.u16(), port: r.u16(), target: r.name() };
      break;
    case RecordType.SOA:
      data = {
        kind: 'SOA',
        mname: r.name(),
        rname: r.name(),
        serial: r.u32(),
        refresh: r.u32(),
        retry: r.u32(),
        expire: r.u32(),
        minimum: r.u32(),
      };
      break;
    case RecordType.TXT: {
      const texts: string[] = [];
      while (r.offset < end) texts.push(r.bytes(r.u8()).toString('utf8'));
      data = { kind: 'TXT', texts };
      break;
    }
    default:
      data = { kind: 'RAW', bytes: Buffer.from(r.bytes(rdlength)) };
  }
  if (r.offset !== end) throw new DnsFormatError(`record data of type ${type} has the wrong length`);
  return data;
}

function decodeRecord(r: Reader): ResourceRecord {
  const name = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const rdlength = r.u16();
  return { name, type, class: klass, ttl, data: decodeData(r, type, rdlength) };
}

export function decodeMessage(buf: Buffer): DnsMessage {
  const r = new Reader(buf);
  const id = r.u16();
  const flags = r.u16();
  const counts = [r.u16(), r.u16(), r.u16(), r.u16()] as const;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) questions.push({ name: r.name(), type: r.u16(), class: r.u16() });
  const section = (n: number): ResourceRecord[] => Array.from({ length: n }, () => decodeRecord(r));
  const answers = section(counts[1]);
  const authority = section(counts[2]);
  const additional = section(counts[3]);
  return {
    id,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    rcode: flags & 0xf,
    questions,
    answers,
    authority,
    additional,
  };
}

// ---- encoding ----

class Writer {
  private chunks: Buffer[] = [];
  length = 0;
  /** lower-cased name suffix → offset, for compression */
  private readonly names = new Map<string, number>();

  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  u8(v: number): void {
    const b = Buffer.alloc(1);
    b.writeUInt8(v);
    this.push(b);
  }
  u16(v: number): void {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(v);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v >>> 0);
    this.push(b);
  }

  name(name: string): void {
    const labels = normalizeName(name).split('.').filter(Boolean);
    for (let i = 0; i < labels.length; i++) {
      const suffix = labels.slice(i).join('.').toLowerCase();
      const known = this.names.get(suffix);
      if (known !== undefined) {
        this.u16(0xc000 | known);
        return;
      }
      if (this.length < 0x4000) this.names.set(suffix, this.length);
      const label = Buffer.from(labels[i], 'latin1');
      if (label.length > MAX_LABEL) throw new DnsFormatError(`label longer than 63 bytes in ${name}`);
      this.u8(label.length);
      this.push(label);
    }
    this.u8(0);
  }

  /** reserve a u16 to be filled in later (RDLENGTH) */
  placeholder(): { set(v: number): void } {
    const b = Buffer.alloc(2);
    this.push(b);
    return { set: (v) => b.writeUInt16BE(v) };
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

function ipv4Bytes(address: string): Buffer {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new DnsFormatError(`not an IPv4 address: ${address}`);
  return Buffer.from(parts);
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) throw new DnsFormatError(`not an IPv6 address: ${address}`);
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

function encodeData(w: Writer, data: RecordData): void {
  switch (data.kind) {
    case 'A':
      w.push(ipv4Bytes(data.address));
      return;
    case 'AAAA':
      w.push(ipv6Bytes(data.address));
      return;
    case 'NAME':
      w.name(data.target);
      return;
    case 'SRV':
      w.u16(data.priority);
      w.u16(data.weight);
      w.u16(data.port);
      // RFC 2782: the target of an SRV record is not compressed
      for (const label of normalizeName(data.target).split('.').filter(Boolean)) {
        const b = Buffer.from(label, 'latin1');
        w.u8(b.length);
        w.push(b);
      }
      w.u8(0);
      return;
    case 'SOA':
      w.name(data.mname);
      w.name(data.rname);
      for (const v of [data.serial, data.refresh, data.retry, data.expire, data.minimum]) w.u32(v);
      return;
    case 'TXT':
      for (const t of data.texts) {
        const b = Buffer.from(t, 'utf8');
        w.u8(b.length);
        w.push(b);
      }
      return;
    case 'RAW':
      w.push(data.bytes);
  }
}

function encodeRecord(w: Writer, rr: ResourceRecord): void {
  w.name(rr.name);
  w.u16(rr.type);
  w.u16(rr.class);
  w.u32(rr.ttl);
  const rdlength = w.placeholder();
  const start = w.length;
  encodeData(w, rr.data);
  rdlength.set(w.length - start);
}

export function encodeMessage(msg: DnsMessage): Buffer {
  const w = new Writer();
  w.u16(msg.id);
  w.u16(
    (msg.qr ? 0x8000 : 0) |
      ((msg.opcode & 0xf) << 11) |
      (msg.aa ? 0x0400 : 0) |
      (msg.tc ? 0x0200 : 0) |
      (msg.rd ? 0x0100 : 0) |
      (msg.ra ? 0x0080 : 0) |
      (msg.rcode & 0xf),
  );
  for (const n of [msg.questions.length, msg.answers.length, msg.authority.length, msg.additional.length])
    w.u16(n);
  for (const q of msg.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const rr of [...msg.answers, ...msg.authority, ...msg.additional]) encodeRecord(w, rr);
  return w.toBuffer();
}

/** a query, as a client sends one (tests and tools) */
export function encodeQuery(
  id: number,
  name: string,
  type: number,
  opts: { ednsPayload?: number } = {},
): Buffer {
  return encodeMessage({
    id,
    qr: false,
    opcode: 0,
    aa: false,
    tc: false,
    rd: true,
    ra: false,
    rcode: 0,
    questions: [{ name, type, class: CLASS_IN }],
    answers: [],
    authority: [],
    additional: opts.ednsPayload
      ? [
          {
            name: '',
            type: RecordType.OPT,
            class: opts.ednsPayload,
            ttl: 0,
            data: { kind: 'RAW', bytes: Buffer.alloc(0) },
          },
        ]
      : [],
  });
}

/** A message as DNS over TCP carries it: two bytes of length, then the message (RFC 1035 §4.2.2). */
export function tcpFramed(message: Buffer): Buffer {
  const framed = Buffer.alloc(2 + message.length);
  framed.writeUInt16BE(message.length);
  message.copy(framed, 2);
  return framed;
}
