// #24 Show 1: `kubemu up --storage etcd --control-plane 3` (3 etcd members, 3 apiservers behind the balancer, a
// controller-manager and scheduler per member) under a constant write load from several clients and a rolling update:
// SIGKILL the etcd leader, then an apiserver, then the active controller-manager. Every acknowledged write is read back,
// kubectl keeps answering (the longest gap is printed), the rollout completes, and a watch that resumes from its last
// resourceVersion sees every acknowledged write of every object in order. With 2 of 3 etcd members frozen a write ends
// with a Status (no hang), and writes work again once one member is back. Alone, in a network namespace of its own:
//   unshare --net sh -c 'ip link set lo up && npx vitest run --project chaos test/chaos/etcd-ha.test.ts'
import { Agent, request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ControlPlaneStatus } from '../../src/cli/cluster/control-plane-status.js';
import { adminTarget } from '../../src/cli/cluster/status.js';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import {
  buildView,
  createState,
  replaceAll,
  WATCH_STREAM_PATH,
  type ControlPlaneView,
  type StreamLine,
} from '../../src/dashboard/model.js';

let c: TestCluster;
let api: { url: string; ca: string; token: string };
const NS = 'load';

interface Reply {
  status: number;
  body: { kind?: string; message?: string; metadata?: { resourceVersion?: string } } & Record<
    string,
    unknown
  >;
}

