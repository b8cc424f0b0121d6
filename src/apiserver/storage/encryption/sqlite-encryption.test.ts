import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/request.js';
import { SqliteStorage } from '../sqlite-storage.js';
import { EncryptionAtRest } from './encryption-at-rest.js';
import type { EncryptionConfiguration, ProviderConfiguration } from './encryption-config.js';

const KEY = '/registry/secrets/default/secret1';
const secret: KubeObject = {
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'secret1', namespace: 'default' },
  data: { mykey: Buffer.from('mydata').toString('base64') },
};
const configOf = (...providers: ProviderConfiguration[]): EncryptionConfiguration => ({
  apiVersion: 'apiserver.config.k8s.io/v1',
  kind: 'EncryptionConfiguration',
  resources: [{ resources: ['secrets'], providers }],
});
const aescbc = (name: string, secretB64: string): ProviderConfiguration => ({
  aescbc: { keys: [{ name, secret: secretB64 }] },
});
const key1 = randomBytes(32).toString('base64');
const key2 = randomBytes(32).toString('base64');

describe('SqliteStorage with encryption at rest', () => {
  let dir: string;
  let path: string;
  const opened: SqliteStorage[] = [];
  const open = (config?: EncryptionConfiguration): SqliteStorage => {
    const s = SqliteStorage.open({
      path,
      ...(config ? { transformer: EncryptionAtRest.fromConfig(config) } : {}),
    });
    opened.push(s);
    return s;
  };
  const rawValue = (key: string): string | Buffer => {
    const db = new Database(path, { readonly: true });
    try {
      return (db.prepare('SELECT value FROM kv WHERE key = ?').get(key) as { value: string | Buffer }).value;
    } finally {
      db.close();
    }
  };
  const rawPrevs = (key: string): (string | Buffer)[] => {
    const db = new Database(path, { readonly: true });
    try {
      return (
        db.prepare('SELECT prev FROM events WHERE key = ? AND prev IS NOT NULL').all(key) as {
          prev: string | Buffer;
        }[]
      ).map((r) => r.prev);
    } finally {
      db.close();
    }
  };
  const text = (v: string | Buffer): string => (typeof v === 'string' ? v : v.toString('latin1'));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubemu-sqlite-enc-'));
    path = join(dir, 'state.db');
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores secrets as k8s:enc:aescbc:v1:key1: + ciphertext, other resources as before, and reads them back', async () => {
    const s = open(configOf(aescbc('key1', key1), { identity: {} }));
    await s.create(KEY, secret);
    await s.create('/registry/configmaps/default/c', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
    });
    const updated = await s.update(KEY, { ...secret, data: { mykey: 'bmV3' } }, (await s.get(KEY))!.rv);
    const raw = rawValue(KEY);
    expect(raw).toBeInstanceOf(Buffer);
    expect(text(raw).startsWith('k8s:enc:aescbc:v1:key1:')).toBe(true);
    expect(text(raw)).not.toContain('bmV3');
    expect(text(raw)).not.toContain('Secret');
    // the history's previous object is encrypted too
    expect(rawPrevs(KEY).map((v) => text(v).slice(0, 23))).toEqual(['k8s:enc:aescbc:v1:key1:']);
    expect(typeof rawValue('/registry/configmaps/default/c')).toBe('string');
    await s.close();

    const again = open(configOf(aescbc('key1', key1), { identity: {} }));
    expect((await again.get(KEY))!.object).toEqual(updated.object);
    expect(again.isStale(KEY)).toBe(false);
  });

  it('rotation: with key2 first, a key1 value is read, stale, and rewritten with key2 by the next write', async () => {
    const before = open(configOf(aescbc('key1', key1), { identity: {} }));
    await before.create(KEY, secret);
    await before.close();

    // the docs' order: the new key first in the same provider
    const rotated = open(
      configOf(
        {
          aescbc: {
            keys: [
              { name: 'key2', secret: key2 },
              { name: 'key1', secret: key1 },
            ],
          },
        },
        { identity: {} },
      ),
    );
    const current = (await rotated.get(KEY))!;
    expect(current.object['data']).toEqual(secret['data']);
    expect(rotated.isStale(KEY)).toBe(true);
    await rotated.update(KEY, current.object, current.rv);
    expect(rotated.isStale(KEY)).toBe(false);
    expect(text(rawValue(KEY)).startsWith('k8s:enc:aescbc:v1:key2:')).toBe(true);
    await rotated.close();

    // key1 is gone from the configuration: the value still reads, the old history is dropped as if compacted
    const key2Only = open(configOf(aescbc('key2', key2)));
    expect((await key2Only.get(KEY))!.object['data']).toEqual(secret['data']);
    expect(key2Only.isStale(KEY)).toBe(false);
  });

  it('refuses to start when a stored value does not decrypt, naming the key and what to fix', async () => {
    const s = open(configOf(aescbc('key1', key1)));
    await s.create(KEY, secret);
    await s.close();
    expect(() => open(configOf(aescbc('key1', randomBytes(32).toString('base64'))))).toThrow(
      /^unable to transform key "\/registry\/secrets\/default\/secret1": invalid (PKCS7 data \(empty or not padded\)|padding on input): the --encryption-provider-config must list the provider and key this value was written with$/,
    );
    expect(() => open(configOf(aescbc('key9', key1)))).toThrow(
      'unable to transform key "/registry/secrets/default/secret1": no matching key was found for the provided AES transformer',
    );
    expect(() => open()).toThrow(
      /it is encrypted at rest \(k8s:enc:aescbc:v1:key1:\.\.\.\), and no --encryption-provider-config was given/,
    );
  });

  it('plaintext written before encryption reads through identity (stale), and is refused without it, with a hint', async () => {
    const plain = open();
    await plain.create(KEY, secret);
    await plain.close();
    expect(() => open(configOf(aescbc('key1', key1)))).toThrow(
      /no matching prefix found: .* \(it is plaintext: list `identity: \{\}` last to read values written before encryption\)/,
    );
    const s = open(configOf(aescbc('key1', key1), { identity: {} }));
    expect(s.isStale(KEY)).toBe(true);
    expect((await s.get(KEY))!.object['data']).toEqual(secret['data']);
  });

  it('decrypting back to plaintext: identity first reads encrypted values (stale) and writes text', async () => {
    const s = open(configOf({ secretbox: { keys: [{ name: 'key1', secret: key1 }] } }));
    await s.create(KEY, secret);
    await s.close();
    expect(text(rawValue(KEY)).startsWith('k8s:enc:secretbox:v1:key1:')).toBe(true);
    const decrypting = open(
      configOf({ identity: {} }, { secretbox: { keys: [{ name: 'key1', secret: key1 }] } }),
    );
    const current = (await decrypting.get(KEY))!;
    expect(decrypting.isStale(KEY)).toBe(true);
    await decrypting.update(KEY, current.object, current.rv);
    expect(rawValue(KEY)).toBe(
      JSON.stringify({ ...secret, metadata: { ...secret.metadata, resourceVersion: String(current.rv) } }),
    );
  });

  it('aesgcm binds a value to its key: a row copied under another name does not decrypt', async () => {
    const s = open(configOf({ aesgcm: { keys: [{ name: 'key1', secret: key1 }] } }));
    await s.create(KEY, secret);
    await s.close();
    const db = new Database(path);
    db.prepare(
      "INSERT INTO kv (key, rv, value) SELECT '/registry/secrets/default/copy', rv, value FROM kv WHERE key = ?",
    ).run(KEY);
    db.close();
    expect(() => open(configOf({ aesgcm: { keys: [{ name: 'key1', secret: key1 }] } }))).toThrow(
      'unable to transform key "/registry/secrets/default/copy": cipher: message authentication failed',
    );
  });
});
