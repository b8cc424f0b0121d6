// kube-proxy's nftables partial syncs against the real kernel, through the long-running `nft -i` session: a change
// to one Service rewrites only that Service's chains; a transaction the kernel refuses is followed by a full
// resync; and a series of partial syncs leaves exactly the table one full sync of the same state writes. Each
// proxier programs a network namespace this test makes (`ip netns add`); nothing touches the host's namespace.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KubeClient } from '../src/client/index.js';
import { NftProxier } from '../src/proxy/nftables/nft-proxier.js';
import { NftRunner } from '../src/proxy/nftables/nft-host.js';
import { nftMetrics } from '../src/proxy/nftables/metrics.js';
import { fakeCluster } from '../src/testing/fake-cluster.js';
import { NetnsLab } from './helpers/netns-lab.js';
import { ensureCommands } from './helpers/tools.js';
import { waitFor } from './helpers/wait.js';

const lab = new NetnsLab(`j19perf-${process.pid}`);
const NS = 'default';

/** a runner that programs the lab namespace `short` and keeps every script it was given */
class LabRunner extends NftRunner {
  readonly scripts: { script: string; ok: boolean }[] = [];

  constructor(short: string) {
    super({ command: ['ip', 'netns', 'exec', lab.ns(short), 'nft'] });
  }

  override async apply(script: string): Promise<void> {
    try {
      await super.apply(script);
      if (script) this.scripts.push({ script, ok: true });
    } catch (err) {
      this.scripts.push({ script, ok: false });
      throw err;
    }
  }
}

interface NftJson {
  nftables: Record<string, Record<string, unknown>>[];
}

function listTable(short: string, handles = false): NftJson {
  const args = ['-j', ...(handles ? ['-a'] : []), 'list', 'table', 'ip', 'kube-proxy'];
  return JSON.parse(lab.exec(short, 'nft', args)) as NftJson;
}

/** chain name → its rules' handles */
function ruleHandles(short: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const o of listTable(short, true).nftables) {
    const r = o.rule as { chain: string; handle: number } | undefined;
    if (r) out.set(r.chain, [...(out.get(r.chain) ?? []), r.handle]);
  }
  return out;
}

/** the table without handles or kernel order: chains with their rules, sets with sorted elements */
function canonicalTable(short: string): Record<string, unknown> {
  const chains: Record<string, unknown[]> = {};
  const sets: Record<string, unknown> = {};
  for (const o of listTable(short).nftables) {
    if (o.chain) {
      const c = o.chain as { name: string; handle?: number };
      const { handle: _h, ...rest } = c;
      chains[`chain ${c.name}`] = [rest];
    }
    if (o.rule) {
      const { handle: _h, ...rule } = o.rule as { chain: string; handle?: number };
      chains[`chain ${rule.chain}`]?.push(rule);
    }
    for (const kind of ['set', 'map']) {
      const s = o[kind] as { name: string; handle?: number; elem?: unknown[] } | undefined;
      if (!s) continue;
      const { handle: _h, elem, ...rest } = s;
      sets[`${kind} ${s.name}`] = { ...rest, elem: (elem ?? []).map((e) => JSON.stringify(e)).sort() };
    }
  }
  return { ...chains, ...sets };
}

const svc = (name: string, clusterIP: string, spec: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name, namespace: NS },
  spec: { clusterIP, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
});

