// The admission chain as the registry runs it: mutating before validation, validating after, warnings passed on,
// a dry run that charges no quota, deletes of system namespaces refused, the system PriorityClasses at startup.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from '../registry/registry.js';
import { rejection } from './testdata/memory-store.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'alice', groups: ['system:masters'] };

const call = (req: Partial<ApiRequest> & Pick<ApiRequest, 'verb' | 'resource'>) =>
  registry.handle({ group: '', version: 'v1', namespace: 'default', options: {}, user, ...req });
const body = async (req: Parameters<typeof call>[0]): Promise<KubeObject> =>
  (await call(req)).body as KubeObject;

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:' });
  registry = new Registry({ storage, admission: { serviceAccount: { defaultAttempts: 1 } } });
  await registry.init();
  await call({ verb: 'create', resource: 'serviceaccounts', body: { metadata: { name: 'default' } } });
});
afterEach(() => storage.close());

const demoPod = (name: string): KubeObject => ({
  metadata: { name },
  spec: {
    containers: [
      {
        name: 'c',
        image: 'nginx',
        resources: { requests: { memory: '600Mi' }, limits: { memory: '600Mi' } },
      },
    ],
  },
});

describe('admission in the registry', () => {
  it('charges quota on create, not on a dry run, and refuses past the limit', async () => {
    await call({
      verb: 'create',
      resource: 'resourcequotas',
      body: { metadata: { name: 'q' }, spec: { hard: { 'requests.memory': '1Gi' } } },
    });
    // what the resourcequota controller does
    await call({
      verb: 'update',
      resource: 'resourcequotas',
      subresource: 'status',
      name: 'q',
      body: {
        metadata: { name: 'q' },
        spec: { hard: { 'requests.memory': '1Gi' } },
        status: { hard: { 'requests.memory': '1Gi' }, used: { 'requests.memory': '0' } },
      },
    });
    const used = async (): Promise<unknown> =>
      ((await body({ verb: 'get', resource: 'resourcequotas', name: 'q' }))['status'] as { used: unknown })
        .used;
    await call({ verb: 'create', resource: 'pods', body: demoPod('dry'), options: { dryRun: true } });
    expect(await used()).toEqual({ 'requests.memory': '0' });
    const created = await body({ verb: 'create', resource: 'pods', body: demoPod('a') });
    expect(created['spec']).toMatchObject({ serviceAccountName: 'default', priority: 0 });
    expect(created['status']).toMatchObject({ qosClass: 'Burstable' });
    expect(await used()).toEqual({ 'requests.memory': '600Mi' });
    const e = await rejection(call({ verb: 'create', resource: 'pods', body: demoPod('b') }));
    expect(e.message).toBe(
      'pods "b" is forbidden: exceeded quota: q, requested: requests.memory=600Mi, used: requests.memory=600Mi, limited: requests.memory=1Gi',
    );
    await rejection(call({ verb: 'get', resource: 'pods', name: 'b' }));
  });

  it('LimitRanger defaults come before the QoS class is computed', async () => {
    await call({
      verb: 'create',
      resource: 'limitranges',
      body: {
        metadata: { name: 'lr' },
        spec: { limits: [{ type: 'Container', max: { cpu: '1', memory: '1Gi' } }] },
      },
    });
    const p = await body({
      verb: 'create',
      resource: 'pods',
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    });
    expect(p['spec']).toMatchObject({
      containers: [
        { resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } } },
      ],
    });
    expect(p['status']).toMatchObject({ qosClass: 'Guaranteed' });
  });

  it('passes PodSecurity warnings on to the client', async () => {
    await call({
      verb: 'patch',
      resource: 'namespaces',
      namespace: undefined,
      name: 'default',
      patchType: 'merge',
      body: { metadata: { labels: { 'pod-security.kubernetes.io/warn': 'baseline' } } },
    });
    const r = await call({
      verb: 'create',
      resource: 'pods',
      body: {
        metadata: { name: 'h' },
        spec: { hostNetwork: true, containers: [{ name: 'c', image: 'nginx' }] },
      },
    });
    expect(r.warnings).toEqual([
      'would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)',
    ]);
  });

  it('has the system PriorityClasses and refuses to delete the system namespaces', async () => {
    const pc = await body({
      verb: 'get',
      group: 'scheduling.k8s.io',
      resource: 'priorityclasses',
      namespace: undefined,
      name: 'system-node-critical',
    });
    expect([pc['value'], pc['preemptionPolicy']]).toEqual([2000001000, 'PreemptLowerPriority']);
    const e = await rejection(
      call({ verb: 'delete', resource: 'namespaces', namespace: undefined, name: 'default' }),
    );
    expect(e.message).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
  });
});
