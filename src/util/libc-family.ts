// Tells msgpackr-extract's loader (node-gyp-build-optional-packages) which libc this is, so it does not find out
// itself: its detect-libc reads the whole running executable (/proc/self/exe, ~100 MB for node) to find the ELF
// interpreter, 45–75 ms of wall time in every process that loads msgpackr. The interpreter's path is in the first
// few kilobytes: we read those, and set LIBC (the loader's documented override) when it was not set already.
import { closeSync, openSync, readSync } from 'node:fs';

/** ELF64 little-endian: the PT_INTERP program header's path, when the first `head` bytes hold it */
export function elfInterpreter(head: Buffer): string | undefined {
  if (head.length < 64 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  if (head.readUInt8(4) !== 2 || head.readUInt8(5) !== 1) return undefined;
  const phoff = Number(head.readBigUInt64LE(32));
  const phentsize = head.readUInt16LE(54);
  const phnum = head.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 40 > head.length) return undefined;
    if (head.readUInt32LE(at) !== 3) continue; // PT_INTERP
    const offset = Number(head.readBigUInt64LE(at + 8));
    const size = Number(head.readBigUInt64LE(at + 32));
    if (offset + size > head.length) return undefined;
    return head
      .subarray(offset, offset + size)
      .toString('latin1')
      .replace(/\0.*$/s, '');
  }
  return undefined;
}

/** 'musl' or 'glibc' from the executable's interpreter, as detect-libc decides it (ld-musl-* / ld-linux-*), or undefined */
export function libcFamily(executable = '/proc/self/exe'): 'glibc' | 'musl' | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(executable, 'r');
    const head = Buffer.alloc(4096);
    const interpreter = elfInterpreter(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    if (!interpreter) return undefined;
    if (interpreter.includes('/ld-musl-')) return 'musl';
    return interpreter.includes('/ld-linux-') ? 'glibc' : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

if (process.platform === 'linux' && !process.env['LIBC']) {
  const family = libcFamily();
  if (family) process.env['LIBC'] = family;
}
