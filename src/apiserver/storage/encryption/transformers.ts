// Value transformers for encryption at rest, ported from upstream's k8s.io/apiserver/pkg/storage/value (the
// prefix chooser) and value/encrypt/{identity,aes,secretbox}: the bytes they write are upstream's, byte for byte.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';

/** What a read gives: the plaintext, and whether it was written by anything but the first (writing) transformer. */
export interface FromStorage {
  data: Buffer;
  /** upstream's `stale`: a write should be issued even if the object did not change (key rotation) */
  stale: boolean;
}

/**
 * upstream's value.Transformer. `authenticatedData` is the storage key (upstream: the etcd key): AES-GCM binds a
 * value to it, so a value copied under another key does not decrypt.
 */
export interface Transformer {
  /** throws an Error saying why the value cannot be read */
  fromStorage(data: Buffer, authenticatedData: Buffer): FromStorage;
  toStorage(data: Buffer, authenticatedData: Buffer): Buffer;
}

const ENCRYPTED_PREFIX = Buffer.from('k8s:enc:');

/** upstream's identity.NewEncryptCheckTransformer: plaintext, but refuses to hand out encrypted data as such */
export const identityTransformer: Transformer = {
  fromStorage(data) {
    if (startsWith(data, ENCRYPTED_PREFIX))
      throw new Error('identity transformer tried to read encrypted data');
    return { data, stale: false };
  },
  toStorage: (data) => data,
};

const AES_BLOCK = 16;
const GCM_NONCE = 12;
const GCM_TAG = 16;

function aesAlgorithm(key: Buffer, mode: 'cbc' | 'gcm'): string {
  if (key.length !== 16 && key.length !== 24 && key.length !== 32)
    throw new Error(`crypto/aes: invalid key size ${key.length}`);
  return `aes-${key.length * 8}-${mode}`;
}

/** upstream's aes.NewCBCTransformer: a random IV, then the PKCS#7-padded plaintext in CBC mode */
export function cbcTransformer(key: Buffer): Transformer {
  const algorithm = aesAlgorithm(key, 'cbc');
  return {
    fromStorage(data) {
      if (data.length < AES_BLOCK) throw new Error('the stored data was shorter than the required size');
      const body = data.subarray(AES_BLOCK);
      if (body.length % AES_BLOCK !== 0)
        throw new Error('the stored data is not a multiple of the block size');
      const decipher = createDecipheriv(algorithm, key, data.subarray(0, AES_BLOCK));
      decipher.setAutoPadding(false);
      const result = Buffer.concat([decipher.update(body), decipher.final()]);
      // checked as upstream does (not by OpenSSL), for upstream's messages
      const paddingSize = result.length > 0 ? result[result.length - 1] : 0;
      if (paddingSize === 0 || paddingSize > result.length)
        throw new Error('invalid PKCS7 data (empty or not padded)');
      for (let i = result.length - paddingSize; i < result.length; i++)
        if (result[i] !== paddingSize) throw new Error('invalid padding on input');
      return { data: result.subarray(0, result.length - paddingSize), stale: false };
    },
    toStorage(data) {
      const iv = randomBytes(AES_BLOCK);
      const cipher = createCipheriv(algorithm, key, iv); // PKCS#7 padding is OpenSSL's default
      return Buffer.concat([iv, cipher.update(data), cipher.final()]);
    },
  };
}

