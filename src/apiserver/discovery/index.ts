// API discovery, generated from the resource table: /api, /apis, /api/v1, /apis/<g>[/<v>] (legacy) and the
// aggregated APIGroupDiscoveryList (apidiscovery.k8s.io v2 and v2beta1) that kubectl 1.27+ asks for first.
import { createHash } from 'node:crypto';
import type {
  APIGroup,
  APIGroupList,
  APIResource,
  APIResourceList,
  APIVersions,
  GroupVersionForDiscovery,
} from 'kubernetes-types/meta/v1.js';
import {
  RESOURCES,
  groupVersion,
  servedResources,
  type ResourceInfo,
  type Verb,
} from '../../api/resources.js';
import { servedCustomResources } from '../customresources/served.js';
import { METRICS_RESOURCES } from '../metrics-api/resources.js';

export { versionInfo, KUBE_GIT_VERSION, KUBE_MAJOR, KUBE_MINOR } from './version.js';

/** upstream's /apis order (the aggregator's group priorities); groups it doesn't list come after, by name */
const GROUP_ORDER = [
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
];

/**
 * what discovery lists: the stored resources, the established custom resources, and the metrics API served without
 * storage (as an APIService)
 */
let discoveredCache: { generation: number; list: readonly ResourceInfo[] } | undefined;
function discovered(): readonly ResourceInfo[] {
  const generation = servedCustomResources.generation;
  if (discoveredCache?.generation !== generation)
    discoveredCache = { generation, list: [...servedResources(), ...METRICS_RESOURCES] };
  return discoveredCache.list;
}

/** Resources whose objects upstream stores as another group's kind: events.k8s.io Events are core Events. */
const STORAGE_KIND: Readonly<Record<string, { group: string; version: string; kind: string }>> = {
  'events.k8s.io/events': { group: '', version: 'v1', kind: 'Event' },
};

/** storageVersionHash: the first 8 bytes of sha256("<group>/<version>/<kind>") of the storage version, base64 */
export function storageVersionHash(group: string, version: string, kind: string): string {
  return createHash('sha256')
    .update(`${group}/${version}/${kind}`)
    .digest()
    .subarray(0, 8)
    .toString('base64');
}

const sortedVerbs = (verbs: readonly Verb[]): string[] => [...verbs].sort();

function groupRank(group: string): [number, string] {
  const i = GROUP_ORDER.indexOf(group);
  return [i < 0 ? GROUP_ORDER.length : i, group];
}

/** the named groups with their versions, preferred first, in upstream's order */
function namedGroups(): { name: string; versions: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const ri of discovered()) {
    if (!ri.group) continue;
    const versions = groups.get(ri.group) ?? [];
    for (const v of ri.versions) if (!versions.includes(v)) versions.push(v);
    groups.set(ri.group, versions);
  }
  return [...groups.entries()]
    .map(([name, versions]) => ({ name, versions }))
    .sort((a, b) => {
      const [ra, na] = groupRank(a.name);
      const [rb, nb] = groupRank(b.name);
      return ra - rb || (na < nb ? -1 : na > nb ? 1 : 0);
    });
}

const servedIn = (group: string, version: string): ResourceInfo[] =>
  discovered().filter((ri) => ri.group === group && ri.versions.includes(version));

/** `GET /api`: APIVersions */
export function legacyApiVersions(serverAddress = '127.0.0.1:6443'): APIVersions {
  const versions = [...new Set(RESOURCES.filter((ri) => ri.group === '').flatMap((ri) => ri.versions))];
  return {
    kind: 'APIVersions',
    versions,
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function toAPIGroup(g: { name: string; versions: string[] }): APIGroup {
  const versions: GroupVersionForDiscovery[] = g.versions.map((v) => ({
    groupVersion: groupVersion(g.name, v),
    version: v,
  }));
  return { name: g.name, versions, preferredVersion: versions[0] };
}

/** `GET /apis`: APIGroupList */
export function apiGroupList(): APIGroupList {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: namedGroups().map(toAPIGroup) };
}

/** `GET /apis/<group>`: APIGroup, or undefined when kubemu serves no such group */
export function apiGroup(name: string): APIGroup | undefined {
  const g = namedGroups().find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...toAPIGroup(g) } : undefined;
}

