// Issue #21, "Secrets at rest": the Kubernetes docs' "Encrypting Confidential Data at Rest", step by step, on one
// cluster — the docs' EncryptionConfiguration with a key from `head -c 32 /dev/urandom | base64`, given to
// `kubemu up --encryption-provider-config`; `kubectl create secret generic secret1`; the raw row in the state
// database (as the docs read etcd with etcdctl) starts with `k8s:enc:aescbc:v1:key1:` and holds no plaintext; kubectl
// still reads the secret; then key rotation (a new key first, restart the apiserver, `kubectl get secrets -A -o json |
// kubectl replace -f -`, the old key removed) and a bad configuration refused, naming the field.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const DIST = join(import.meta.dirname, '..', '..', 'dist');

let c: TestCluster;
let dir: string;
let configFile: string;

/** the docs' way to make a key */
const newKey = (): string => execFileSync('sh', ['-c', 'head -c 32 /dev/urandom | base64']).toString().trim();
const key1 = newKey();
const key2 = newKey();

/** the docs' example configuration, with the keys given (the first one encrypts) */
const config = (keys: [name: string, secret: string][]): string => `---
#
# CAUTION: this is an example configuration.
#          Do not use this for your own cluster!
#
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
${keys.map(([name, secret]) => `            - name: ${name}\n              # See the following text for more details about the secret value\n              secret: ${secret}`).join('\n')}
      - identity: {} # this fallback allows reading unencrypted secrets;
                     # for example, during initial migration
