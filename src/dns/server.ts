// The DNS transport: one UDP socket and one TCP listener on the same address, answering each query through
// ClusterRecords; EDNS payload sizes honoured, oversized UDP answers truncated (TC) so resolvers retry on TCP.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { silentLogger, type Logger } from '../util/logger.js';
import type { ClusterRecords } from './records.js';
import {
  DnsFormatError,
  RCode,
  RecordType,
  decodeMessage,
  encodeMessage,
  tcpFramed,
  type DnsMessage,
  type ResourceRecord,
} from './wire.js';

/** without EDNS a UDP answer may be 512 bytes (RFC 1035); with it, what the client offers, up to this */
const MAX_UDP_PAYLOAD = 1232;

/** CoreDNS's TCP server timeouts (its `timeouts` plugin's defaults), as Go's dns.Server applies them */
export interface TcpTimeouts {
  /** the first query must have arrived whole within this of the connection */
  readMs: number;
  /** an answer the client does not read for this long closes the connection */
  writeMs: number;
  /** after an answer, the next query must have arrived whole within this */
  idleMs: number;
}

export const DEFAULT_TCP_TIMEOUTS: TcpTimeouts = { readMs: 3_000, writeMs: 5_000, idleMs: 10_000 };

export interface DnsServerOptions {
  records: ClusterRecords;
  host: string;
  /** 0: any free port */
  port: number;
  logger?: Logger;
  tcpTimeouts?: TcpTimeouts;
}

function opt(payload: number): ResourceRecord {
  return {
    name: '',
    type: RecordType.OPT,
    class: payload,
    ttl: 0,
    data: { kind: 'RAW', bytes: Buffer.alloc(0) },
  };
}

/** the response bytes for one query, or undefined when nothing should be sent back */
export function respond(
  records: ClusterRecords,
  query: Buffer,
  transport: 'udp' | 'tcp',
): Buffer | undefined {
  let msg: DnsMessage;
  try {
    msg = decodeMessage(query);
  } catch (err) {
    if (!(err instanceof DnsFormatError) || query.length < 12) return undefined;
    // the header parsed: say FORMERR to that id
    const flags = query.readUInt16BE(2);
    if (flags & 0x8000) return undefined;
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2);
    header.writeUInt16BE(0x8000 | (flags & 0x7900) | RCode.FORMERR, 2);
    return header;
  }
  if (msg.qr) return undefined;
  const edns = msg.additional.find((r) => r.type === RecordType.OPT);
  const base: DnsMessage = {
    id: msg.id,
    qr: true,
    opcode: msg.opcode,
    aa: false,
    tc: false,
    rd: msg.rd,
    ra: false,
    rcode: RCode.NOERROR,
    questions: msg.questions,
    answers: [],
    authority: [],
    additional: edns ? [opt(MAX_UDP_PAYLOAD)] : [],
  };
  if (msg.opcode !== 0) return encodeMessage({ ...base, rcode: RCode.NOTIMP });
  if (msg.questions.length !== 1) return encodeMessage({ ...base, rcode: RCode.FORMERR });
  const answer = records.answer(msg.questions[0]);
  const full: DnsMessage = {
    ...base,
    aa: answer.authoritative,
    rcode: answer.rcode,
    answers: answer.answers,
    authority: answer.authority,
    additional: [...answer.additional, ...base.additional],
  };
  const bytes = encodeMessage(full);
  if (transport === 'tcp') return bytes;
  const limit = edns ? Math.min(Math.max(edns.class, 512), MAX_UDP_PAYLOAD) : 512;
  if (bytes.length <= limit) return bytes;
  return encodeMessage({ ...base, aa: answer.authoritative, rcode: answer.rcode, tc: true });
}

export class DnsServer {
  private readonly log: Logger;
  private udp: UdpSocket | undefined;
  private tcp: Server | undefined;
  private readonly connections = new Set<Socket>();
  private boundPort = 0;

  constructor(private readonly opts: DnsServerOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ dns: `${opts.host}:${opts.port}` });
  }

  /** the UDP and TCP port (the same one) */
  get port(): number {
    return this.boundPort;
  }

  async listen(): Promise<void> {
    // UDP first, so port 0 picks a port; TCP then takes the same one.
    const udp = createSocket({ type: 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: this.opts.host, port: this.opts.port, exclusive: true }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    this.udp = udp;
    this.boundPort = udp.address().port;
    udp.on('error', (err) => this.log.error({ err }, 'UDP socket failed'));
    udp.on('message', (query, rinfo) => {
      const reply = this.safeRespond(query, 'udp');
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });

    const tcp = createServer((sock) => this.onTcp(sock));
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen({ host: this.opts.host, port: this.boundPort, exclusive: true }, () => {
        tcp.off('error', reject);
        resolve();
      });
    }).catch(async (err: unknown) => {
      await new Promise<void>((r) => udp.close(() => r()));
      this.udp = undefined;
      throw err;
    });
    this.tcp = tcp;
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.destroy();
    await Promise.all([
      this.udp ? new Promise<void>((r) => this.udp!.close(() => r())) : undefined,
      this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : undefined,
    ]);
    this.udp = undefined;
    this.tcp = undefined;
  }

  private safeRespond(query: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
    try {
      return respond(this.opts.records, query, transport);
    } catch (err) {
      this.log.warn({ err }, 'could not answer a query');
      if (query.length < 12) return undefined;
      const header = Buffer.alloc(12);
      query.copy(header, 0, 0, 2);
      header.writeUInt16BE(0x8000 | RCode.SERVFAIL, 2);
      return header;
    }
  }

  /**
   * RFC 1035 4.2.2: each message prefixed by its 2-byte length; several queries may share a connection. Answers are
   * written one at a time, as Go's dns.Server does: while the client has not read the last one, nothing more is read
   * from it (its own writes then block), and if it still has not read it after the write timeout, it is closed. So a
   * client that sends and never reads holds one answer of memory here, not all of them.
   */
  private onTcp(sock: Socket): void {
    const timeouts = this.opts.tcpTimeouts ?? DEFAULT_TCP_TIMEOUTS;
    this.connections.add(sock);
    let deadline: NodeJS.Timeout | undefined;
    const closeAfter = (ms: number, why: string): void => {
      clearTimeout(deadline);
      deadline = setTimeout(() => {
        this.log.debug(
          { remote: `${sock.remoteAddress}:${sock.remotePort}`, why },
          'closing DNS TCP connection',
        );
        sock.destroy();
      }, ms);
      deadline.unref();
    };
    sock.once('close', () => {
      clearTimeout(deadline);
      this.connections.delete(sock);
    });
    sock.on('error', () => sock.destroy());
    closeAfter(timeouts.readMs, 'read timeout');
    let pending: Buffer = Buffer.alloc(0);
    const serve = (): void => {
      while (pending.length >= 2 && !sock.destroyed) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const query = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const reply = this.safeRespond(query, 'tcp');
        if (!reply) continue;
        if (!sock.write(tcpFramed(reply))) {
          // the client is not reading: stop reading it until it does, for at most the write timeout
          sock.pause();
          closeAfter(timeouts.writeMs, 'write timeout: the client does not read its answers');
          return;
        }
        closeAfter(timeouts.idleMs, 'idle timeout');
      }
    };
    sock.on('drain', () => {
      closeAfter(timeouts.idleMs, 'idle timeout');
      sock.resume();
      serve();
    });
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (!sock.writableNeedDrain) serve();
    });
  }
}
