import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EncryptionAtRest, groupResourceOfKey } from './encryption-at-rest.js';
import { loadEncryptionConfig, parseGroupResource } from './encryption-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kubemu-encryption-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (text: string): string => {
  const path = join(dir, `config-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
};
const KEY32 = Buffer.alloc(32, 7).toString('base64');
const KEY16 = Buffer.alloc(16, 7).toString('base64');

/** the docs' example (Encrypting Confidential Data at Rest), with real keys */
const DOCS_EXAMPLE = `
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
      - configmaps
      - pandas.awesome.bears.example
    providers:
      - aescbc:
          keys:
            - name: key1
              secret: ${KEY32}
      - identity: {}
  - resources:
      - events
    providers:
      - identity: {}
  - resources:
      - '*.apps'
    providers:
      - aesgcm:
          keys:
            - name: key1
              secret: ${KEY16}
      - identity: {}
  - resources:
      - '*.*'
    providers:
      - secretbox:
          keys:
            - name: key1
              secret: ${KEY32}
      - identity: {}
`;

const failure = (text: string): string => {
  try {
    EncryptionAtRest.fromFile(file(text));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the configuration was accepted');
};

const withProviders = (providers: string, resources = '[secrets]'): string => `
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: ${resources}
    providers:
${providers}
`;

describe('EncryptionConfiguration', () => {
  it("accepts the docs' example and picks each resource's providers as upstream (resource, *.group, *.*)", () => {
    const config = loadEncryptionConfig(file(DOCS_EXAMPLE));
    expect(config.resources).toHaveLength(4);
    const enc = EncryptionAtRest.fromConfig(config);
    const prefixOf = (key: string): string => {
      const v = enc.toStorage(key, '{"a":1}');
      return typeof v === 'string'
        ? 'plaintext'
        : `${v.toString('latin1').split(':').slice(0, 5).join(':')}:`;
    };
    expect(prefixOf('/registry/secrets/default/s')).toBe('k8s:enc:aescbc:v1:key1:');
    expect(prefixOf('/registry/configmaps/default/c')).toBe('k8s:enc:aescbc:v1:key1:');
    expect(prefixOf('/registry/awesome.bears.example/pandas/default/p')).toBe('k8s:enc:aescbc:v1:key1:');
    expect(prefixOf('/registry/events/default/e')).toBe('plaintext');
    expect(prefixOf('/registry/apps/deployments/default/d')).toBe('k8s:enc:aesgcm:v1:key1:');
    expect(prefixOf('/registry/pods/default/p')).toBe('k8s:enc:secretbox:v1:key1:');
    expect(prefixOf('/registry/batch/jobs/default/j')).toBe('k8s:enc:secretbox:v1:key1:');
  });

  it('leaves resources no entry names in plaintext (identity), as upstream: off unless configured', () => {
    const enc = EncryptionAtRest.fromFile(
      file(withProviders(`      - aescbc:\n          keys: [{name: key1, secret: ${KEY32}}]`)),
    );
    expect(enc.toStorage('/registry/configmaps/default/c', '{"a":1}')).toBe('{"a":1}');
    expect(enc.toStorage('/registry/secrets/default/s', '{"a":1}')).toBeInstanceOf(Buffer);
  });

  it('maps storage keys to group/resource and config names as schema.ParseGroupResource', () => {
    expect(groupResourceOfKey('/registry/secrets/ns/a')).toEqual({ group: '', resource: 'secrets' });
    expect(groupResourceOfKey('/registry/apps/deployments/ns/a')).toEqual({
      group: 'apps',
      resource: 'deployments',
    });
    expect(groupResourceOfKey('/registry/networking.k8s.io/ingresses/ns/a')).toEqual({
      group: 'networking.k8s.io',
      resource: 'ingresses',
    });
    expect(groupResourceOfKey('/registry/namespaces/default')).toEqual({ group: '', resource: 'namespaces' });
    expect(groupResourceOfKey('/registry/health')).toBeUndefined();
    expect(parseGroupResource('*.')).toEqual({ group: '', resource: '*' });
    expect(parseGroupResource('*.*')).toEqual({ group: '*', resource: '*' });
    expect(parseGroupResource('deployments.apps')).toEqual({ group: 'apps', resource: 'deployments' });
  });

  it('names the field of a bad key, as upstream validation does', () => {
    expect(failure(withProviders(`      - aescbc:\n          keys: [{name: key1, secret: c2hvcnQ=}]`))).toBe(
      'error while parsing file: resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": ' +
        'secret is not of the expected length, got 5, expected one of [16 24 32]',
    );
    expect(
      failure(withProviders(`      - secretbox:\n          keys: [{name: key1, secret: ${KEY16}}]`)),
    ).toBe(
      'error while parsing file: resources[0].providers[0].secretbox.keys[0].secret: Invalid value: "REDACTED": ' +
        'secret is not of the expected length, got 16, expected one of [32]',
    );
    expect(
      failure(withProviders(`      - aesgcm:\n          keys: [{name: key1, secret: "not base64!"}]`)),
    ).toBe(
      'error while parsing file: resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: "REDACTED": ' +
        'secrets must be base64 encoded',
    );
    expect(failure(withProviders(`      - aescbc:\n          keys: [{secret: ${KEY32}}]`))).toBe(
      'error while parsing file: resources[0].providers[0].aescbc.keys[0].name: Required value: ' +
        'name is a mandatory field for a key',
    );
    expect(failure(withProviders(`      - aescbc:\n          keys: []`))).toBe(
      'error while parsing file: resources[0].providers[0].aescbc.keys: Required value: at least one keys is required',
    );
  });

  it('refuses kms with a clear error, and elements with no provider or two', () => {
    expect(
      failure(
        withProviders(
          `      - kms:\n          apiVersion: v2\n          name: myKms\n          endpoint: unix:///tmp/socketfile.sock`,
        ),
      ),
    ).toBe(
      'error while parsing file: resources[0].providers[0].kms: Forbidden: KMS providers are not supported by ' +
        'kubemu (it has no KMS plugin client): use aescbc, aesgcm or secretbox',
    );
    expect(failure(withProviders(`      - identity:`))).toMatch(
      /^error while parsing file: resources\[0\]\.providers\[0\]: Invalid value: .*provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity$/,
    );
    expect(
      failure(
        withProviders(`      - identity: {}\n        aescbc:\n          keys: [{name: k, secret: ${KEY32}}]`),
      ),
    ).toMatch(
      /more than one provider specified in a single element, should split into different list elements$/,
    );
    expect(failure(withProviders('      []'))).toBe(
      'error while parsing file: resources[0].providers: Required value: at least one resources[0].providers is required',
    );
  });

  it("refuses upstream's invalid resource lists, and a resource masked by an earlier wildcard", () => {
    const identity = '      - identity: {}';
    expect(failure(withProviders(identity, "[secrets, '*.']"))).toBe(
      'error while parsing file: resources[0].resources: Invalid value: []string{"secrets", "*."}: using ' +
        "overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked",
    );
    expect(failure(withProviders(identity, '[secrets, secrets]'))).toMatch(
      /resources\[0\]\.resources: Invalid value: \[\]string\{"secrets", "secrets"\}: the same resource cannot be specified multiple times$/,
    );
    expect(failure(withProviders(identity, "['*']"))).toMatch(
      /resources\[0\]\.resources\[0\]: Invalid value: "\*": use '\*\.' to encrypt all the resources from core API group or \*\.\* to encrypt all resources$/,
    );
    expect(failure(withProviders(identity, '[Secrets]'))).toMatch(
      /resource name should not contain capital letters$/,
    );
    expect(failure(withProviders(identity, "['secrets.*']"))).toMatch(
      /encrypting the same resource across groups is not supported$/,
    );
    expect(failure(withProviders(identity, '[events.events.k8s.io]'))).toMatch(
      /Use 'events' instead in the config file$/,
    );
    const masked = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: ['*.*']
    providers: [{identity: {}}]
  - resources: [secrets]
    providers: [{identity: {}}]
`;
    expect(failure(masked)).toBe('resource "secrets" is masked by earlier rule "*.*"');
  });

  it('refuses an empty file, another kind, and a file that is not YAML', () => {
    const empty = file('');
    expect(failure('')).toMatch(
      /^error while parsing file: encryption provider configuration file ".*" is empty$/,
    );
    expect(() => loadEncryptionConfig(join(dir, 'missing.yaml'))).toThrow(
      /error opening encryption provider configuration file ".*missing\.yaml"/,
    );
    expect(empty).toBeTruthy();
    expect(failure('apiVersion: v1\nkind: ConfigMap\n')).toMatch(
      /no kind "ConfigMap" is registered for version "v1"/,
    );
    expect(failure('resources: []\n')).toMatch(/Object 'Kind' is missing/);
    expect(failure('apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n')).toBe(
      'error while parsing file: resources: Required value: at least one resources is required',
    );
    expect(failure('a: [b\n')).toMatch(
      /^error while parsing file: error decoding encryption provider configuration file/,
    );
    expect(
      failure('apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: secrets\n'),
    ).toMatch(/cannot unmarshal into field resources of type \[\]ResourceConfiguration/);
  });
});
