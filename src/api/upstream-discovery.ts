// Upstream's discovery data for the release kubemu serves (api/upstream/v1.33/discovery), read into one table of
// resources: what the README's API table and the resource-table check compare RESOURCES with. Not used at runtime.
//
// aggregated_v2.json is upstream's aggregated discovery of /apis for 1.33 (every group but core). The core group's
// api__v1.json is upstream's legacy APIResourceList from just before 1.33; the one core change of 1.33, the
// pods/resize subresource, is taken from the 1.33 OpenAPI document of core/v1 (paths and their actions), which the
// data check (upstream-discovery.test.ts) holds every group's discovery data against.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const UPSTREAM_RELEASE = 'v1.33';
const UPSTREAM_DIR = new URL(`../../api/upstream/${UPSTREAM_RELEASE}/`, import.meta.url);

export interface UpstreamSubresource {
  /** the kind sent and received on it, with its group and version */
  kind: string;
  group: string;
  version: string;
  verbs: string[];
}

export interface UpstreamResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  singular: string;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: Map<string, UpstreamSubresource>;
}

/** a parsed file of api/upstream/<release>/ */
export function readUpstream<T>(path: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(path, UPSTREAM_DIR)), 'utf8')) as T;
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

interface AggregatedList {
  items: {
    metadata: { name: string };
    versions: {
      version: string;
      resources: {
        resource: string;
        responseKind: GroupVersionKind;
        scope: 'Namespaced' | 'Cluster';
        singularResource: string;
        shortNames?: string[];
        categories?: string[];
        verbs: string[];
        subresources?: { subresource: string; responseKind: GroupVersionKind; verbs: string[] }[];
      }[];
    }[];
  }[];
}

interface ApiResourceList {
  groupVersion: string;
  resources: {
    name: string;
    kind: string;
    namespaced: boolean;
    singularName: string;
    group?: string;
    version?: string;
    shortNames?: string[];
    categories?: string[];
    verbs: string[];
  }[];
}

/** an OpenAPI v3 document's paths: path → method → operation */
type OpenApiPaths = Record<
  string,
  Record<string, { 'x-kubernetes-action'?: string; 'x-kubernetes-group-version-kind'?: GroupVersionKind }>
>;

function fromAggregated(list: AggregatedList): UpstreamResource[] {
  const out: UpstreamResource[] = [];
  for (const group of list.items) {
    for (const v of group.versions) {
      for (const r of v.resources) {
        const subresources = new Map<string, UpstreamSubresource>();
        for (const s of r.subresources ?? []) {
          subresources.set(s.subresource, {
            kind: s.responseKind.kind,
            group:
              s.responseKind.group || s.responseKind.version ? s.responseKind.group : group.metadata.name,
            version: s.responseKind.version || v.version,
            verbs: [...s.verbs],
          });
        }
        out.push({
          group: group.metadata.name,
          version: v.version,
          resource: r.resource,
          kind: r.responseKind.kind,
          namespaced: r.scope === 'Namespaced',
          singular: r.singularResource,
          shortNames: r.shortNames ?? [],
          categories: r.categories ?? [],
          verbs: [...r.verbs],
          subresources,
        });
      }
    }
  }
  return out;
}

function fromResourceList(list: ApiResourceList): UpstreamResource[] {
  const slash = list.groupVersion.indexOf('/');
  const group = slash < 0 ? '' : list.groupVersion.slice(0, slash);
  const version = list.groupVersion.slice(slash + 1);
  const byName = new Map<string, UpstreamResource>();
  for (const r of list.resources.filter((e) => !e.name.includes('/'))) {
    byName.set(r.name, {
      group,
      version,
      resource: r.name,
      kind: r.kind,
      namespaced: r.namespaced,
      singular: r.singularName,
      shortNames: r.shortNames ?? [],
      categories: r.categories ?? [],
      verbs: [...r.verbs],
      subresources: new Map(),
    });
  }
  for (const s of list.resources.filter((e) => e.name.includes('/'))) {
    const [parent, sub] = s.name.split('/') as [string, string];
    byName.get(parent)?.subresources.set(sub, {
      kind: s.kind,
      group: s.group ?? group,
      version: s.version ?? version,
      verbs: [...s.verbs],
    });
  }
  return [...byName.values()];
}

/** HTTP method of an OpenAPI operation → the discovery verb */
const METHOD_VERBS: Readonly<Record<string, string>> = {
  get: 'get',
  post: 'create',
  put: 'update',
  patch: 'patch',
  delete: 'delete',
};

/** the subresources of one group-version's OpenAPI paths: `pods/resize` → its kind and verbs */
export function openApiSubresources(paths: OpenApiPaths): Map<string, UpstreamSubresource> {
  const out = new Map<string, UpstreamSubresource>();
  for (const [path, item] of Object.entries(paths)) {
    const m =
      /^\/apis?\/(?:[^/]+\/)?v[0-9a-z]+\/(?:namespaces\/\{namespace\}\/)?([a-z0-9]+)\/\{name\}\/([a-z]+)(?:\/\{path\})?$/.exec(
        path,
      );
    if (!m || path.includes('/watch/')) continue;
    const key = `${m[1]}/${m[2]}`;
    const sub = out.get(key) ?? { kind: '', group: '', version: '', verbs: [] };
    for (const [method, op] of Object.entries(item)) {
      const verb = METHOD_VERBS[method];
      if (!verb || !op['x-kubernetes-action']) continue;
      if (!sub.verbs.includes(verb)) sub.verbs.push(verb);
      const gvk = op['x-kubernetes-group-version-kind'];
      if (gvk) Object.assign(sub, { kind: gvk.kind, group: gvk.group, version: gvk.version });
    }
    sub.verbs.sort();
    out.set(key, sub);
  }
  return out;
}

let cached: UpstreamResource[] | undefined;

/** every resource of the release's discovery documents (all versions, alpha and beta included) */
export function upstreamResources(): readonly UpstreamResource[] {
  if (cached) return cached;
  const core = fromResourceList(readUpstream<ApiResourceList>('discovery/api__v1.json'));
  // 1.33's additions to core/v1 that the pre-1.33 list lacks, from 1.33's own OpenAPI document
  const corePaths = readUpstream<{ paths: OpenApiPaths }>('openapi/api__v1_openapi.json').paths;
  for (const [key, sub] of openApiSubresources(corePaths)) {
    const [parent, name] = key.split('/') as [string, string];
    const r = core.find((c) => c.resource === parent);
    if (r && !r.subresources.has(name)) r.subresources.set(name, sub);
  }
  cached = [...core, ...fromAggregated(readUpstream<AggregatedList>('discovery/aggregated_v2.json'))];
  return cached;
}

/** upstream's resource of a group/version, if the release serves it */
export function upstreamResource(
  group: string,
  version: string,
  resource: string,
): UpstreamResource | undefined {
  return upstreamResources().find(
    (r) => r.group === group && r.version === version && r.resource === resource,
  );
}
