// `kubemu migrate-storage`: a cluster's objects written with kubectl on SQLite, the apiserver stopped, the store
// copied into etcd by the CLI, and the apiserver started on etcd with the same state dir serves every object as it
// was (resourceVersions aside); a second copy into the same etcd is refused, and a running cluster is refused.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { startTestEtcd, type TestEtcd } from './helpers/etcd.js';
import { ensureCommands } from './helpers/tools.js';
import { kubectlBin } from './helpers/kubectl.js';

interface Run {
  stdout: string;
  stderr: string;
  code: number;
}
const run = (bin: string, args: string[]): Promise<Run> =>
  new Promise((resolve) =>
    execFile(bin, args, { timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    ),
  );
const cli = join(import.meta.dirname, '../dist/cli/main.js');

let etcd: TestEtcd;
let server: ApiServerProcess;

beforeAll(async () => {
  ensureCommands([
    ['kubectl', 'kubectl'],
    ['etcdctl', 'etcd-client'],
  ]);
  etcd = await startTestEtcd();
  server = await startApiServer();
}, 900_000);
afterAll(async () => {
  await server?.cleanup();
  await etcd?.cleanup();
});

/** every object of these kinds as kubectl shows it, without what a move may change */
async function snapshot(s: ApiServerProcess): Promise<Record<string, unknown>[]> {
  const r = await run(kubectlBin(), [
    '--kubeconfig',
    s.kubeconfig,
    'get',
    'namespaces,configmaps,secrets,deployments,services,serviceaccounts',
    '-A',
    '-o',
    'json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  const items = (JSON.parse(r.stdout) as { items: { metadata: Record<string, unknown> }[] }).items;
  return items.map((o) => {
    const { resourceVersion: _rv, managedFields: _mf, ...metadata } = o.metadata;
    return { ...o, metadata };
  });
}

describe('kubemu migrate-storage', () => {
  it('copies every object of a stopped SQLite cluster into etcd; the apiserver on etcd serves them all', async () => {
    const kubectl = (...args: string[]) => run(kubectlBin(), ['--kubeconfig', server.kubeconfig, ...args]);
    const manifest = join(server.stateDir, 'app.yaml');
    // the Deployment of the Kubernetes docs (concepts/workloads/controllers/deployment)
    writeFileSync(
      manifest,
      `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.14.2
        ports:
        - containerPort: 80
`,
    );
    // an Event, which the apiserver keeps for --event-ttl (1 h) after its last write
    const events = join(server.stateDir, 'event.yaml');
    writeFileSync(
      events,
      `apiVersion: v1
kind: Event
metadata:
  name: web.started
  namespace: shop
involvedObject:
  kind: Pod
  name: web
  namespace: shop
reason: Started
message: Started container web
type: Normal
`,
    );
    for (const args of [
      ['create', 'namespace', 'shop'],
      ['create', 'configmap', 'game', '-n', 'shop', '--from-literal=lives=3'],
      ['create', 'secret', 'generic', 'db', '-n', 'shop', '--from-literal=password=s3cr3t'],
      ['create', 'service', 'clusterip', 'web', '-n', 'shop', '--tcp=80:8080'],
      ['apply', '-f', manifest],
      ['create', '-f', events],
    ]) {
      const r = await kubectl(...args);
      expect(r.code, r.stderr).toBe(0);
    }
    const before = await snapshot(server);
    expect(before.length).toBeGreaterThan(8);

    // a running cluster is refused: the copy would miss what is written after it
    writeFileSync(join(server.stateDir, 'cluster.json'), '{}');
    const running = await run(process.execPath, [
      cli,
      'migrate-storage',
      '--state-dir',
      server.stateDir,
      '--etcd-servers',
      etcd.endpoint,
    ]);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain('is running: stop it first');

    await server.kill();
    const { rmSync } = await import('node:fs');
    rmSync(join(server.stateDir, 'cluster.json'));
    const moved = await run(process.execPath, [
      cli,
      'migrate-storage',
      '--state-dir',
      server.stateDir,
      '--etcd-servers',
      etcd.endpoint,
    ]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(
      /^copied \d+ objects from .*state\.db to etcd at http:\/\/127\.0\.0\.1:\d+ \(revision \d+\); read back equal$/m,
    );

    // once is all: etcd now holds a cluster
    const again = await run(process.execPath, [
      cli,
      'migrate-storage',
      '--state-dir',
      server.stateDir,
      '--etcd-servers',
      etcd.endpoint,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds \d+ keys under "\/"/);

    // the Event keeps what was left of its TTL, on an etcd lease (etcdctl takes its int64 ID in hex)
    const etcdctl = (...args: string[]) => run('etcdctl', [`--endpoints=${etcd.endpoint}`, ...args]);
    const raw = (await etcdctl('get', '/registry/events/shop/web.started', '-w', 'json')).stdout;
    const lease = /"lease":(\d+)/.exec(raw)?.[1];
    expect(lease, raw).toBeDefined();
    const ttl = JSON.parse(
      (await etcdctl('lease', 'timetolive', BigInt(lease!).toString(16), '-w', 'json')).stdout,
    ) as { ttl: number };
    expect(ttl.ttl).toBeGreaterThan(3000);
    expect(ttl.ttl).toBeLessThanOrEqual(3660);
    // a ConfigMap has no lease
    expect((await etcdctl('get', '/registry/configmaps/shop/game', '-w', 'json')).stdout).not.toMatch(
      /"lease"/,
    );

    const onEtcd = await startApiServer({
      stateDir: server.stateDir,
      extraArgs: ['--storage', 'etcd', '--etcd-servers', etcd.endpoint],
    });
    try {
      const after = await snapshot(onEtcd);
      expect(after).toEqual(before);
      const pw = await run(kubectlBin(), [
        '--kubeconfig',
        onEtcd.kubeconfig,
        'get',
        'secret',
        'db',
        '-n',
        'shop',
        '-o',
        'jsonpath={.data.password}',
      ]);
      expect(Buffer.from(pw.stdout, 'base64').toString()).toBe('s3cr3t');
    } finally {
      await onEtcd.kill();
    }
  });
});
