// The apiserver's --encryption-provider-config: an EncryptionConfiguration (apiserver.config.k8s.io/v1) read and
// validated as upstream's encryptionconfig.loadConfig and apis/apiserver/validation/validation_encryption.go do.
import { readFileSync } from 'node:fs';
import { fe, fieldErrorString, type FieldError } from '../../../api/errors.js';
import { yaml } from '../../../util/lazy-yaml.js';

export const ENCRYPTION_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1';
export const ENCRYPTION_CONFIG_KIND = 'EncryptionConfiguration';

export interface EncryptionKey {
  name: string;
  /** base64 of the key's bytes */
  secret: string;
}

export interface KeysConfiguration {
  keys: EncryptionKey[];
}

/** one element of `providers`: exactly one of these is set */
export interface ProviderConfiguration {
  aescbc?: KeysConfiguration;
  aesgcm?: KeysConfiguration;
  secretbox?: KeysConfiguration;
  identity?: Record<string, never>;
  kms?: Record<string, unknown>;
}

export interface ResourceConfiguration {
  /** `secrets`, `deployments.apps`, `*.apps`, `*.` (the core group), `*.*` */
  resources: string[];
  providers: ProviderConfiguration[];
}

export interface EncryptionConfiguration {
  apiVersion: string;
  kind: string;
  resources: ResourceConfiguration[];
}

/** upstream's schema.GroupResource */
export interface GroupResource {
  group: string;
  resource: string;
}

/** upstream's schema.ParseGroupResource: `deployments.apps` → apps/deployments, `*.` → core/*, `secrets` → core */
export function parseGroupResource(s: string): GroupResource {
  const dot = s.indexOf('.');
  return dot < 0 ? { group: '', resource: s } : { group: s.slice(dot + 1), resource: s.slice(0, dot) };
}

/** upstream's grYAMLString: the core group's wildcard is `*.` */
export function groupResourceString({ group, resource }: GroupResource): string {
  if (group === '' && resource === '*') return '*.';
  return group ? `${resource}.${group}` : resource;
}

/** a configuration file that cannot be used: the message names the file and each offending field */
export class EncryptionConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EncryptionConfigError';
  }
}

/** upstream's utilerrors aggregate: one error as itself, several as `[a, b]` */
function aggregate(errs: FieldError[]): string {
  const messages = [...new Set(errs.map(fieldErrorString))];
  return messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
}

/**
 * Read, decode and validate the file. Throws an EncryptionConfigError: `error while parsing file: <field errors>`
 * (upstream's LoadEncryptionConfig wording) for a config that decodes but is invalid.
 */
