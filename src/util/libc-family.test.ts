import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { elfInterpreter, libcFamily } from './libc-family.js';

const work = mkdtempSync(join(tmpdir(), 'kubemu-libc-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** a minimal ELF64 LE header with one PT_INTERP program header naming `interp` */
function elfWith(interp: string): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt32BE(0x7f454c46, 0);
  b.writeUInt8(2, 4);
  b.writeUInt8(1, 5);
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeUInt16LE(56, 54); // e_phentsize
  b.writeUInt16LE(2, 56); // e_phnum
  b.writeUInt32LE(6, 64); // PT_PHDR first
  b.writeUInt32LE(3, 120); // PT_INTERP
  b.writeBigUInt64LE(200n, 128);
  b.writeBigUInt64LE(BigInt(interp.length + 1), 152);
  b.write(`${interp}\0`, 200, 'latin1');
  return b;
}

describe('libcFamily', () => {
  it('says what detect-libc (msgpackr-extract loader) says for this node', () => {
    const detectLibc = createRequire(import.meta.url)('detect-libc') as { familySync(): string | null };
    expect(libcFamily(process.execPath)).toBe(detectLibc.familySync());
  });

  it('reads the interpreter of musl and glibc executables', () => {
    expect(elfInterpreter(elfWith('/lib/ld-musl-x86_64.so.1'))).toBe('/lib/ld-musl-x86_64.so.1');
    const musl = join(work, 'musl');
    writeFileSync(musl, elfWith('/lib/ld-musl-x86_64.so.1'));
    expect(libcFamily(musl)).toBe('musl');
    const glibc = join(work, 'glibc');
    writeFileSync(glibc, elfWith('/lib64/ld-linux-x86-64.so.2'));
    expect(libcFamily(glibc)).toBe('glibc');
  });

  it('leaves the decision to detect-libc when it cannot tell', () => {
    const script = join(work, 'script');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    expect(libcFamily(script)).toBeUndefined();
    const odd = join(work, 'odd');
    writeFileSync(odd, elfWith('/lib/ld-other.so'));
    expect(libcFamily(odd)).toBeUndefined();
    expect(libcFamily(join(work, 'missing'))).toBeUndefined();
    expect(elfInterpreter(Buffer.alloc(10))).toBeUndefined();
  });
});