`;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};

/** what `etcdctl get /registry/secrets/...` shows in the docs: the stored bytes, read from the database read-only */
function storedSecrets(): Map<string, Buffer> {
  const db = new Database(join(c.stateDir, 'state.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT key, value FROM kv WHERE key LIKE '/registry/secrets/%'").all() as {
      key: string;
      value: string | Buffer;
    }[];
    return new Map(rows.map((r) => [r.key, Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value)]));
  } finally {
    db.close();
  }
}

/** the docs' "restart the API server": SIGKILL it, its supervisor starts it again, reading the file again */
async function restartApiServer(): Promise<void> {
  const before = (await c.status()).processes.find((p) => p.name === 'apiserver')?.pid;
  must(
    await c.kubemu(['chaos', 'kill', 'apiserver', '--name', c.name, '--state-dir', c.stateDir]),
    'chaos kill',
  );
  await c
    .waitFor(
      'the apiserver to serve again',
      async () => {
        const pid = (await c.status()).processes.find((p) => p.name === 'apiserver')?.pid;
        if (!pid || pid === before) return false;
        const r = await c.kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5_000 });
        return r.code === 0 && r.stdout.trim() === 'ok';
      },
      60_000,
    )
    .catch((err: Error) => {
      const log = readFileSync(join(c.stateDir, 'logs', 'apiserver.log'), 'utf8')
        .split('\n')
        .slice(-5)
        .join('\n');
      throw new Error(`${err.message}\napiserver log:\n${log}`, { cause: err });
    });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kubemu-encryption-'));
  configFile = join(dir, 'enc.yaml');
  writeFileSync(configFile, config([['key1', key1]]));
  c = await upCluster({ nodes: 1, extraArgs: ['--encryption-provider-config', configFile] });
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('Encrypting Confidential Data at Rest (the docs, with kubectl)', () => {
  it('stores a new Secret as k8s:enc:aescbc:v1:key1: + ciphertext, and kubectl reads it decrypted', async () => {
    must(
      await c.kubectl([
        'create',
        'secret',
        'generic',
        'secret1',
        '-n',
        'default',
        '--from-literal=mykey=mydata',
      ]),
      'create secret',
    );
    const raw = storedSecrets().get('/registry/secrets/default/secret1');
    expect(raw, 'the secret has a row').toBeDefined();
    expect(raw!.subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
    for (const plain of ['mydata', 'bXlkYXRh', 'mykey', 'secret1', '"kind"'])
      expect(raw!.includes(plain), `the row shows ${plain}`).toBe(false);
    const yaml = must(
      await c.kubectl(['get', 'secret', 'secret1', '-n', 'default', '-o', 'yaml']),
      'get secret',
    );
    expect(yaml).toContain('mykey: bXlkYXRh');
    // a ConfigMap is in the docs' list too; a Pod-free resource not in it (a Service account) stays plaintext
    must(
      await c.kubectl(['create', 'configmap', 'cm1', '--from-literal=k=visible-value']),
      'create configmap',
    );
    const db = new Database(join(c.stateDir, 'state.db'), { readonly: true });
    try {
      const cm = db.prepare('SELECT value FROM kv WHERE key = ?').get('/registry/configmaps/default/cm1') as {
        value: Buffer | string;
      };
      expect(Buffer.from(cm.value).subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
      const sa = db
        .prepare('SELECT value FROM kv WHERE key = ?')
        .get('/registry/serviceaccounts/default/default') as {
        value: Buffer | string;
      };
      expect(typeof sa.value).toBe('string');
    } finally {
      db.close();
    }
  });

  it('rotates: key2 first, restart, replace every Secret — the rows carry key2; then key1 removed, all still read', async () => {
    writeFileSync(
      configFile,
      config([
        ['key2', key2],
        ['key1', key1],
      ]),
    );
    await restartApiServer();
    // still readable with key1, before anything is rewritten
    expect(
      must(await c.kubectl(['get', 'secret', 'secret1', '-n', 'default', '-o', 'yaml']), 'get'),
    ).toContain('mykey: bXlkYXRh');
    expect(storedSecrets().get('/registry/secrets/default/secret1')!.subarray(0, 23).toString()).toBe(
      'k8s:enc:aescbc:v1:key1:',
    );
    // the docs' command, through a shell pipe as a user types it
    const replaced = await run(
      'sh',
      ['-c', 'kubectl get secrets --all-namespaces -o json | kubectl replace -f -'],
      { ...process.env, KUBECONFIG: c.kubeconfig },
      { timeoutMs: 60_000 },
    );
    must(replaced, 'kubectl get secrets --all-namespaces -o json | kubectl replace -f -');
    expect(replaced.stdout).toContain('secret/secret1 replaced');
    const rows = storedSecrets();
    expect(rows.size).toBeGreaterThan(0);
    for (const [key, value] of rows)
      expect(value.subarray(0, 23).toString(), `${key} is encrypted with key2`).toBe(
        'k8s:enc:aescbc:v1:key2:',
      );

    // the configuration lists configmaps too: they are rewritten as well before key1 goes ("all relevant data")
    must(
      await run(
        'sh',
        ['-c', 'kubectl get configmaps --all-namespaces -o json | kubectl replace -f -'],
        { ...process.env, KUBECONFIG: c.kubeconfig },
        { timeoutMs: 60_000 },
      ),
      'replace configmaps',
    );
    writeFileSync(configFile, config([['key2', key2]]));
    await restartApiServer();
    const data = await c.getJson<{ data: Record<string, string> }>([
      'get',
      'secret',
      'secret1',
      '-n',
      'default',
    ]);
    expect(Buffer.from(data.data['mykey'], 'base64').toString()).toBe('mydata');
  });

  it('refuses a bad configuration, naming the field: kubemu up and the apiserver itself exit non-zero', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, config([['key1', Buffer.from('too short').toString('base64')]]));
    const up = await c.kubemu([
      'up',
      '--name',
      `${c.name}x`,
      '--state-dir',
      join(dir, 'never'),
      '--encryption-provider-config',
      bad,
    ]);
    expect(up.code).toBe(2);
    expect(up.stderr).toContain(
      'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 9, expected one of [16 24 32]',
    );
    const stateDir = join(dir, 'apiserver-state');
    const apiserver = await run(
      process.execPath,
      [
        join(DIST, 'cmd/apiserver.js'),
        '--state-dir',
        stateDir,
        '--port',
        '0',
        '--encryption-provider-config',
        bad,
      ],
      process.env,
      { timeoutMs: 30_000 },
    );
    expect(apiserver.code).not.toBe(0);
    expect(`${apiserver.stdout}${apiserver.stderr}`).toContain(
      'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \\"REDACTED\\": secret is not of the expected length',
    );
  });
});
