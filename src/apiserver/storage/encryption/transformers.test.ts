import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  cbcTransformer,
  gcmTransformer,
  identityTransformer,
  prefixTransformers,
  secretboxTransformer,
  type Transformer,
} from './transformers.js';

const KEY = Buffer.from('/registry/secrets/default/secret1');
const plain = Buffer.from('{"kind":"Secret","data":{"mykey":"bXlkYXRh"}}');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('AES-CBC (upstream aes.NewCBCTransformer)', () => {
  it.each([16, 24, 32])('round-trips with a %i-byte key, IV first, PKCS#7-padded to whole blocks', (size) => {
    const t = cbcTransformer(randomBytes(size));
    for (const length of [0, 1, 15, 16, 17, 1000]) {
      const data = randomBytes(length);
      const stored = t.toStorage(data, KEY);
      // IV + ciphertext of the padded data: a full block of padding when the data is block-aligned
      expect(stored.length).toBe(16 + (Math.floor(length / 16) + 1) * 16);
      expect(t.fromStorage(stored, KEY)).toEqual({ data, stale: false });
    }
  });

  it('writes what OpenSSL decrypts as AES-CBC with PKCS#7 padding (an independent implementation)', () => {
    const key = randomBytes(32);
    const stored = cbcTransformer(key).toStorage(plain, KEY);
    const out = execFileSync(
      'openssl',
      ['enc', '-d', '-aes-256-cbc', '-K', key.toString('hex'), '-iv', stored.subarray(0, 16).toString('hex')],
      { input: stored.subarray(16) },
    );
    expect(out.equals(plain)).toBe(true);
  });

  it('reads what OpenSSL encrypts', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const ct = execFileSync(
      'openssl',
      ['enc', '-aes-128-cbc', '-K', key.toString('hex'), '-iv', iv.toString('hex')],
      {
        input: plain,
      },
    );
    expect(
      cbcTransformer(key)
        .fromStorage(Buffer.concat([iv, ct]), KEY)
        .data.equals(plain),
    ).toBe(true);
  });

  it("fails on a wrong key or damaged data with upstream's messages", () => {
    const stored = cbcTransformer(randomBytes(32)).toStorage(plain, KEY);
    // a wrong key decrypts to noise whose last byte is almost never a valid padding
    let failures = 0;
    for (let i = 0; i < 20; i++) {
      try {
        cbcTransformer(randomBytes(32)).fromStorage(stored, KEY);
      } catch (err) {
        expect((err as Error).message).toMatch(
          /^invalid (PKCS7 data \(empty or not padded\)|padding on input)$/,
        );
        failures++;
      }
    }
    expect(failures).toBeGreaterThanOrEqual(15);
    const t = cbcTransformer(randomBytes(16));
    expect(() => t.fromStorage(randomBytes(8), KEY)).toThrow(
      'the stored data was shorter than the required size',
    );
    expect(() => t.fromStorage(randomBytes(16 + 7), KEY)).toThrow(
      'the stored data is not a multiple of the block size',
    );
  });
});

