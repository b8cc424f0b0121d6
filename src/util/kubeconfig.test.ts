import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readKubeconfig, removeFromKubeconfig, writeKubeconfig } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

const OTHER = `apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod.example:6443
    certificate-authority-data: ${Buffer.from('prod-ca').toString('base64')}
contexts:
- name: prod
  context:
    cluster: prod
    user: prod-admin
    namespace: shop
users:
- name: prod-admin
  user:
    token: prod-token
current-context: prod
preferences: {}
`;

let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubemu-kubeconfig-'));
  file = join(dir, 'config');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const kubectl = (...args: string[]): string =>
  execFileSync('kubectl', ['--kubeconfig', file, ...args], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: '' },
  });

describe('writeKubeconfig', () => {
  it('creates a kubeconfig kubectl accepts, mode 0600', () => {
    writeKubeconfig(file, {
      name: 'demo',
      server: 'https://127.0.0.1:6443',
      caPem: CA,
      token: 'tok',
      setCurrent: true,
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const view = JSON.parse(kubectl('config', 'view', '--raw', '-o', 'json'));
    expect(view['current-context']).toBe('kubemu-demo');
    expect(view.clusters).toEqual([
      {
        name: 'kubemu-demo',
        cluster: {
          server: 'https://127.0.0.1:6443',
          'certificate-authority-data': Buffer.from(CA).toString('base64'),
        },
      },
    ]);
    expect(view.users).toEqual([{ name: 'kubemu-demo', user: { token: 'tok' } }]);
    expect(kubectl('config', 'current-context').trim()).toBe('kubemu-demo');
    const contexts = kubectl('config', 'get-contexts', '-o', 'name').trim().split('\n');
    expect(contexts).toEqual(['kubemu-demo']);
  });

  it('writes a JSON kubeconfig (a component’s) that kubectl and readKubeconfig accept, and merges into it', () => {
    const opts = {
      name: 'demo',
      server: 'https://127.0.0.1:6443',
      caPem: CA,
      token: 'tok',
      setCurrent: true,
    };
    writeKubeconfig(file, { ...opts, format: 'json' });
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written['current-context']).toBe('kubemu-demo');
    expect(kubectl('config', 'current-context').trim()).toBe('kubemu-demo');
    expect(readKubeconfig(file)).toEqual({
      server: 'https://127.0.0.1:6443',
      caPem: CA,
      token: 'tok',
      insecureSkipTlsVerify: false,
      namespace: undefined,
    });
    // a second write (another cluster name) keeps the first entry, still as JSON
    writeKubeconfig(file, { ...opts, name: 'other', format: 'json' });
    expect(JSON.parse(readFileSync(file, 'utf8')).contexts.map((c: { name: string }) => c.name)).toEqual([
      'kubemu-demo',
      'kubemu-other',
    ]);
  });

  it('reads a YAML kubeconfig written as a flow mapping, which is not JSON', () => {
    writeFileSync(
      file,
      `{apiVersion: v1, kind: Config, current-context: c, clusters: [{name: k, cluster: {server: 'https://h:1'}}],` +
        ` contexts: [{name: c, context: {cluster: k, user: u}}], users: [{name: u, user: {token: t}}]}\n`,
    );
    expect(readKubeconfig(file)).toMatchObject({ server: 'https://h:1', token: 't' });
  });

  it('merges into an existing kubeconfig without clobbering other entries', () => {
    writeFileSync(file, OTHER);
    writeKubeconfig(file, { name: 'demo', server: 'https://127.0.0.1:6443', caPem: CA, token: 'tok' });
    expect(kubectl('config', 'current-context').trim()).toBe('prod');
    expect(kubectl('config', 'get-contexts', '-o', 'name').trim().split('\n').sort()).toEqual([
      'kubemu-demo',
      'prod',
    ]);
    const config = parse(readFileSync(file, 'utf8'));
    expect(config.users.map((u: { name: string }) => u.name)).toEqual(['prod-admin', 'kubemu-demo']);
    expect(config.contexts[0].context.namespace).toBe('shop');

    // writing again replaces our entries in place and can switch the current context
    writeKubeconfig(file, {
      name: 'demo',
      server: 'https://127.0.0.1:7443',
      caPem: CA,
      token: 'tok2',
      setCurrent: true,
    });
    const again = parse(readFileSync(file, 'utf8'));
    expect(again.clusters).toHaveLength(2);
    expect(again.users).toHaveLength(2);
    expect(again['current-context']).toBe('kubemu-demo');
    expect(readKubeconfig(file)).toEqual({
      server: 'https://127.0.0.1:7443',
      caPem: CA,
      token: 'tok2',
      insecureSkipTlsVerify: false,
      namespace: undefined,
    });
    expect(readKubeconfig(file, 'prod')).toMatchObject({
      server: 'https://prod.example:6443',
      caPem: 'prod-ca',
      token: 'prod-token',
      namespace: 'shop',
    });
  });

  it('refuses to overwrite a file that is not valid YAML', () => {
    writeFileSync(file, 'clusters: [unclosed\n');
    expect(() => writeKubeconfig(file, { name: 'demo', server: 'https://x', caPem: CA, token: 't' })).toThrow(
      /not valid YAML/,
    );
    expect(readFileSync(file, 'utf8')).toBe('clusters: [unclosed\n');
  });
});

describe('removeFromKubeconfig', () => {
  it('removes only our cluster, context and user, and unsets current-context pointing at it', () => {
    writeFileSync(file, OTHER);
    writeKubeconfig(file, {
      name: 'demo',
      server: 'https://127.0.0.1:6443',
      caPem: CA,
      token: 'tok',
      setCurrent: true,
    });
    removeFromKubeconfig(file, 'demo');
    const config = parse(readFileSync(file, 'utf8'));
    expect(config.clusters.map((c: { name: string }) => c.name)).toEqual(['prod']);
    expect(config.contexts.map((c: { name: string }) => c.name)).toEqual(['prod']);
    expect(config.users.map((u: { name: string }) => u.name)).toEqual(['prod-admin']);
    expect(config['current-context']).toBe('');
    expect(kubectl('config', 'get-contexts', '-o', 'name').trim()).toBe('prod');
  });

  it('leaves a missing file missing', () => {
    removeFromKubeconfig(file, 'demo');
    expect(() => statSync(file)).toThrow();
  });
});

describe('readKubeconfig', () => {
  it('follows certificate-authority and tokenFile paths relative to the kubeconfig', () => {
    writeFileSync(join(dir, 'ca.crt'), CA);
    writeFileSync(join(dir, 'token'), 'file-token\n');
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: 'https://127.0.0.1:6443', certificate-authority: ca.crt }
users:
- name: u
  user: { tokenFile: ${join(dir, 'token')} }
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`,
    );
    expect(readKubeconfig(file)).toMatchObject({
      server: 'https://127.0.0.1:6443',
      caPem: CA,
      token: 'file-token',
    });
    expect(() => readKubeconfig(file, 'nope')).toThrow(/context "nope" does not exist/);
  });
});