/** one HTTP client of its own (keep-alive connection through the balancer); rejects on network errors and timeouts */
function client(timeoutMs = 20_000) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method: string, path: string, body?: unknown): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = request(
        `${api.url}${path}`,
        {
          method,
          agent,
          ca: api.ca,
          timeout: timeoutMs,
          headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Reply['body'] });
            } catch {
              resolve({ status: res.statusCode ?? 0, body: { message: text } });
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  return { call, close: () => agent.destroy() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** every acknowledged write: object → its acknowledged resourceVersions and the last acknowledged value */
const acked = new Map<string, { rvs: string[]; n: number }>();
let stopLoad = false;
const failures: string[] = [];

async function writer(id: number): Promise<void> {
  const { call, close } = client();
  for (let i = 0; !stopLoad; i++) {
    const name = `w${id}-${i}`;
    try {
      const made = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, {
        metadata: { name },
        data: { n: '0' },
      });
      if (made.status !== 201) {
        failures.push(`create ${name}: ${made.status} ${made.body.message}`);
        await sleep(200);
        continue;
      }
      const entry = { rvs: [made.body.metadata!.resourceVersion!], n: 0 };
      acked.set(name, entry);
      for (let n = 1; n <= 2 && !stopLoad; n++) {
        const updated = await call('PUT', `/api/v1/namespaces/${NS}/configmaps/${name}`, {
          metadata: { name, resourceVersion: entry.rvs.at(-1) },
          data: { n: String(n) },
        });
        if (updated.status !== 200) {
          failures.push(`update ${name}: ${updated.status} ${updated.body.message}`);
          break;
        }
        entry.rvs.push(updated.body.metadata!.resourceVersion!);
        entry.n = n;
      }
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
      await sleep(200);
    }
  }
  close();
}

/** A watch on the namespace's ConfigMaps that resumes from the last resourceVersion it saw, as a reflector does. */
function resumingWatch(fromRv: string) {
  const seen = new Map<string, string[]>();
  const gone: string[] = [];
  let rv = fromRv;
  let stopped = false;
  let current: ReturnType<typeof request> | undefined;
  let reconnects = 0;
  const once = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request(
        `${api.url}/api/v1/namespaces/${NS}/configmaps?watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
        { ca: api.ca, headers: { authorization: `Bearer ${api.token}` } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            gone.push(`watch from ${rv}: HTTP ${res.statusCode}`);
            resolve();
            return;
          }
          let buf = '';
          res.on('data', (d: Buffer) => {
            buf += d.toString();
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!line) continue;
              const ev = JSON.parse(line) as {
                type: string;
                object: { code?: number; metadata: { name?: string; resourceVersion: string } };
              };
              if (ev.type === 'ERROR') {
                gone.push(`watch from ${rv}: ${JSON.stringify(ev.object)}`);
                continue;
              }
              rv = ev.object.metadata.resourceVersion;
              if (ev.type === 'BOOKMARK') continue;
              const name = ev.object.metadata.name!;
              seen.set(name, [...(seen.get(name) ?? []), rv]);
            }
          });
          res.on('end', resolve);
          res.on('error', () => resolve());
        },
      );
      current = req;
      req.on('error', () => resolve());
      req.end();
    });
  const loop = (async () => {
    while (!stopped) {
      await once();
      if (!stopped) {
        reconnects++;
        await sleep(100);
      }
    }
  })();
  return {
    seen,
    gone,
    reconnects: () => reconnects,
    async stop() {
      stopped = true;
      current?.destroy();
      await loop;
    },
  };
}

const chaos = async (...args: string[]): Promise<string> => {
  const r = await c.kubemu(['chaos', ...args, '--name', c.name, '--state-dir', c.stateDir]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
};

async function planeStatus(): Promise<ControlPlaneStatus> {
  const s = await c.status();
  if (!s.controlPlane) throw new Error('kubemu status -o json shows no controlPlane');
  return s.controlPlane;
}

const deployment = (image: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: ${image}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
`;

describe('kubemu up --storage etcd --control-plane 3', () => {
  beforeAll(async () => {
    c = await upCluster({
      nodes: 2,
      extraArgs: ['--storage', 'etcd', '--control-plane', '3', '--timeout', '240'],
      upTimeoutMs: 300_000,
    });
    const url = (await c.status()).apiServer.url!;
    const target = adminTarget(c.stateDir, url)!;
    api = { url, ca: target.ca, token: target.token! };
  }, 320_000);

  afterAll(async () => {
    stopLoad = true;
    await c?.down();
  }, 120_000);

  describe('HA control plane on etcd', () => {
    it("kubectl lists the apiservers' identity Leases; the dashboard shows the etcd members, the apiservers and the leaders", async () => {
      // upstream's documented way to count a control plane's apiservers
      const hosts = await c.waitFor('an identity Lease of each apiserver', async () => {
        const r = await c.kubectl([
          ...['-n', 'kube-system', 'get', 'lease', '-l', 'apiserver.kubernetes.io/identity=kube-apiserver'],
          ...['-o', "jsonpath={range .items[*]}{.metadata.labels.kubernetes\\.io/hostname}{' '}{end}"],
        ]);
        const found = r.stdout.trim().split(' ').filter(Boolean).sort();
        return found.length === 3 ? found : undefined;
      });
      expect(hosts).toEqual(['control-plane-1', 'control-plane-2', 'control-plane-3']);

      // the page's own stream, read as the page reads it, through the balancer
      const view = await new Promise<ControlPlaneView>((resolve, reject) => {
        const state = createState();
        let leasesSynced = false;
        let etcdSeen = false;
        let buffered = '';
        const req = request(
          `${api.url}${WATCH_STREAM_PATH}`,
          { ca: api.ca, headers: { Authorization: `Bearer ${api.token}` }, timeout: 30_000 },
          (res) => {
            res.on('data', (chunk: Buffer) => {
              buffered += chunk.toString();
              const lines = buffered.split('\n');
              buffered = lines.pop()!;
              for (const text of lines) {
                const line = JSON.parse(text) as StreamLine;
                if (line.type === 'STATUS') {
                  state.etcd = line.members;
                  etcdSeen = true;
                } else if (line.type === 'SYNC' && line.kind === 'leases') {
                  replaceAll(state, 'leases', line.items);
                  leasesSynced = true;
                }
              }
              const cp = buildView(state).controlPlane;
              if (leasesSynced && etcdSeen && cp.leaders.every((l) => l.live) && cp.leaders.length === 2) {
                req.destroy();
                resolve(cp);
              }
            });
          },
        );
        req.on('timeout', () =>
          req.destroy(new Error('the dashboard stream showed no control plane in 30 s')),
        );
        req.on('error', reject);
        req.end();
      });
      console.log(`[etcd-ha] dashboard control plane: ${JSON.stringify(view)}`);
      expect(view.etcd).toHaveLength(3);
      expect(view.etcd.filter((m) => m.state === 'leader')).toHaveLength(1);
      expect(view.etcd.filter((m) => m.state === 'follower')).toHaveLength(2);
      expect(view.apiServers.map((a) => [a.host, a.live])).toEqual([
        ['control-plane-1', true],
        ['control-plane-2', true],
        ['control-plane-3', true],
      ]);
      expect(view.leaders.map((l) => l.lease)).toEqual(['kube-controller-manager', 'kube-scheduler']);
      for (const l of view.leaders) expect(l.holder).toMatch(/^control-plane-[123]$/);
      // the same leaders `kubemu status` names
      const plane = await planeStatus();
      for (const l of plane.leaders)
        expect(view.leaders.find((v) => v.lease === l.lease)?.holder).toBe(
          l.holderIdentity?.slice(0, l.holderIdentity.indexOf('_')),
        );
      expect(view.etcd.find((m) => m.state === 'leader')?.endpoint).toBe(
        plane.etcd.find((m) => m.state === 'leader')?.endpoint,
      );
    }, 120_000);

    it('kills the etcd leader, an apiserver and the active controller-manager: no acknowledged write lost, kubectl answers, the rollout completes, watches miss nothing', async () => {
      const status = await c.kubemu(['status', '--name', c.name, '--state-dir', c.stateDir]);
      expect(status.stdout).toMatch(/etcd-\d +http:\/\/127\.0\.0\.1:\d+ +leader/);
      expect(status.stdout).toMatch(/lease kube-controller-manager +controller-manager-\d/);
      expect((await c.kubectl(['create', 'namespace', NS])).code).toBe(0);
      expect((await c.kubectl(['apply', '-f', '-'], { input: deployment('kubemu/hello:v1') })).code).toBe(0);
      const v1 = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=180s'], {
        timeoutMs: 190_000,
      });
      expect(v1.code, v1.stderr).toBe(0);

      const start = await client().call('GET', `/api/v1/namespaces/${NS}/configmaps`);
      const watch = resumingWatch(start.body.metadata!.resourceVersion!);
      stopLoad = false;
      const writers = [1, 2, 3, 4].map(writer);
      // kubectl, one request after another: the longest time without an answer
      let lastAnswer = Date.now();
      let longestGap = 0;
      let kubectlRuns = 0;
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const r = await c.kubectl(['get', 'configmaps', '-n', NS, '-o', 'name', '--request-timeout=20s'], {
            timeoutMs: 30_000,
          });
          kubectlRuns++;
          if (r.code === 0) {
            longestGap = Math.max(longestGap, Date.now() - lastAnswer);
            lastAnswer = Date.now();
          }
          await sleep(200);
        }
      })();

      await sleep(3_000);
      const rollout = await c.kubectl(['set', 'image', 'deployment/web', 'app=kubemu/hello:v2']);
      expect(rollout.code, rollout.stderr).toBe(0);

      const leader = (await planeStatus()).etcd.find((m) => m.state === 'leader')?.name;
      expect(leader, 'an etcd member leads').toBeDefined();
      const killed = [await chaos('kill', leader!)];
      await sleep(5_000);
      killed.push(await chaos('kill', 'apiserver-2'));
      await sleep(5_000);
      const active = (await planeStatus()).leaders.find(
        (l) => l.lease === 'kube-controller-manager',
      )?.process;
      expect(active, 'a controller-manager holds the Lease').toMatch(/^controller-manager-\d$/);
      killed.push(await chaos('kill', active!));
      await sleep(5_000);

      const done = await c.kubectl(['rollout', 'status', 'deployment/web', '--timeout=240s'], {
        timeoutMs: 250_000,
      });
      stopLoad = true;
      await Promise.all(writers);
      polling = false;
      await poller;
      console.log(
        `[etcd-ha] killed: ${killed.join(' | ')}\n[etcd-ha] ${acked.size} objects acknowledged, ` +
          `${failures.length} writes failed (${failures.slice(0, 5).join('; ')}); kubectl ran ${kubectlRuns} times, ` +
          `longest gap between answers ${longestGap} ms; watch reconnects ${watch.reconnects()}`,
      );
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toMatch(/successfully rolled out/);
      expect(acked.size).toBeGreaterThan(0);

      // every acknowledged object read back, with its last acknowledged value (or a later one, never an older)
      const list = await client().call('GET', `/api/v1/namespaces/${NS}/configmaps`);
      const stored = new Map(
        (list.body['items'] as { metadata: { name: string }; data: { n: string } }[]).map((o) => [
          o.metadata.name,
          Number(o.data.n),
        ]),
      );
      const lost = [...acked].filter(([name, a]) => !(stored.get(name)! >= a.n));
      expect(lost.map(([name]) => name)).toEqual([]);

      // the resuming watch saw every acknowledged write, each object's in increasing resourceVersion
      const unseen = (): string[] =>
        [...acked].flatMap(([name, a]) =>
          a.rvs.filter((rv) => !watch.seen.get(name)?.includes(rv)).map((rv) => `${name}@${rv}`),
        );
      // the watch may trail the writes by a moment; what it has not seen after this wait is missed
      await c
        .waitFor(
          'the watch to see every acknowledged write',
          () => Promise.resolve(unseen().length === 0 || undefined),
          30_000,
        )
        .catch(() => undefined);
      await watch.stop();
      expect(watch.gone).toEqual([]);
      const missed = unseen();
      for (const [name, seen] of watch.seen) {
        const nums = seen.map(BigInt);
        if (nums.some((rv, i) => i > 0 && rv <= nums[i - 1]))
          missed.push(`${name} out of order: ${seen.join(',')}`);
      }
      expect(missed).toEqual([]);
    }, 900_000);

    it('with 2 of 3 etcd members frozen a write fails with a Status, and writes resume when one returns', async () => {
      const plane = await planeStatus();
      const [a, b] = plane.etcd.map((m) => m.name);
      // a stays frozen for 60 s, b for 20 s: writes must come back while a is still frozen
      let aBack = false;
      const pauseA = chaos('pause', a, '--for', '60s').then((out) => {
        aBack = true;
        return out;
      });
      const pauseB = chaos('pause', b, '--for', '20s');
      // the pauses start once each `kubemu chaos` has loaded: write only when both members have stopped answering
      await c.waitFor(`${a} and ${b} to stop answering`, async () => {
        const etcd = (await planeStatus()).etcd;
        return [a, b].every((n) => etcd.find((m) => m.name === n)?.state === 'not answering') || undefined;
      });
      // the apiservers say why where a user asks (first: the write below may take its whole deadline)
      const unready = await c.kubectl(['get', '--raw', '/readyz?verbose', '--request-timeout=15s']);
      console.log(`[etcd-ha] /readyz with 2 of 3 members frozen: exit ${unready.code}: ${unready.stderr}`);
      expect(unready.code).not.toBe(0);
      expect(unready.stderr).toContain('[-]etcd failed: reason withheld');
      expect(unready.stderr).toContain('readyz check failed');
      const { call, close } = client(60_000);
      const refused = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, {
        metadata: { name: 'during-outage' },
        data: { n: '0' },
      });
      console.log(
        `[etcd-ha] write with 2 of 3 members frozen: ${refused.status} ${JSON.stringify(refused.body)}`,
      );
      expect(refused.status).toBeGreaterThanOrEqual(500);
      expect(refused.body.kind).toBe('Status');
      expect(refused.body.message).toBeTruthy();
      await pauseB;
      let ok: Reply | undefined;
      for (let i = 0; !ok && !aBack; i++) {
        const r = await call('POST', `/api/v1/namespaces/${NS}/configmaps`, {
          metadata: { name: `after-outage-${i}` },
          data: { n: '0' },
        }).catch(() => undefined);
        if (r?.status === 201) ok = r;
        else await sleep(500);
      }
      close();
      expect(ok, `a write succeeded after ${b} returned and before ${a} did`).toBeDefined();
      const ready = await c.waitFor('/readyz to pass again with 2 of 3 members', async () => {
        const r = await c.kubectl(['get', '--raw', '/readyz/etcd', '--request-timeout=10s']);
        return r.code === 0 ? r.stdout : undefined;
      });
      expect(ready).toBe('ok');
      await pauseA;
    }, 300_000);
  });
});