/** upstream's aes.NewGCMTransformer: a random 96-bit nonce, then the sealed plaintext with its 16-byte tag */
export function gcmTransformer(key: Buffer): Transformer {
  const algorithm = aesAlgorithm(key, 'gcm');
  return {
    fromStorage(data, authenticatedData) {
      if (data.length < GCM_NONCE) throw new Error('the stored data was shorter than the required size');
      // Go's AEAD.Open fails on a value too short for its tag with the same error as on a wrong tag
      if (data.length < GCM_NONCE + GCM_TAG) throw new Error('cipher: message authentication failed');
      const decipher = createDecipheriv(algorithm as 'aes-256-gcm', key, data.subarray(0, GCM_NONCE));
      decipher.setAAD(authenticatedData);
      decipher.setAuthTag(data.subarray(data.length - GCM_TAG));
      try {
        const plain = Buffer.concat([
          decipher.update(data.subarray(GCM_NONCE, data.length - GCM_TAG)),
          decipher.final(),
        ]);
        return { data: plain, stale: false };
      } catch (err) {
        throw new Error('cipher: message authentication failed', { cause: err });
      }
    },
    toStorage(data, authenticatedData) {
      const nonce = randomBytes(GCM_NONCE);
      const cipher = createCipheriv(algorithm as 'aes-256-gcm', key, nonce);
      cipher.setAAD(authenticatedData);
      const sealed = Buffer.concat([cipher.update(data), cipher.final()]);
      return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
    },
  };
}

const SECRETBOX_NONCE = nacl.secretbox.nonceLength;

/**
 * upstream's secretbox.NewSecretboxTransformer: NaCl's secretbox (XSalsa20-Poly1305), a random 24-byte nonce
 * first. Node's crypto (OpenSSL) has no XSalsa20, so the box is tweetnacl's: a port of NaCl's reference code, audited.
 */
export function secretboxTransformer(key: Buffer): Transformer {
  if (key.length !== nacl.secretbox.keyLength)
    throw new Error(`expected key size 32 for secretbox provider, got ${key.length}`);
  const keyBytes = new Uint8Array(key);
  return {
    fromStorage(data) {
      if (data.length < nacl.secretbox.overheadLength + SECRETBOX_NONCE)
        throw new Error('the stored data was shorter than the required size');
      const opened = nacl.secretbox.open(
        new Uint8Array(data.subarray(SECRETBOX_NONCE)),
        new Uint8Array(data.subarray(0, SECRETBOX_NONCE)),
        keyBytes,
      );
      // upstream's message for a box that does not open, odd as it reads
      if (!opened) throw new Error('output array was not large enough for encryption');
      return { data: Buffer.from(opened), stale: false };
    },
    toStorage(data) {
      const nonce = randomBytes(SECRETBOX_NONCE);
      const box = nacl.secretbox(new Uint8Array(data), new Uint8Array(nonce), keyBytes);
      return Buffer.concat([nonce, box]);
    },
  };
}

/** upstream's value.PrefixTransformer */
export interface PrefixTransformer {
  prefix: Buffer;
  transformer: Transformer;
}

/**
 * upstream's value.NewPrefixTransformers: writes with the first, reads with the first whose prefix the value
 * starts with (stripped before it reads) — trying the next on an error, since two providers may share a prefix
 * (the same provider with another key, being rotated away from); a value read by any but the first is stale.
 * An identity (empty prefix) that refuses a value is skipped silently, as upstream's.
 */
export function prefixTransformers(noMatch: string, transformers: PrefixTransformer[]): Transformer {
  if (transformers.length === 0) throw new Error('prefixTransformers needs at least one transformer');
  return {
    fromStorage(data, authenticatedData) {
      const errs: string[] = [];
      for (let i = 0; i < transformers.length; i++) {
        const { prefix, transformer } = transformers[i];
        if (!startsWith(data, prefix)) continue;
        try {
          const result = transformer.fromStorage(data.subarray(prefix.length), authenticatedData);
          return { data: result.data, stale: result.stale || i !== 0 };
        } catch (err) {
          if (prefix.length > 0) errs.push((err as Error).message);
        }
      }
      // upstream's errors.Reduce(NewAggregate(errs)): distinct messages, several as `[a, b]`
      const distinct = [...new Set(errs)];
      if (distinct.length === 1) throw new Error(distinct[0]);
      if (distinct.length > 1) throw new Error(`[${distinct.join(', ')}]`);
      throw new Error(noMatch);
    },
    toStorage(data, authenticatedData) {
      const { prefix, transformer } = transformers[0];
      return Buffer.concat([prefix, transformer.toStorage(data, authenticatedData)]);
    },
  };
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}
