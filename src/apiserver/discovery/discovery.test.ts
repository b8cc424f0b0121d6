import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RESOURCES, groupVersion } from '../../api/resources.js';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  legacyApiVersions,
  storageVersionHash,
  versionInfo,
  type APIResourceDiscovery,
} from './index.js';

describe('legacy discovery', () => {
  it('serves /api as APIVersions', () => {
    expect(legacyApiVersions('127.0.0.1:6443')).toEqual({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
    });
  });

  it('serves /apis in upstream group order with preferred versions', () => {
    const list = apiGroupList();
    expect(list.kind).toBe('APIGroupList');
    expect(list.apiVersion).toBe('v1');
    const names = list.groups.map((g) => g.name);
    expect(names).toEqual([
      'apiregistration.k8s.io',
      'apps',
      'events.k8s.io',
      'authentication.k8s.io',
      'authorization.k8s.io',
      'autoscaling',
      'batch',
      'certificates.k8s.io',
      'networking.k8s.io',
      'policy',
      'rbac.authorization.k8s.io',
      'storage.k8s.io',
      'admissionregistration.k8s.io',
      'apiextensions.k8s.io',
      'scheduling.k8s.io',
      'coordination.k8s.io',
      'node.k8s.io',
      'discovery.k8s.io',
      'flowcontrol.apiserver.k8s.io',
      'metrics.k8s.io',
    ]);
    const autoscaling = list.groups.find((g) => g.name === 'autoscaling')!;
    expect(autoscaling.versions).toEqual([
      { groupVersion: 'autoscaling/v2', version: 'v2' },
      { groupVersion: 'autoscaling/v1', version: 'v1' },
    ]);
    expect(autoscaling.preferredVersion).toEqual({ groupVersion: 'autoscaling/v2', version: 'v2' });
  });

  it('serves /apis/<group>, and nothing for unknown groups', () => {
    expect(apiGroup('apps')).toEqual({
      kind: 'APIGroup',
      apiVersion: 'v1',
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
    expect(apiGroup('example.com')).toBeUndefined();
    expect(apiResourceList('apps', 'v1beta1')).toBeUndefined();
    expect(apiResourceList('', 'v2')).toBeUndefined();
  });

  it('lists every resource in RESOURCES in its group versions', () => {
    for (const ri of RESOURCES) {
      for (const v of ri.versions) {
        const list = apiResourceList(ri.group, v)!;
        expect(list.groupVersion).toBe(groupVersion(ri.group, v));
        const r = list.resources.find((x) => x.name === ri.resource);
        expect(r, `${ri.group}/${v}/${ri.resource}`).toMatchObject({
          kind: ri.kind,
          namespaced: ri.namespaced,
          singularName: ri.singular,
        });
        for (const sub of ri.subresources)
          expect(list.resources.map((x) => x.name)).toContain(`${ri.resource}/${sub.name}`);
      }
    }
  });

  it('lists /api/v1 pods as upstream does: sorted names, sorted verbs, subresources with their own kinds', () => {
    const list = apiResourceList('', 'v1')!;
    expect(list).not.toHaveProperty('apiVersion');
    expect(list.kind).toBe('APIResourceList');
    const names = list.resources.map((r) => r.name);
    expect(names).toEqual([...names].sort());
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    expect(byName.get('pods')).toEqual({
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['po'],
      categories: ['all'],
      storageVersionHash: 'xPOwRZ+Yhw8=',
    });
    expect(byName.get('pods/status')).toEqual({
      name: 'pods/status',
      singularName: '',
      namespaced: true,
      kind: 'Pod',
      verbs: ['get', 'patch', 'update'],
    });
    expect(byName.get('pods/eviction')).toEqual({
      name: 'pods/eviction',
      singularName: '',
      namespaced: true,
      group: 'policy',
      version: 'v1',
      kind: 'Eviction',
      verbs: ['create'],
    });
    expect(byName.get('nodes')).toMatchObject({ namespaced: false, shortNames: ['no'] });
    expect(byName.get('configmaps')).not.toHaveProperty('categories');
  });

  it('lists the pods and services subresources kubemu serves exactly as upstream 1.33 lists them', () => {
    const upstream = JSON.parse(
      readFileSync(new URL('../../../api/upstream/v1.33/discovery/api__v1.json', import.meta.url), 'utf8'),
    ) as { resources: { name: string }[] };
    const ours = new Map(apiResourceList('', 'v1')!.resources.map((r) => [r.name, r]));
    const wanted = [
      'pods/attach',
      'pods/ephemeralcontainers',
      'pods/exec',
      'pods/portforward',
      'pods/proxy',
      'services/proxy',
    ];
    for (const name of wanted) {
      const up = upstream.resources.find((r) => r.name === name);
      expect(up, name).toBeDefined();
      expect(ours.get(name), name).toEqual(up);
    }
  });

  it('names the scale subresource with autoscaling/v1 Scale', () => {
    const scale = apiResourceList('apps', 'v1')!.resources.find((r) => r.name === 'deployments/scale');
    expect(scale).toEqual({
      name: 'deployments/scale',
      singularName: '',
      namespaced: true,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
  });

  it('computes upstream storage version hashes', () => {
    expect(storageVersionHash('apps', 'v1', 'Deployment')).toBe('8aSe+NMegvE=');
    const hashOf = (g: string, v: string, name: string) =>
      apiResourceList(g, v)!.resources.find((r) => r.name === name)!.storageVersionHash;
    // events.k8s.io Events are stored as core Events upstream, so both report the same hash
    expect(hashOf('events.k8s.io', 'v1', 'events')).toBe(hashOf('', 'v1', 'events'));
    // every served version reports the storage version's hash
    expect(hashOf('autoscaling', 'v1', 'horizontalpodautoscalers')).toBe(
      hashOf('autoscaling', 'v2', 'horizontalpodautoscalers'),
    );
  });
});

describe('aggregated discovery', () => {
  const allResources = (scope: 'api' | 'apis') => {
    const out = new Map<string, APIResourceDiscovery>();
    for (const g of aggregatedDiscovery(scope, 'v2').items)
      for (const v of g.versions)
        for (const r of v.resources) out.set(`${g.metadata.name ?? ''}/${v.version}/${r.resource}`, r);
    return out;
  };

  it('serves the core group under /api', () => {
    const doc = aggregatedDiscovery('api', 'v2');
    expect(doc).toMatchObject({
      kind: 'APIGroupDiscoveryList',
      apiVersion: 'apidiscovery.k8s.io/v2',
      metadata: {},
    });
    expect(doc.items).toHaveLength(1);
    expect(doc.items[0].metadata).toEqual({ creationTimestamp: null });
    expect(doc.items[0].versions.map((v) => [v.version, v.freshness])).toEqual([['v1', 'Current']]);
    const pods = doc.items[0].versions[0].resources.find((r) => r.resource === 'pods');
    expect(pods).toEqual({
      resource: 'pods',
      responseKind: { group: '', version: '', kind: 'Pod' },
      scope: 'Namespaced',
      singularResource: 'pod',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      shortNames: ['po'],
      categories: ['all'],
      subresources: [
        {
          subresource: 'attach',
          responseKind: { group: '', version: '', kind: 'PodAttachOptions' },
          verbs: ['create', 'get'],
        },
        {
          subresource: 'binding',
          responseKind: { group: '', version: '', kind: 'Binding' },
          verbs: ['create'],
        },
        {
          subresource: 'ephemeralcontainers',
          responseKind: { group: '', version: '', kind: 'Pod' },
          verbs: ['get', 'patch', 'update'],
        },
        {
          subresource: 'eviction',
          responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' },
          verbs: ['create'],
        },
        {
          subresource: 'exec',
          responseKind: { group: '', version: '', kind: 'PodExecOptions' },
          verbs: ['create', 'get'],
        },
        { subresource: 'log', responseKind: { group: '', version: '', kind: 'Pod' }, verbs: ['get'] },
        {
          subresource: 'portforward',
          responseKind: { group: '', version: '', kind: 'PodPortForwardOptions' },
          verbs: ['create', 'get'],
        },
        {
          subresource: 'proxy',
          responseKind: { group: '', version: '', kind: 'PodProxyOptions' },
          verbs: ['create', 'delete', 'get', 'patch', 'update'],
        },
        {
          subresource: 'status',
          responseKind: { group: '', version: '', kind: 'Pod' },
          verbs: ['get', 'patch', 'update'],
        },
      ],
    });
  });

  it('serves the named groups under /apis, versions preferred first', () => {
    const doc = aggregatedDiscovery('apis', 'v2beta1');
    expect(doc.apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
    expect(doc.items.map((g) => g.metadata.name)).toEqual(apiGroupList().groups.map((g) => g.name));
    expect(doc.items.find((g) => g.metadata.name === 'autoscaling')!.versions.map((v) => v.version)).toEqual([
      'v2',
      'v1',
    ]);
    const nodes = allResources('api').get('/v1/nodes')!;
    expect(nodes.scope).toBe('Cluster');
    const deploy = allResources('apis').get('apps/v1/deployments')!;
    expect(deploy.subresources).toEqual([
      {
        subresource: 'scale',
        responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
        verbs: ['get', 'patch', 'update'],
      },
      {
        subresource: 'status',
        responseKind: { group: '', version: '', kind: 'Deployment' },
        verbs: ['get', 'patch', 'update'],
      },
    ]);
  });

  it('contains every resource in RESOURCES, with the short names and categories kubectl resolves', () => {
    const all = new Map([...allResources('api'), ...allResources('apis')]);
    for (const ri of RESOURCES)
      for (const v of ri.versions)
        expect(all.has(`${ri.group}/${v}/${ri.resource}`), `${ri.group}/${v}/${ri.resource}`).toBe(true);
    const short = (key: string) => all.get(key)?.shortNames;
    expect(short('/v1/pods')).toContain('po');
    expect(short('apps/v1/deployments')).toContain('deploy');
    expect(short('apps/v1/replicasets')).toContain('rs');
    expect(short('/v1/services')).toContain('svc');
    expect(short('/v1/endpoints')).toContain('ep');
    expect(short('networking.k8s.io/v1/ingresses')).toContain('ing');
    expect(short('autoscaling/v2/horizontalpodautoscalers')).toContain('hpa');
    expect(short('/v1/namespaces')).toContain('ns');
    expect(short('/v1/nodes')).toContain('no');
    expect(short('/v1/configmaps')).toContain('cm');
    const inAll = [...all.entries()].filter(([, r]) => r.categories?.includes('all')).map(([k]) => k);
    expect(inAll.sort()).toEqual(
      [
        '/v1/pods',
        '/v1/replicationcontrollers',
        '/v1/services',
        'apps/v1/daemonsets',
        'apps/v1/deployments',
        'apps/v1/replicasets',
        'apps/v1/statefulsets',
        'autoscaling/v1/horizontalpodautoscalers',
        'autoscaling/v2/horizontalpodautoscalers',
        'batch/v1/cronjobs',
        'batch/v1/jobs',
      ].sort(),
    );
  });
});

describe('/version', () => {
  it('reports Kubernetes 1.33, the release whose API it serves', () => {
    const v = versionInfo({ platform: 'linux/amd64' });
    expect(v).toMatchObject({
      major: '1',
      minor: '33',
      gitVersion: 'v1.33.0+kubemu',
      gitTreeState: 'clean',
      platform: 'linux/amd64',
    });
    for (const key of ['gitCommit', 'buildDate', 'goVersion', 'compiler'] as const)
      expect(typeof v[key]).toBe('string');
    expect(Number.isNaN(Date.parse(v.buildDate))).toBe(false);
  });
});