const slice = (service: string, ips: string[], ready = true): EndpointSlice => ({
  metadata: { name: `${service}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({
    addresses: [ip],
    nodeName: ip.endsWith('.9') ? 'node-2' : 'node-1',
    conditions: { ready, serving: ready, terminating: false },
  })),
});

async function putSlice(client: KubeClient, s: EndpointSlice): Promise<void> {
  const cur = await client.endpointSlices.get(s.metadata!.name!, NS).catch(() => undefined);
  if (!cur) await client.endpointSlices.create(s, { namespace: NS });
  else
    await client.endpointSlices.update(
      { ...s, metadata: { ...s.metadata, resourceVersion: cur.metadata!.resourceVersion! } },
      { namespace: NS },
    );
}

async function putService(client: KubeClient, s: Service): Promise<void> {
  const cur = await client.services.get(s.metadata!.name!, NS).catch(() => undefined);
  if (!cur) await client.services.create(s, { namespace: NS });
  else
    await client.services.update(
      { ...cur, spec: { ...cur.spec, ...s.spec }, metadata: { ...cur.metadata } },
      { namespace: NS },
    );
}

function proxier(client: KubeClient, runner: NftRunner): NftProxier {
  return new NftProxier({
    client,
    nodeName: 'node-1',
    nodeIPs: ['172.31.40.1'],
    clusterCIDRs: ['10.244.0.0/16'],
    serviceCIDRs: ['10.96.0.0/12'],
    minSyncPeriodMs: 0,
    syncPeriodMs: 300,
    runner,
  });
}

/** resolves once the proxier has committed a sync after this call */
async function nextSync(p: NftProxier, what: string): Promise<void> {
  const before = p.syncs;
  await waitFor(what, () => Promise.resolve(p.syncs > before), 10_000, 20);
}

const started: NftProxier[] = [];

beforeAll(() => {
  ensureCommands([
    ['nft', 'nftables'],
    ['ip', 'iproute2'],
  ]);
  for (const short of ['t1', 't2', 't2full', 't3', 't3full']) lab.add(short);
});

afterEach(() => {
  for (const p of started.splice(0)) p.stop();
});

afterAll(async () => {
  await lab.cleanup();
});

describe('nftables partial syncs through one nft -i session, in the kernel', () => {
  it('a change to one Service rewrites only its own chains, through the session', async () => {
    const { client } = await fakeCluster({ serviceCidr: '10.96.0.0/12' });
    for (let i = 0; i < 3; i++) {
      await putService(client, svc(`web-${i}`, `10.96.0.${10 + i}`));
      await putSlice(client, slice(`web-${i}`, [`10.244.1.${10 + i}`, `10.244.2.${10 + i}`]));
    }
    const runner = new LabRunner('t1');
    const p = proxier(client, runner);
    started.push(p);
    await p.start();
    const before = ruleHandles('t1');
    const sessionBefore = runner.counts.session;

    await putSlice(client, slice('web-1', ['10.244.1.11', '10.244.3.11']));
    await waitFor('the new endpoint in the kernel', () =>
      Promise.resolve(
        lab.exec('t1', 'nft', ['list', 'table', 'ip', 'kube-proxy']).includes('10.244.3.11:8080'),
      ),
    );
    const after = ruleHandles('t1');
    const partial = runner.scripts[runner.scripts.length - 1].script;
    expect(partial).not.toContain('add table');
    expect(partial).not.toMatch(/web-[02]/);
    expect(runner.counts.session).toBeGreaterThan(sessionBefore);

    const web1 = [...before.keys()].filter((c) => c.includes('/web-1/'));
    const others = [...before.keys()].filter((c) => !c.includes('/web-1/'));
    expect(web1.length).toBeGreaterThan(0);
    // every other chain (the other Services' and the fixed ones) keeps its rules, handles and all
    for (const c of others) expect(after.get(c), c).toEqual(before.get(c));
    // web-1's cluster-policy chain was rewritten: new rules
    const policy = web1.find((c) => c.startsWith('service-'))!;
    expect(after.get(policy)).not.toEqual(before.get(policy));
  });

  it('after a transaction the kernel refuses, resyncs the whole table', async () => {
    const { client } = await fakeCluster({ serviceCidr: '10.96.0.0/12' });
    for (let i = 0; i < 3; i++) {
      await putService(client, svc(`api-${i}`, `10.96.1.${10 + i}`));
      await putSlice(client, slice(`api-${i}`, [`10.244.1.${20 + i}`]));
    }
    const runner = new LabRunner('t2');
    const p = proxier(client, runner);
    started.push(p);
    await p.start();
    // someone else removes api-2's element: the partial sync deleting api-2 fails on it
    lab.exec('t2', 'nft', [
      'delete',
      'element',
      'ip',
      'kube-proxy',
      'service-ips',
      '{ 10.96.1.12 . tcp . 80 }',
    ]);
    const failures = (await nftMetrics().syncFailures.get()).values[0]?.value ?? 0;
    const n = runner.scripts.length;
    await client.services.delete('api-2', { namespace: NS });
    await waitFor('a full resync after the failure', () =>
      Promise.resolve(
        runner.scripts.slice(n).some((s) => s.ok && s.script.includes('add table ip kube-proxy')),
      ),
    );
    const tried = runner.scripts.slice(n);
    expect(tried[0].ok).toBe(false);
    expect(tried[0].script).not.toContain('add table');
    expect((await nftMetrics().syncFailures.get()).values[0]?.value).toBe(failures + 1);
    const table = lab.exec('t2', 'nft', ['list', 'table', 'ip', 'kube-proxy']);
    expect(table).not.toContain('10.96.1.12');
    expect(table).toContain('10.96.1.11 . tcp . 80');
    // and the table is what a fresh full sync writes
    const fresh = proxier(client, new LabRunner('t2full'));
    started.push(fresh);
    await fresh.start();
    await waitFor('the same table as a full sync', () =>
      Promise.resolve(JSON.stringify(canonicalTable('t2')) === JSON.stringify(canonicalTable('t2full'))),
    );
  });

  it('a series of partial syncs leaves the table a full sync of the same state writes', async () => {
    const { client } = await fakeCluster({ serviceCidr: '10.96.0.0/12' });
    const runner = new LabRunner('t3');
    const p = proxier(client, runner);
    started.push(p);
    await putService(client, svc('keep', '10.96.2.1'));
    await putSlice(client, slice('keep', ['10.244.1.30', '10.244.2.30']));
    await p.start();
    const steps: [string, () => Promise<void>][] = [
      ['a Service', () => putService(client, svc('t3', '10.96.2.2'))],
      ['its endpoints', () => putSlice(client, slice('t3', ['10.244.1.31', '10.244.2.31', '10.244.3.9']))],
      ['one endpoint fewer', () => putSlice(client, slice('t3', ['10.244.1.31', '10.244.3.9']))],
      [
        'ClientIP affinity',
        () => putService(client, svc('t3', '10.96.2.2', { sessionAffinity: 'ClientIP' })),
      ],
      [
        'NodePort, eTP Local',
        () =>
          putService(
            client,
            svc('t3', '10.96.2.2', {
              type: 'NodePort',
              externalTrafficPolicy: 'Local',
              ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
            }),
          ),
      ],
      ['externalIPs', () => putService(client, svc('keep', '10.96.2.1', { externalIPs: ['172.31.41.5'] }))],
      ['no ready endpoints', () => putSlice(client, slice('keep', ['10.244.1.30'], false))],
      ['a Service to delete', () => putService(client, svc('gone', '10.96.2.3'))],
      ['its endpoints', () => putSlice(client, slice('gone', ['10.244.1.32']))],
      ['deleted', () => client.services.delete('gone', { namespace: NS }).then(() => undefined)],
      ['affinity off', () => putService(client, svc('t3', '10.96.2.2', { sessionAffinity: 'None' }))],
    ];
    for (const [what, step] of steps) {
      const synced = nextSync(p, `the sync after: ${what}`);
      await step();
      await synced;
    }
    const partials = runner.scripts.slice(1);
    expect(partials.length).toBeGreaterThanOrEqual(steps.length);
    expect(partials.every((s) => s.ok && !s.script.includes('add table'))).toBe(true);

    const fresh = proxier(client, new LabRunner('t3full'));
    started.push(fresh);
    await fresh.start();
    // stale chains are deleted a second after they were flushed: then both tables are the same
    await waitFor(
      'the same table as a full sync',
      () =>
        Promise.resolve(JSON.stringify(canonicalTable('t3')) === JSON.stringify(canonicalTable('t3full'))),
      10_000,
    ).catch((err: unknown) => {
      expect(canonicalTable('t3')).toEqual(canonicalTable('t3full'));
      throw err;
    });
  });
});
