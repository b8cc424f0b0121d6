// The apiserver on etcd (`--storage etcd --etcd-servers URL`), driven by the real kubectl, curl and etcdctl: objects
// live under /registry/... with etcd's mod revision as resourceVersion, watches resume after a dropped connection
// without missing an event, and once etcd's history is compacted a watch or a continued list from before it is 410.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

function run(bin: string, args: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      { timeout: 30_000, env: { ...process.env, ...env } },
      (err, stdout, stderr) =>
        resolve({ stdout, stderr, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
    if (input !== undefined) child.stdin!.end(input);
  });
}

let etcd: TestEtcd;
let a: ApiServerProcess;
let b: ApiServerProcess | undefined;
let dir: string;
const children: ChildProcess[] = [];

const kubectl = (server: ApiServerProcess, ...args: string[]): Promise<Run> =>
  run(kubectlBin(), ['--kubeconfig', server.kubeconfig, ...args]);
const etcdctl = (...args: string[]): Promise<Run> =>
  run('etcdctl', [`--endpoints=${etcd.endpoint}`, ...args], { ETCDCTL_API: '3' });

async function ok(p: Promise<Run>): Promise<string> {
  const r = await p;
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

/** `curl -N` on a watch URL: its events as they arrive, and the process to kill */
function curlWatch(server: ApiServerProcess, path: string) {
  const events: {
    type: string;
    object: { metadata: { name?: string; resourceVersion: string } } & Record<string, unknown>;
  }[] = [];
  let raw = '';
  const child = spawn(
    'curl',
    [
      '-sSN',
      '--cacert',
      join(server.stateDir, 'pki/ca.crt'),
      '-H',
      `Authorization: Bearer ${server.token}`,
      `${server.url}${path}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  child.stdout.on('data', (c: Buffer) => {
    raw += c.toString();
    let nl: number;
    while ((nl = raw.indexOf('\n')) >= 0) {
      const line = raw.slice(0, nl).trim();
      raw = raw.slice(nl + 1);
      if (line) events.push(JSON.parse(line) as (typeof events)[number]);
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { events, child, exited, rest: () => raw };
}

beforeAll(async () => {
  ensureCommands([
    ['kubectl', 'kubectl'],
    ['curl', 'curl'],
  ]);
  etcd = await startTestEtcd();
  dir = mkdtempSync(join(tmpdir(), 'kubemu-apiserver-etcd-'));
  a = await startApiServer({ extraArgs: ['--storage', 'etcd', '--etcd-servers', etcd.endpoint] });
}, 900_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await b?.cleanup();
  await a?.cleanup();
  await etcd?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('apiserver --storage etcd', () => {
  it('refuses bad storage flags with what to fix', async () => {
    const noServers = await run(process.execPath, [
      join(import.meta.dirname, '../dist/cmd/apiserver.js'),
      '--state-dir',
      join(dir, 'bad'),
      '--storage',
      'etcd',
    ]);
    expect(noServers.code).toBe(2);
    expect(noServers.stderr).toContain('--storage etcd needs --etcd-servers (e.g. http://127.0.0.1:2379)');
    const badBackend = await run(process.execPath, [
      join(import.meta.dirname, '../dist/cmd/apiserver.js'),
      '--state-dir',
      join(dir, 'bad'),
      '--storage',
      'postgres',
    ]);
    expect(badBackend.code).toBe(2);
    expect(badBackend.stderr).toContain('--storage must be sqlite or etcd, not \\"postgres\\"');
  });

  it('kubectl create, get, list, update and delete: the object lives in etcd at its resourceVersion', async () => {
    await ok(kubectl(a, 'create', 'configmap', 'game', '--from-literal=lives=3'));
    const rv = await ok(kubectl(a, 'get', 'configmap', 'game', '-o', 'jsonpath={.metadata.resourceVersion}'));
    // what etcdctl sees: the key under /registry, its mod revision the object's resourceVersion
    const kv = JSON.parse(await ok(etcdctl('get', '/registry/configmaps/default/game', '-w', 'json'))) as {
      kvs: { key: string; mod_revision: number; value: string }[];
    };
    expect(kv.kvs).toHaveLength(1);
    expect(String(kv.kvs[0].mod_revision)).toBe(rv);
    expect(JSON.parse(Buffer.from(kv.kvs[0].value, 'base64').toString())).toMatchObject({
      data: { lives: '3' },
    });

    expect(await ok(kubectl(a, 'get', 'configmaps'))).toMatch(/^game\s+1\s+/m);
    const asRead = await ok(kubectl(a, 'get', 'configmap', 'game', '-o', 'json'));
    await ok(kubectl(a, 'label', 'configmap', 'game', 'level=2'));
    const rv2 = await ok(
      kubectl(a, 'get', 'configmap', 'game', '-o', 'jsonpath={.metadata.resourceVersion}'),
    );
    expect(Number(rv2)).toBeGreaterThan(Number(rv));
    expect(await ok(etcdctl('get', '/registry/configmaps/default/game', '--print-value-only'))).toContain(
      '"level":"2"',
    );
    // a replace of the object as read before the label: upstream's conflict on etcd's mod revision
    const stale = await run(kubectlBin(), ['--kubeconfig', a.kubeconfig, 'replace', '-f', '-'], {}, asRead);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain(
      'Operation cannot be fulfilled on configmaps "game": the object has been modified; please apply your changes to the latest version and try again',
    );

    await ok(kubectl(a, 'delete', 'configmap', 'game'));
    const gone = await kubectl(a, 'get', 'configmap', 'game');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('Error from server (NotFound): configmaps "game" not found');
    expect((await ok(etcdctl('get', '/registry/configmaps/default/game'))).trim()).toBe('');
  });

  it('kubectl get --watch sees creates, updates and deletes', async () => {
    const watch = spawn(
      kubectlBin(),
      [
        '--kubeconfig',
        a.kubeconfig,
        'get',
        'configmaps',
        '-l',
        'watched=yes',
        '--watch',
        '--output-watch-events',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(watch);
    let out = '';
    watch.stdout.on('data', (c: Buffer) => (out += c.toString()));
    try {
      await ok(kubectl(a, 'create', 'configmap', 'w1', '--from-literal=a=1'));
      await ok(kubectl(a, 'label', 'configmap', 'w1', 'watched=yes'));
      await ok(kubectl(a, 'annotate', 'configmap', 'w1', 'note=hello'));
      await ok(kubectl(a, 'delete', 'configmap', 'w1'));
      // kubectl's table with its EVENT column: the label makes w1 enter the selection, the delete leave it
      await expect
        .poll(
          () =>
            out
              .trim()
              .split('\n')
              .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
          { timeout: 10_000 },
        )
        .toEqual(['EVENT NAME', 'ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    } finally {
      watch.kill('SIGKILL');
    }
  });

  it('a watch resumed from its last resourceVersion after the connection dropped misses no event', async () => {
    const from = await ok(kubectl(a, 'get', 'configmaps', '-o', 'jsonpath={.metadata.resourceVersion}'));
    const expected: [string, string][] = [];
    const first = curlWatch(a, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${from}`);
    for (let i = 0; i < 3; i++) {
      await ok(kubectl(a, 'create', 'configmap', `r${i}`, `--from-literal=i=${i}`));
      expected.push(['ADDED', `r${i}`]);
    }
    await expect.poll(() => first.events.length, { timeout: 10_000 }).toBe(3);
    first.child.kill('SIGKILL'); // the connection drops
    await first.exited;
    const last = first.events.at(-1)!.object.metadata.resourceVersion;
    // changes while no one watches
    await ok(kubectl(a, 'label', 'configmap', 'r0', 'x=1'));
    await ok(kubectl(a, 'delete', 'configmap', 'r1'));
    await ok(kubectl(a, 'create', 'configmap', 'r3', '--from-literal=i=3'));
    expected.push(['MODIFIED', 'r0'], ['DELETED', 'r1'], ['ADDED', 'r3']);
    const resumed = curlWatch(a, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${last}`);
    await ok(kubectl(a, 'create', 'configmap', 'r4', '--from-literal=i=4'));
    expected.push(['ADDED', 'r4']);
    await expect.poll(() => resumed.events.length, { timeout: 10_000 }).toBe(4);
    resumed.child.kill('SIGKILL');
    const all = [...first.events, ...resumed.events];
    expect(all.map((e) => [e.type, e.object.metadata.name])).toEqual(expected);
    const rvs = all.map((e) => Number(e.object.metadata.resourceVersion));
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    expect(new Set(rvs).size).toBe(rvs.length);
  });

  it('a second apiserver on the same etcd serves the same objects; after its compactor ran, old resourceVersions are 410', async () => {
    b = await startApiServer({
      extraArgs: ['--storage', 'etcd', '--etcd-servers', etcd.endpoint, '--etcd-compaction-interval', '1s'],
    });
    for (const n of ['c1', 'c2', 'c3']) await ok(kubectl(a, 'create', 'configmap', n, '--from-literal=x=1'));
    expect(await ok(kubectl(b, 'get', 'configmaps', '-o', 'name'))).toMatch(
      /configmap\/c1\nconfigmap\/c2\nconfigmap\/c3/,
    );
    // a paginated list's first page, and a resourceVersion to watch from, before the compaction
    const page = JSON.parse(
      await ok(kubectl(a, 'get', '--raw', '/api/v1/namespaces/default/configmaps?limit=2')),
    ) as {
      metadata: { resourceVersion: string; continue: string };
    };
    const old = page.metadata.resourceVersion;
    await ok(kubectl(a, 'create', 'configmap', 'c4', '--from-literal=x=1'));
    // b's compactor: a tick records the revision, the next compacts at it (and tells every apiserver)
    await expect
      .poll(async () => (await etcdctl('get', 'compact_rev_key', '--print-value-only')).stdout.trim(), {
        timeout: 20_000,
        interval: 250,
      })
      .toMatch(new RegExp(`^(\\d+)$`));
    await expect
      .poll(
        async () => {
          const w = curlWatch(
            a,
            `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}&timeoutSeconds=1`,
          );
          await w.exited;
          return `${w.events.map((e) => JSON.stringify(e)).join('')}${w.rest()}`;
        },
        { timeout: 20_000, interval: 500 },
      )
      .toMatch(/too old resource version/);
    const watchGone = curlWatch(a, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${old}`);
    await watchGone.exited;
    const body = `${watchGone.events.map((e) => JSON.stringify(e)).join('')}${watchGone.rest()}`;
    expect(body).toMatch(/"code":410/);
    expect(body).toMatch(/"reason":"Expired"/);
    // the continued list from before the compaction: upstream's 410 Expired
    const cont = await kubectl(
      a,
      'get',
      '--raw',
      `/api/v1/namespaces/default/configmaps?limit=2&continue=${page.metadata.continue}`,
    );
    expect(cont.code).toBe(1);
    expect(cont.stderr).toContain(
      'The provided continue parameter is too old to display a consistent list result',
    );
    // a fresh list and watch work
    expect(await ok(kubectl(b, 'get', 'configmaps', '-o', 'name'))).toContain('configmap/c4');
  });
});
