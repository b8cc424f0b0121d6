// Reads the server name (SNI) from the first bytes of a TLS connection, before any TLS library sees them.
//
// Why: Node's SNICallback installs the chosen context's certificate next to the server's default one instead
// of replacing it (nodejs/node#54235), so an RSA certificate chosen by SNI loses to an ECDSA default that the
// client also accepts. The gateway peeks at the ClientHello and hands the connection to a TLS server that
// holds exactly one certificate for it.

/** TLS record content type for handshake messages (RFC 8446 §5.1) */
const HANDSHAKE_RECORD = 22;
const CLIENT_HELLO = 1;
const SERVER_NAME_EXTENSION = 0;
const HOST_NAME_TYPE = 0;
const RECORD_HEADER = 5;
/** the largest ClientHello we wait for: four full records (real ones are 200 B to 2 KiB) */
export const MAX_CLIENT_HELLO_BYTES = 4 * (RECORD_HEADER + 16_384);

export type ClientHelloPeek =
  /** more bytes are needed */
  | { kind: 'incomplete' }
  /** a ClientHello; serverName is undefined when the client sent none (IP addresses, old clients) */
  | { kind: 'hello'; serverName: string | undefined }
  /** not a TLS ClientHello (plain HTTP on the TLS port, SSLv2, garbage): the TLS server rejects it */
  | { kind: 'not-tls' };

/** Looks at the bytes received so far; never throws. */
export function peekClientHello(data: Buffer): ClientHelloPeek {
  // The ClientHello may span several handshake records: gather their payloads.
  const parts: Buffer[] = [];
  let have = 0;
  let offset = 0;
  let need = -1;
  while (need < 0 || have < need) {
    if (data.length < offset + RECORD_HEADER) return incompleteUnlessTooLong(data);
    if (data[offset] !== HANDSHAKE_RECORD || data[offset + 1] !== 3) return { kind: 'not-tls' };
    const length = data.readUInt16BE(offset + 3);
    if (length === 0) return { kind: 'not-tls' };
    if (data.length < offset + RECORD_HEADER + length) return incompleteUnlessTooLong(data);
    const payload = data.subarray(offset + RECORD_HEADER, offset + RECORD_HEADER + length);
    parts.push(payload);
    have += payload.length;
    offset += RECORD_HEADER + length;
    if (need < 0) {
      if (payload[0] !== CLIENT_HELLO) return { kind: 'not-tls' };
      if (have < 4) continue;
      const head = parts.length === 1 ? payload : Buffer.concat(parts);
      need = 4 + head.readUIntBE(1, 3);
      if (need > MAX_CLIENT_HELLO_BYTES) return { kind: 'not-tls' };
    }
  }
  const hello = (parts.length === 1 ? parts[0] : Buffer.concat(parts)).subarray(4, need);
  const serverName = serverNameOf(hello);
  return serverName === null ? { kind: 'not-tls' } : { kind: 'hello', serverName };
}

function incompleteUnlessTooLong(data: Buffer): ClientHelloPeek {
  return data.length >= MAX_CLIENT_HELLO_BYTES ? { kind: 'not-tls' } : { kind: 'incomplete' };
}

/** The host_name of a ClientHello body's server_name extension; undefined without one, null when malformed. */
function serverNameOf(body: Buffer): string | undefined | null {
  const reader = new Reader(body);
  reader.skip(2 + 32); // legacy_version, random
  reader.skip(reader.u8()); // legacy_session_id
  reader.skip(reader.u16()); // cipher_suites
  reader.skip(reader.u8()); // legacy_compression_methods
  if (reader.failed) return null;
  if (reader.remaining() === 0) return undefined; // no extensions at all (SSL 3.0-style hello)
  const extensionsLength = reader.u16();
  const extensionsEnd = reader.position + extensionsLength;
  while (!reader.failed && reader.position < extensionsEnd) {
    const type = reader.u16();
    const length = reader.u16();
    if (type !== SERVER_NAME_EXTENSION) {
      reader.skip(length);
      continue;
    }
    const listLength = reader.u16();
    const listEnd = reader.position + listLength;
    while (!reader.failed && reader.position < listEnd) {
      const nameType = reader.u8();
      const name = reader.bytes(reader.u16());
      if (nameType === HOST_NAME_TYPE && name) return name.toString('latin1');
    }
    return reader.failed ? null : undefined;
  }
  return reader.failed || reader.position > extensionsEnd ? null : undefined;
}

/** Bounds-checked big-endian reads; after the first overrun every read fails. */
class Reader {
  position = 0;
  failed = false;
  constructor(private readonly buf: Buffer) {}

  remaining(): number {
    return this.buf.length - this.position;
  }
  private take(n: number): number {
    const at = this.position;
    if (this.failed || at + n > this.buf.length) {
      this.failed = true;
      return -1;
    }
    this.position += n;
    return at;
  }
  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : this.buf[at];
  }
  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }
  skip(n: number): void {
    this.take(n);
  }
  bytes(n: number): Buffer | undefined {
    const at = this.take(n);
    return at < 0 ? undefined : this.buf.subarray(at, at + n);
  }
}