export function loadEncryptionConfig(path: string): EncryptionConfiguration {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EncryptionConfigError(
      `error while parsing file: error opening encryption provider configuration file "${path}": ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (text.trim() === '')
    throw new EncryptionConfigError(
      `error while parsing file: encryption provider configuration file "${path}" is empty`,
    );
  const config = decode(path, text);
  const errs = validateEncryptionConfiguration(config);
  if (errs.length > 0) throw new EncryptionConfigError(`error while parsing file: ${aggregate(errs)}`);
  return config;
}

function decode(path: string, text: string): EncryptionConfiguration {
  const fail = (why: string): never => {
    throw new EncryptionConfigError(
      `error while parsing file: error decoding encryption provider configuration file "${path}": ${why}`,
    );
  };
  let doc: unknown;
  try {
    doc = yaml().parse(text);
  } catch (err) {
    return fail((err as Error).message);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    return fail('the file must hold one object (apiVersion, kind, resources)');
  const obj = doc as Record<string, unknown>;
  if (typeof obj['kind'] !== 'string' || obj['kind'] === '') return fail(`Object 'Kind' is missing`);
  if (typeof obj['apiVersion'] !== 'string' || obj['apiVersion'] === '')
    return fail(`Object 'apiVersion' is missing`);
  if (obj['apiVersion'] !== ENCRYPTION_CONFIG_API_VERSION || obj['kind'] !== ENCRYPTION_CONFIG_KIND) {
    return fail(
      `no kind "${obj['kind']}" is registered for version "${obj['apiVersion']}": ` +
        `use apiVersion: ${ENCRYPTION_CONFIG_API_VERSION}, kind: ${ENCRYPTION_CONFIG_KIND}`,
    );
  }
  // Go's JSON decoding: a field of the wrong type fails the whole file, naming the field
  const typeError = checkTypes(obj);
  if (typeError) return fail(typeError);
  return obj as unknown as EncryptionConfiguration;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function checkTypes(obj: Record<string, unknown>): string | undefined {
  const wrong = (field: string, want: string): string =>
    `json: cannot unmarshal into field ${field} of type ${want}`;
  const resources = obj['resources'];
  if (resources === undefined || resources === null) return undefined;
  if (!Array.isArray(resources)) return wrong('resources', '[]ResourceConfiguration');
  for (const [i, rc] of resources.entries()) {
    if (!isObject(rc)) return wrong(`resources[${i}]`, 'ResourceConfiguration');
    const names = rc['resources'];
    if (names != null && (!Array.isArray(names) || names.some((n) => typeof n !== 'string')))
      return wrong(`resources[${i}].resources`, '[]string');
    const providers = rc['providers'];
    if (providers == null) continue;
    if (!Array.isArray(providers)) return wrong(`resources[${i}].providers`, '[]ProviderConfiguration');
    for (const [j, p] of providers.entries()) {
      if (!isObject(p)) return wrong(`resources[${i}].providers[${j}]`, 'ProviderConfiguration');
      for (const kind of ['aescbc', 'aesgcm', 'secretbox', 'identity', 'kms'] as const) {
        const value = p[kind];
        if (value != null && !isObject(value))
          return wrong(`resources[${i}].providers[${j}].${kind}`, 'object');
      }
      for (const kind of ['aescbc', 'aesgcm', 'secretbox'] as const) {
        const keys = (p[kind] as Record<string, unknown> | undefined)?.['keys'];
        if (keys == null) continue;
        const path = `resources[${i}].providers[${j}].${kind}.keys`;
        if (!Array.isArray(keys)) return wrong(path, '[]Key');
        for (const [k, key] of keys.entries()) {
          if (!isObject(key)) return wrong(`${path}[${k}]`, 'Key');
          for (const f of ['name', 'secret'])
            if (key[f] != null && typeof key[f] !== 'string') return wrong(`${path}[${k}].${f}`, 'string');
        }
      }
    }
  }
  return undefined;
}

const AES_KEY_SIZES = [16, 24, 32];
const SECRETBOX_KEY_SIZES = [32];
const STAR_RESOURCE_ERR =
  "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources";
const OVERLAP_ERR =
  "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked";
const DUPLICATE_RESOURCE_ERR = 'the same resource cannot be specified multiple times';
const NOT_ANY_PROVIDER =
  'provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity';
const MORE_THAN_ONE_PROVIDER =
  'more than one provider specified in a single element, should split into different list elements';
/** kubemu's own refusal: upstream talks to a KMS plugin over a unix socket, which kubemu has no client for */
export const KMS_UNSUPPORTED =
  'KMS providers are not supported by kubemu (it has no KMS plugin client): use aescbc, aesgcm or secretbox';

/** a provider element's set entries: upstream's pointer fields are set when present and not null */
const present = (p: ProviderConfiguration, k: keyof ProviderConfiguration): boolean =>
  p[k] !== undefined && p[k] !== null;

/** upstream's ValidateEncryptionConfiguration (reload=false), and KMS refused */
export function validateEncryptionConfiguration(c: EncryptionConfiguration): FieldError[] {
  const root = 'resources';
  if (!Array.isArray(c.resources) || c.resources.length === 0)
    return [fe.required(root, `at least one ${root} is required`)];
  const errs: FieldError[] = [];
  c.resources.forEach((conf, i) => {
    const r = `${root}[${i}].resources`;
    const p = `${root}[${i}].providers`;
    const names = conf.resources ?? [];
    if (names.length === 0) errs.push(fe.required(r, `at least one ${r} is required`));
    errs.push(...validateResourceOverlap(names, r), ...validateResourceNames(names, r));
    const providers = conf.providers ?? [];
    if (providers.length === 0) errs.push(fe.required(p, `at least one ${p} is required`));
    providers.forEach((provider, j) => {
      const path = `${p}[${j}]`;
      const found = (['kms', 'aesgcm', 'aescbc', 'secretbox', 'identity'] as const).filter((k) =>
        present(provider, k),
      );
      if (found.length === 0) errs.push(fe.invalid(path, provider, NOT_ANY_PROVIDER));
      else if (found.length > 1) errs.push(fe.invalid(path, provider, MORE_THAN_ONE_PROVIDER));
      if (present(provider, 'kms')) errs.push(fe.forbidden(`${path}.kms`, KMS_UNSUPPORTED));
      else if (present(provider, 'aesgcm'))
        errs.push(...validateKeys(provider.aesgcm!.keys, `${path}.aesgcm.keys`, AES_KEY_SIZES));
      else if (present(provider, 'aescbc'))
        errs.push(...validateKeys(provider.aescbc!.keys, `${path}.aescbc.keys`, AES_KEY_SIZES));
      else if (present(provider, 'secretbox'))
        errs.push(...validateKeys(provider.secretbox!.keys, `${path}.secretbox.keys`, SECRETBOX_KEY_SIZES));
    });
  });
  return errs;
}

/** Go's %#v of a []string, as upstream's field.Invalid renders the list */
const goStrings = (values: string[]): string =>
  `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;

function validateResourceOverlap(resources: string[], path: string): FieldError[] {
  if (resources.length < 2) return [];
  const parsed = resources.map(parseGroupResource);
  let hasOverlap = false;
  let hasDuplicate = false;
  for (let i = 0; i < parsed.length; i++) {
    for (let j = 0; j < parsed.length; j++) {
      if (i === j) continue;
      const [r1, r2] = [parsed[i], parsed[j]];
      if (r1.group === r2.group && r1.resource === r2.resource && !hasDuplicate) {
        hasDuplicate = true;
        continue;
      }
      if (hasOverlap) continue;
      if (r1.group === '*' && r1.resource === '*') {
        hasOverlap = true;
        continue;
      }
      if (r1.group !== r2.group) continue;
      if (r1.resource === '*' || r2.resource === '*') hasOverlap = true;
    }
  }
  const errs: FieldError[] = [];
  const invalid = (detail: string): FieldError => ({
    ...fe.invalid(path, resources, detail),
    goValue: goStrings(resources),
  });
  if (hasDuplicate) errs.push(invalid(DUPLICATE_RESOURCE_ERR));
  if (hasOverlap) errs.push(invalid(OVERLAP_ERR));
  return errs;
}

function validateResourceNames(resources: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  resources.forEach((res, j) => {
    const at = `${path}[${j}]`;
    const gr = parseGroupResource(res);
    if (res.toLowerCase() !== res)
      errs.push(fe.invalid(at, res, 'resource name should not contain capital letters'));
    else if (res === '*') errs.push(fe.invalid(at, res, STAR_RESOURCE_ERR));
    else if (['apiserveripinfo', 'serviceipallocations', 'servicenodeportallocations'].includes(res))
      errs.push(fe.invalid(at, res, 'resources which do not have REST API/s cannot be encrypted'));
    else if (gr.group === 'events.k8s.io')
      errs.push(
        fe.invalid(
          at,
          res,
          "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file",
        ),
      );
    else if (gr.group === 'extensions')
      errs.push(fe.invalid(at, res, "'extensions' group has been removed and cannot be used for encryption"));
    else if (gr.group === '*' && gr.resource !== '*')
      errs.push(fe.invalid(at, res, 'encrypting the same resource across groups is not supported'));
  });
  return errs;
}

function validateKeys(keys: EncryptionKey[] | undefined, path: string, sizes: number[]): FieldError[] {
  if (!keys || keys.length === 0) return [fe.required(path, 'at least one keys is required')];
  return keys.flatMap((key, i) => validateKey(key, `${path}[${i}]`, sizes));
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** a key's bytes (the config must have passed validation) */
export function keyBytes(key: EncryptionKey): Buffer {
  return Buffer.from(key.secret, 'base64');
}

function validateKey(key: EncryptionKey, path: string, sizes: number[]): FieldError[] {
  const errs: FieldError[] = [];
  if (!key.name) errs.push(fe.required(`${path}.name`, 'name is a mandatory field for a key'));
  if (!key.secret) {
    errs.push(fe.required(`${path}.secret`, 'secret is a mandatory field for a key'));
    return errs;
  }
  // Go's base64.StdEncoding: padded, no whitespace (Buffer.from would accept anything)
  if (!BASE64.test(key.secret)) {
    errs.push(fe.invalid(`${path}.secret`, 'REDACTED', 'secrets must be base64 encoded'));
    return errs;
  }
  const length = keyBytes(key).length;
  if (!sizes.includes(length))
    errs.push(
      fe.invalid(
        `${path}.secret`,
        'REDACTED',
        `secret is not of the expected length, got ${length}, expected one of [${sizes.join(' ')}]`,
      ),
    );
  return errs;
}
