// What every storage backend does to a value on its way in and out: the JSON text (refused over etcd's request
// limit), encryption at rest, the decoded copy stamped with its resourceVersion, and frozen hand-outs for tests.
import type { KubeObject } from '../../api/request.js';
import type { ValueTransformer } from './encryption/encryption-at-rest.js';
import { MAX_OBJECT_BYTES, StorageError } from './storage.js';

/** what a stored value is: JSON text, or an encrypted value's bytes */
export type StoredValue = string | Buffer;

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Decode a stored value, stamping its resourceVersion (the stored text may carry a stale one). */
export function decode(text: string, rv: number): KubeObject {
  const obj = JSON.parse(text) as KubeObject;
  obj.metadata = { ...obj.metadata, resourceVersion: String(rv) };
  return obj;
}

/** A shallow copy of a (shared, immutable) object with another resourceVersion. */
export function withRV(obj: KubeObject, rv: number): KubeObject {
  return { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
}

/** etcd's answer to an object over its request size limit */
export function tooLarge(key: string, text: string): StorageError | undefined {
  if (text.length > MAX_OBJECT_BYTES / 3 && Buffer.byteLength(text) > MAX_OBJECT_BYTES)
    return new StorageError('TooLarge', key, 'etcdserver: request is too large');
  return undefined;
}

/** The stored text of an object, or why it has none (a value JSON cannot hold fails the write, not the caller). */
export function encodeText(key: string, object: KubeObject): string | Error {
  let text: string;
  try {
    text = JSON.stringify(object);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
  return tooLarge(key, text) ?? text;
}

/** the value stored for a key's JSON text */
export function sealValue(transformer: ValueTransformer | undefined, key: string, text: string): StoredValue {
  return transformer ? transformer.toStorage(key, text) : text;
}

/**
 * A stored value's JSON text. A value that does not decrypt stops the apiserver: serving without it would let a
 * create overwrite it, and the fix (the key it was written with, back in the configuration) is the user's.
 */
export function unsealValue(
  transformer: ValueTransformer | undefined,
  key: string,
  value: StoredValue,
): { text: string; stale: boolean } {
  if (!transformer) {
    if (typeof value === 'string') return { text: value, stale: false };
    throw new Error(
      `unable to read ${key}: it is encrypted at rest (${value.subarray(0, 40).toString('latin1').split(':').slice(0, 5).join(':')}:...), ` +
        'and no --encryption-provider-config was given: start the apiserver with the configuration it was written with',
    );
  }
  try {
    return transformer.fromStorage(key, value);
  } catch (err) {
    const plaintext = typeof value === 'string';
    throw new Error(
      `${(err as Error).message}: the --encryption-provider-config must list the provider and key this value was written with` +
        (plaintext
          ? ' (it is plaintext: list `identity: {}` last to read values written before encryption)'
          : ''),
      { cause: err },
    );
  }
}
