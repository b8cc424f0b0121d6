// Encryption at rest for the storage layer: the transformers an EncryptionConfiguration asks for, chosen per stored
// key's group and resource as upstream's encryptionconfig does (exact resource, then `*.group`, then `*.*`, else
// identity), applied by SqliteStorage to every value it writes and reads.
import { RESOURCES } from '../../../api/resources.js';
import {
  EncryptionConfigError,
  groupResourceString,
  keyBytes,
  loadEncryptionConfig,
  parseGroupResource,
  type EncryptionConfiguration,
  type GroupResource,
  type KeysConfiguration,
  type ProviderConfiguration,
} from './encryption-config.js';
import {
  cbcTransformer,
  gcmTransformer,
  identityTransformer,
  prefixTransformers,
  secretboxTransformer,
  type PrefixTransformer,
  type Transformer,
} from './transformers.js';

/** what the storage needs: a value for a key's JSON text, and the text back (with upstream's staleness) */
export interface ValueTransformer {
  /** plaintext stays a string (a TEXT row, as without encryption); an encrypted value is bytes (a BLOB) */
  toStorage(key: string, text: string): string | Buffer;
  /** throws an Error saying why the value cannot be read */
  fromStorage(key: string, value: string | Buffer): { text: string; stale: boolean };
}

const PREFIX = {
  aescbc: 'k8s:enc:aescbc:v1:',
  aesgcm: 'k8s:enc:aesgcm:v1:',
  secretbox: 'k8s:enc:secretbox:v1:',
} as const;

/** upstream's aesPrefixTransformer / secretboxPrefixTransformer: `k8s:enc:<provider>:v1:` then `<keyName>:` */
function keyedProvider(
  kind: keyof typeof PREFIX,
  config: KeysConfiguration,
  make: (key: Buffer) => Transformer,
): PrefixTransformer {
  const byKey = config.keys.map((key) => ({
    prefix: Buffer.from(`${key.name}:`),
    transformer: make(keyBytes(key)),
  }));
  const noMatch =
    kind === 'secretbox'
      ? 'no matching key was found for the provided Secretbox transformer'
      : 'no matching key was found for the provided AES transformer';
  return { prefix: Buffer.from(PREFIX[kind]), transformer: prefixTransformers(noMatch, byKey) };
}

function providerTransformer(provider: ProviderConfiguration): PrefixTransformer {
  if (provider.aesgcm) return keyedProvider('aesgcm', provider.aesgcm, gcmTransformer);
  if (provider.aescbc) return keyedProvider('aescbc', provider.aescbc, cbcTransformer);
  if (provider.secretbox) return keyedProvider('secretbox', provider.secretbox, secretboxTransformer);
  if (provider.identity) return { prefix: Buffer.alloc(0), transformer: identityTransformer };
  // validation refuses KMS and empty elements before this
  throw new EncryptionConfigError(
    'provider does not contain any of the expected providers: AESGCM, AESCBC, Secretbox, Identity',
  );
}

const grKey = (gr: GroupResource): string => `${gr.group}/${gr.resource}`;

/**
 * upstream's getTransformerOverrides: each resource of each entry gets that entry's providers (appended when a
 * resource appears in several entries); a resource after a `*.group` or `*.*` that masks it is an error.
 */
export function transformerOverrides(config: EncryptionConfiguration): Map<string, Transformer> {
  const lists = new Map<string, PrefixTransformer[]>();
  for (const entry of config.resources) {
    const transformers = entry.providers.map(providerTransformer);
    for (const resource of entry.resources) {
      const gr = parseGroupResource(resource);
      for (const masking of [
        { group: gr.group, resource: '*' },
        { group: '*', resource: '*' },
      ]) {
        if (lists.has(grKey(masking)))
          throw new EncryptionConfigError(
            `resource "${groupResourceString(gr)}" is masked by earlier rule "${groupResourceString(masking)}"`,
          );
      }
      lists.set(grKey(gr), [...(lists.get(grKey(gr)) ?? []), ...transformers]);
    }
  }
  return new Map([...lists].map(([gr, list]) => [gr, prefixTransformers('no matching prefix found', list)]));
}

/** built-in groups whose names have no dot (`apps`, `batch`, `policy`, `autoscaling`): every other group has one */
const DOTLESS_GROUPS = new Set(RESOURCES.map((ri) => ri.group).filter((g) => g !== '' && !g.includes('.')));

/** the group and resource of a storage key (`/registry/secrets/ns/name`, `/registry/apps/deployments/ns/name`) */
export function groupResourceOfKey(key: string): GroupResource | undefined {
  const parts = key.split('/');
  if (parts[0] !== '' || parts[1] !== 'registry' || parts.length < 4) return undefined;
  const first = parts[2];
  if (first.includes('.') || DOTLESS_GROUPS.has(first)) return { group: first, resource: parts[3] };
  return { group: '', resource: first };
}

/** The storage's view of an EncryptionConfiguration. */
export class EncryptionAtRest implements ValueTransformer {
  private readonly byResource = new Map<string, Transformer>();

  constructor(private readonly overrides: Map<string, Transformer>) {}

  static fromConfig(config: EncryptionConfiguration): EncryptionAtRest {
    return new EncryptionAtRest(transformerOverrides(config));
  }

  /** `--encryption-provider-config FILE`: throws an EncryptionConfigError naming what is wrong */
  static fromFile(path: string): EncryptionAtRest {
    return EncryptionAtRest.fromConfig(loadEncryptionConfig(path));
  }

  /** upstream's transformerFromOverrides: the resource, its group's `*.group`, `*.*`, else identity */
  transformerFor(gr: GroupResource): Transformer {
    const k = grKey(gr);
    let found = this.byResource.get(k);
    if (!found) {
      found =
        this.overrides.get(k) ??
        this.overrides.get(grKey({ group: gr.group, resource: '*' })) ??
        this.overrides.get(grKey({ group: '*', resource: '*' })) ??
        identityTransformer;
      this.byResource.set(k, found);
    }
    return found;
  }

  private forKey(key: string): Transformer {
    const gr = groupResourceOfKey(key);
    return gr ? this.transformerFor(gr) : identityTransformer;
  }

  toStorage(key: string, text: string): string | Buffer {
    const transformer = this.forKey(key);
    if (transformer === identityTransformer) return text;
    const out = transformer.toStorage(Buffer.from(text), Buffer.from(key));
    // an identity first provider writes plaintext: keep it a TEXT row, as a cluster without encryption has
    return out[0] === 0x7b /* '{' */ ? out.toString() : out;
  }

  fromStorage(key: string, value: string | Buffer): { text: string; stale: boolean } {
    const transformer = this.forKey(key);
    if (transformer === identityTransformer && typeof value === 'string' && !value.startsWith('k8s:enc:'))
      return { text: value, stale: false };
    const data = typeof value === 'string' ? Buffer.from(value) : value;
    try {
      const { data: plain, stale } = transformer.fromStorage(data, Buffer.from(key));
      return { text: plain.toString(), stale };
    } catch (err) {
      // upstream's storage error for a value that does not transform
      throw new Error(`unable to transform key "${key}": ${(err as Error).message}`, { cause: err });
    }
  }
}