describe('AES-GCM (upstream aes.NewGCMTransformer)', () => {
  it('opens the GCM specification test case 4 (128-bit key, 96-bit nonce, with additional data)', () => {
    // McGrew & Viega, "The Galois/Counter Mode of Operation", test case 4; stored as nonce + ciphertext + tag
    const key = hex('feffe9928665731c6d6a8f9467308308');
    const nonce = hex('cafebabefacedbaddecaf888');
    const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
    const expected = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
      1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
    const ct = hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
      21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091`);
    const tag = hex('5bc94fbc3221a5db94fae95ae7121a47');
    const { data } = gcmTransformer(key).fromStorage(Buffer.concat([nonce, ct, tag]), aad);
    expect(data.equals(expected)).toBe(true);
  });

  it.each([16, 24, 32])(
    'round-trips with a %i-byte key: 12-byte nonce + sealed data + 16-byte tag',
    (size) => {
      const t = gcmTransformer(randomBytes(size));
      const stored = t.toStorage(plain, KEY);
      expect(stored.length).toBe(12 + plain.length + 16);
      expect(t.fromStorage(stored, KEY).data.equals(plain)).toBe(true);
      // a fresh nonce every write
      expect(t.toStorage(plain, KEY).subarray(0, 12).equals(stored.subarray(0, 12))).toBe(false);
    },
  );

  it('binds the value to its storage key: copied under another key, or with a wrong key, it does not open', () => {
    const key = randomBytes(32);
    const stored = gcmTransformer(key).toStorage(plain, KEY);
    expect(() =>
      gcmTransformer(key).fromStorage(stored, Buffer.from('/registry/secrets/default/other')),
    ).toThrow('cipher: message authentication failed');
    expect(() => gcmTransformer(randomBytes(32)).fromStorage(stored, KEY)).toThrow(
      'cipher: message authentication failed',
    );
    expect(() => gcmTransformer(key).fromStorage(randomBytes(5), KEY)).toThrow(
      'the stored data was shorter than the required size',
    );
  });
});

describe('secretbox (upstream secretbox.NewSecretboxTransformer)', () => {
  it('round-trips: 24-byte nonce + box (16-byte Poly1305 tag + XSalsa20 ciphertext)', () => {
    const t = secretboxTransformer(randomBytes(32));
    const stored = t.toStorage(plain, KEY);
    expect(stored.length).toBe(24 + 16 + plain.length);
    expect(t.fromStorage(stored, KEY).data.equals(plain)).toBe(true);
  });

  it("fails on a wrong key or a short value with upstream's messages, and takes only 32-byte keys", () => {
    const stored = secretboxTransformer(randomBytes(32)).toStorage(plain, KEY);
    expect(() => secretboxTransformer(randomBytes(32)).fromStorage(stored, KEY)).toThrow(
      'output array was not large enough for encryption',
    );
    expect(() => secretboxTransformer(randomBytes(32)).fromStorage(randomBytes(39), KEY)).toThrow(
      'the stored data was shorter than the required size',
    );
    expect(() => secretboxTransformer(randomBytes(16))).toThrow(
      'expected key size 32 for secretbox provider, got 16',
    );
  });
});

describe('identity', () => {
  it('passes plaintext through and refuses encrypted data', () => {
    expect(identityTransformer.toStorage(plain, KEY)).toBe(plain);
    expect(identityTransformer.fromStorage(plain, KEY)).toEqual({ data: plain, stale: false });
    expect(() => identityTransformer.fromStorage(Buffer.from('k8s:enc:aescbc:v1:key1:xxxx'), KEY)).toThrow(
      'identity transformer tried to read encrypted data',
    );
  });
});

describe('prefixTransformers (upstream value.NewPrefixTransformers)', () => {
  const p = (prefix: string, transformer: Transformer) => ({ prefix: Buffer.from(prefix), transformer });

  it('writes with the first; reads by prefix, anything but the first being stale', () => {
    const [k1, k2] = [cbcTransformer(randomBytes(32)), cbcTransformer(randomBytes(32))];
    const before = prefixTransformers('no match', [p('key1:', k1)]);
    const rotated = prefixTransformers('no match', [p('key2:', k2), p('key1:', k1)]);
    const old = before.toStorage(plain, KEY);
    expect(old.subarray(0, 5).toString()).toBe('key1:');
    expect(rotated.fromStorage(old, KEY)).toMatchObject({ stale: true });
    expect(rotated.fromStorage(old, KEY).data.equals(plain)).toBe(true);
    const fresh = rotated.toStorage(plain, KEY);
    expect(fresh.subarray(0, 5).toString()).toBe('key2:');
    expect(rotated.fromStorage(fresh, KEY)).toMatchObject({ stale: false });
  });

  it('tries every transformer of a shared prefix before failing (the same provider with two keys)', () => {
    const [k1, k2] = [gcmTransformer(randomBytes(32)), gcmTransformer(randomBytes(32))];
    const both = prefixTransformers('no match', [p('k8s:enc:aesgcm:v1:', k2), p('k8s:enc:aesgcm:v1:', k1)]);
    const stored = Buffer.concat([Buffer.from('k8s:enc:aesgcm:v1:'), k1.toStorage(plain, KEY)]);
    expect(both.fromStorage(stored, KEY)).toMatchObject({ stale: true });
  });

  it('an identity first (decrypting everything) writes plaintext and still reads encrypted values, stale', () => {
    const aes = prefixTransformers('no key', [p('key1:', cbcTransformer(randomBytes(32)))]);
    const encrypted = Buffer.concat([Buffer.from('k8s:enc:aescbc:v1:'), aes.toStorage(plain, KEY)]);
    const decrypting = prefixTransformers('no matching prefix found', [
      p('', identityTransformer),
      p('k8s:enc:aescbc:v1:', aes),
    ]);
    expect(decrypting.toStorage(plain, KEY).equals(plain)).toBe(true);
    expect(decrypting.fromStorage(plain, KEY)).toEqual({ data: plain, stale: false });
    const read = decrypting.fromStorage(encrypted, KEY);
    expect(read.stale).toBe(true);
    expect(read.data.equals(plain)).toBe(true);
  });

  it("fails with the transformer's error, or the no-match error when no prefix matches", () => {
    const t = prefixTransformers('no matching prefix found', [
      p(
        'k8s:enc:aescbc:v1:',
        prefixTransformers('no matching key', [p('key1:', cbcTransformer(randomBytes(32)))]),
      ),
    ]);
    expect(() => t.fromStorage(plain, KEY)).toThrow('no matching prefix found');
    expect(() => t.fromStorage(Buffer.from('k8s:enc:aescbc:v1:key9:0123456789abcdef'), KEY)).toThrow(
      'no matching key',
    );
  });
});
