// A minimal protobuf wire-format reader: tags, varints, length-delimited slices and fixed 32/64-bit values.
// Just enough for Kubernetes' proto2 messages; every malformation throws a WireError the caller turns into a 400.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** the next field's number and wire type */
  tag(): { field: number; wireType: number } {
    const key = this.varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field <= 0 || field > 0x1fffffff) throw new WireError(`illegal field number ${field}`);
    return { field, wireType };
  }

  /** a raw varint as an unsigned 64-bit value (BigInt keeps int64 exact until the caller narrows it) */
  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new WireError('unexpected end of data in a varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** a length-delimited payload, as a view into the buffer */
  bytes(): Buffer {
    const len = this.varint();
    if (len > BigInt(this.end - this.pos))
      throw new WireError('unexpected end of data in a length-delimited field');
    const start = this.pos;
    this.pos += Number(len);
    return this.buf.subarray(start, this.pos);
  }

  fixed64(): Buffer {
    return this.take(8);
  }

  fixed32(): Buffer {
    return this.take(4);
  }

  /** skip a field we do not know: unknown field numbers are tolerated, as upstream's decoder does */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.take(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.take(4);
        return;
      default:
        throw new WireError(`illegal wire type ${wireType}`);
    }
  }

  private take(n: number): Buffer {
    if (this.end - this.pos < n) throw new WireError(`unexpected end of data in a ${n * 8}-bit fixed field`);
    const start = this.pos;
    this.pos += n;
    return this.buf.subarray(start, this.pos);
  }
}