/** One resource and its subresources as upstream lists them: `pods`, `pods/binding`, `pods/status`… */
function apiResources(ri: ResourceInfo): APIResource[] {
  const custom = servedCustomResources.find(ri.group, ri.resource);
  const storage = STORAGE_KIND[`${ri.group}/${ri.resource}`] ?? {
    group: ri.group,
    version: custom ? custom.storageVersion : ri.versions[0],
    kind: ri.kind,
  };
  const main: APIResource = {
    name: ri.resource,
    singularName: ri.singular,
    namespaced: ri.namespaced,
    kind: ri.kind,
    verbs: sortedVerbs(ri.verbs),
    ...(ri.shortNames.length > 0 ? { shortNames: [...ri.shortNames] } : {}),
    ...(ri.categories.length > 0 ? { categories: [...ri.categories] } : {}),
    storageVersionHash: storageVersionHash(storage.group, storage.version, storage.kind),
  };
  const subs = ri.subresources.map((sub): APIResource => ({
    name: `${ri.resource}/${sub.name}`,
    singularName: '',
    namespaced: ri.namespaced,
    // group and version appear only when the subresource speaks another group's kind (Scale, Eviction)
    ...(sub.group !== undefined ? { group: sub.group } : {}),
    ...(sub.version !== undefined ? { version: sub.version } : {}),
    kind: sub.kind || ri.kind,
    verbs: sortedVerbs(sub.verbs),
  }));
  return [main, ...subs];
}

const byName = (a: { name: string }, b: { name: string }): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/** `GET /api/v1`, `GET /apis/<g>/<v>`: APIResourceList sorted by name, or undefined for a version kubemu doesn't serve */
export function apiResourceList(group: string, version: string): APIResourceList | undefined {
  const served = servedIn(group, version);
  if (served.length === 0) return undefined;
  const resources = served.flatMap(apiResources).sort(byName);
  // upstream's /api/v1 carries no apiVersion; the named groups' lists do
  return group === ''
    ? { kind: 'APIResourceList', groupVersion: version, resources }
    : { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources };
}

// ---- aggregated discovery (apidiscovery.k8s.io) ----

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface APISubresourceDiscovery {
  subresource: string;
  responseKind: GroupVersionKind;
  verbs: string[];
}

export interface APIResourceDiscovery {
  resource: string;
  responseKind: GroupVersionKind;
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

export interface APIVersionDiscovery {
  version: string;
  resources: APIResourceDiscovery[];
  freshness: 'Current' | 'Stale';
}

export interface APIGroupDiscovery {
  metadata: { name?: string; creationTimestamp: null };
  versions: APIVersionDiscovery[];
}

export interface APIGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: `apidiscovery.k8s.io/${'v2' | 'v2beta1'}`;
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

/** upstream's ConvertGroupVersionIntoToDiscovery, applied to the legacy list of one group version */
function versionDiscovery(group: string, version: string): APIVersionDiscovery {
  const list = apiResourceList(group, version)?.resources ?? [];
  const resources: APIResourceDiscovery[] = [];
  const parents = new Map<string, APIResourceDiscovery>();
  for (const r of list) {
    if (r.name.includes('/')) continue;
    const d: APIResourceDiscovery = {
      resource: r.name,
      // group and version are empty for the group version being described, as upstream serves them
      responseKind: { group: r.group ?? '', version: r.version ?? '', kind: r.kind },
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singularName,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    };
    resources.push(d);
    parents.set(r.name, d);
  }
  for (const r of list) {
    const slash = r.name.indexOf('/');
    if (slash < 0) continue;
    const parent = parents.get(r.name.slice(0, slash));
    if (!parent) continue;
    (parent.subresources ??= []).push({
      subresource: r.name.slice(slash + 1),
      responseKind: { group: r.group ?? '', version: r.version ?? '', kind: r.kind },
      verbs: r.verbs,
    });
  }
  return { version, resources, freshness: 'Current' };
}

/**
 * `GET /api` or `/apis` with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`
 * (v2beta1 for kubectl 1.27/1.28): the whole of discovery in one document. Serve it with that Content-Type.
 */
export function aggregatedDiscovery(scope: 'api' | 'apis', version: 'v2' | 'v2beta1'): APIGroupDiscoveryList {
  const items: APIGroupDiscovery[] =
    scope === 'api'
      ? [
          {
            metadata: { creationTimestamp: null },
            versions: legacyApiVersions().versions.map((v) => versionDiscovery('', v)),
          },
        ]
      : namedGroups().map((g) => ({
          metadata: { name: g.name, creationTimestamp: null },
          versions: g.versions.map((v) => versionDiscovery(g.name, v)),
        }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
