// Big, valid objects (issue #17 item 3): a 30,000-key ConfigMap of 1 MiB, YAML bodies of 2 MiB and lists of many
// megabytes are served whole and correctly, and the apiserver keeps serving other requests (lease renewals) while
// it works on them. Speed is measured by the `big-objects` bench suite, never asserted here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { run } from './helpers/cluster.js';
import { apiClient, type Api } from './helpers/http.js';
import { BIG_CONFIGMAP_KEYS, bigConfigMapYaml, bigKey, bigValue } from '../src/bench/big-configmap.js';
import { kubectlBin } from './helpers/kubectl.js';

const KEYS = BIG_CONFIGMAP_KEYS;

let server: ApiServerProcess;
let api: Api;
let dir: string;

beforeAll(async () => {
  server = await startApiServer();
  api = apiClient(server);
  dir = mkdtempSync(join(tmpdir(), 'kubemu-big-'));
});

afterAll(async () => {
  await server?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const key = bigKey;
const value = bigValue;
const configMapYaml = bigConfigMapYaml;

const kubectl = (...args: string[]) =>
  run(kubectlBin(), args, { ...process.env, KUBECONFIG: server.kubeconfig }, { timeoutMs: 120_000 });

describe('a 2 MiB YAML body', () => {
  const body = (opts: { repeat?: number } = {}): string =>
    configMapYaml(opts.repeat === undefined ? 'yaml-2mib' : 'yaml-dup', { ...opts, comment: 'x'.repeat(34) });

  it('of a valid 30,000-key ConfigMap is created and reads back whole', async () => {
    const yaml = body();
    expect(yaml.length).toBeGreaterThan(2 * 1024 * 1024);
    const r = await api('POST', '/api/v1/namespaces/default/configmaps', undefined, {
      raw: yaml,
      contentType: 'application/yaml',
    });
    expect(r.status).toBe(201);
    const got = await api('GET', '/api/v1/namespaces/default/configmaps/yaml-2mib');
    expect(Object.keys(got.body.data)).toHaveLength(KEYS);
    expect(got.body.data[key(29_999)]).toBe(value(29_999));
  }, 60_000);

  it('with one key repeated at its end is refused: 400 naming the key and its line, nothing stored', async () => {
    const r = await api('POST', '/api/v1/namespaces/default/configmaps', undefined, {
      raw: body({ repeat: 17 }),
      contentType: 'application/yaml',
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(r.body.message).toBe(
      `error converting YAML to JSON: yaml: unmarshal errors:\n  line ${7 + KEYS}: key "${key(17)}" already set in map`,
    );
    expect((await api('GET', '/api/v1/namespaces/default/configmaps/yaml-dup')).status).toBe(404);
  }, 60_000);
});

describe('kubectl apply --server-side of a 30,000-key ConfigMap', () => {
  it('creates it, owns every key, changes one key, and refuses another manager with a 409 naming the field', async () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, configMapYaml('big'));
    const created = await kubectl('apply', '--server-side', '-f', file);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('configmap/big serverside-applied');
    const first = (await api('GET', '/api/v1/namespaces/default/configmaps/big')).body;
    expect(Object.keys(first.data)).toHaveLength(KEYS);
    const owned = first.metadata.managedFields.find((m: { manager: string }) => m.manager === 'kubectl');
    expect(owned).toMatchObject({ operation: 'Apply', fieldsType: 'FieldsV1' });
    expect(Object.keys(owned.fieldsV1['f:data'])).toHaveLength(KEYS);

    writeFileSync(file, configMapYaml('big', { change: 7 }));
    const changed = await kubectl('apply', '--server-side', '-f', file);
    expect(changed.code).toBe(0);
    const second = (await api('GET', '/api/v1/namespaces/default/configmaps/big')).body;
    expect(second.data[key(7)]).toBe('changed');
    expect(second.data[key(8)]).toBe(value(8));
    expect(Number(second.metadata.resourceVersion)).toBeGreaterThan(Number(first.metadata.resourceVersion));

    writeFileSync(file, configMapYaml('big', { change: 9 }));
    const conflict = await kubectl('apply', '--server-side', '--field-manager=other', '-f', file);
    expect(conflict.code).not.toBe(0);
    // "other" sets key 7 back and key 9 anew, both owned by kubectl
    expect(conflict.stderr).toContain('Apply failed with 2 conflicts: conflicts with "kubectl":');
    expect(conflict.stderr).toContain(`- .data.${key(7)}`);
    expect(conflict.stderr).toContain(`- .data.${key(9)}`);
  }, 180_000);

  it('keeps serving lease renewals while it applies', async () => {
    // a node's heartbeat, as the kubelet renews it (PUT of its Lease), in a loop for as long as the apply runs
    const lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'big-node', namespace: 'kube-node-lease' },
      spec: { holderIdentity: 'big-node', leaseDurationSeconds: 40 },
    };
    const path = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    expect((await api('POST', path, lease)).status).toBe(201);
    const file = join(dir, 'renewal.yaml');
    writeFileSync(file, configMapYaml('renewal'));
    let applying = true;
    let renewedDuringApply = 0;
    const failures: string[] = [];
    const renewer = (async () => {
      while (applying) {
        try {
          const current = (await api('GET', `${path}/big-node`)).body;
          current.spec.renewTime = new Date().toISOString().replace('Z', '000Z');
          const r = await api('PUT', `${path}/big-node`, current);
          if (r.status !== 200) failures.push(`PUT answered ${r.status}: ${r.text}`);
          else if (applying) renewedDuringApply++;
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    })();
    const applied = await kubectl('apply', '--server-side', '-f', file);
    applying = false;
    await renewer;
    expect(applied.code).toBe(0);
    expect(failures).toEqual([]);
    // before the fix the apply held the event loop for its whole duration: no renewal got through
    expect(renewedDuringApply).toBeGreaterThanOrEqual(3);
  }, 180_000);
});

describe('a list of many megabytes', () => {
  it('is served whole, compact (kubectl) and pretty (curl), item by item', async () => {
    const big = 'x'.repeat(100_000);
    for (let i = 0; i < 8; i++) {
      const data = Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`k${k}`, `${i}${big}`]));
      const r = await api('POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: `fat-${i}`, labels: { fat: 'yes' } },
        data,
      });
      expect(r.status).toBe(201);
    }
    const out = await kubectl('get', 'configmaps', '-A', '-l', 'fat=yes', '-o', 'json');
    expect(out.code).toBe(0);
    const list = JSON.parse(out.stdout) as {
      items: { metadata: { name: string }; data: Record<string, string> }[];
    };
    expect(list.items.map((i) => i.metadata.name).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `fat-${i}`),
    );
    expect(list.items.every((i) => Object.values(i.data).every((v) => v.length === 100_001))).toBe(true);

    const pretty = await api('GET', '/api/v1/configmaps?labelSelector=fat%3Dyes&pretty=true');
    expect(pretty.status).toBe(200);
    expect(pretty.text).toBe(JSON.stringify(pretty.body, null, 2));
    expect(pretty.body).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' });
    expect(pretty.body.items).toHaveLength(8);
    expect(pretty.text.length).toBeGreaterThan(8_000_000);
  }, 120_000);
});
