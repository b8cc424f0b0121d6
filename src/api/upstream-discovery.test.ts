// The resource table against upstream's discovery data for the release (api/upstream/v1.33/discovery), and that
// data against the release's OpenAPI documents (api/upstream/v1.33/openapi).
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RESOURCES, groupVersion } from './resources.js';
import {
  UPSTREAM_RELEASE,
  openApiSubresources,
  readUpstream,
  upstreamResource,
  upstreamResources,
  type UpstreamResource,
} from './upstream-discovery.js';

type Operation = {
  'x-kubernetes-action'?: string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string };
};
type Paths = Record<string, Record<string, Operation>>;

/** a resource's facts as the release's OpenAPI paths state them */
interface OpenApiResource {
  namespaced: boolean;
  kind?: string;
  verbs: Set<string>;
}

const ACTION_VERBS: Readonly<Record<string, string>> = {
  get: 'get',
  list: 'list',
  watch: 'watch',
  watchlist: 'watch',
  post: 'create',
  put: 'update',
  patch: 'patch',
  delete: 'delete',
  deletecollection: 'deletecollection',
};

function openApiResources(paths: Paths): Map<string, OpenApiResource> {
  const out = new Map<string, OpenApiResource>();
  for (const [path, item] of Object.entries(paths)) {
    const m =
      /^\/apis?\/(?:[^/]+\/)?v[0-9a-z]+\/(watch\/)?(namespaces\/\{namespace\}\/)?([a-z0-9]+)(\/\{name\})?$/.exec(
        path,
      );
    if (!m) continue;
    const [, , namespaced, resource, named] = m;
    const r = out.get(resource) ?? { namespaced: false, verbs: new Set<string>() };
    if (namespaced) r.namespaced = true;
    for (const op of Object.values(item)) {
      const action = op['x-kubernetes-action'];
      if (!action) continue;
      if (ACTION_VERBS[action]) r.verbs.add(ACTION_VERBS[action]);
      if (named && action === 'get') r.kind = op['x-kubernetes-group-version-kind']?.kind;
    }
    out.set(resource, r);
  }
  return out;
}

const openApiDir = fileURLToPath(new URL(`../../api/upstream/${UPSTREAM_RELEASE}/openapi/`, import.meta.url));
/** group/version → its OpenAPI paths, for every document checked in */
const openApiDocs = new Map(
  readdirSync(openApiDir).map((file) => {
    const parts = file.replace(/_openapi\.json$/, '').split('__');
    const gv = parts[0] === 'api' ? `/${parts[1]}` : `${parts[1]}/${parts[2]}`;
    return [gv, readUpstream<{ paths: Paths }>(`openapi/${file}`).paths] as const;
  }),
);

const sorted = (xs: Iterable<string>) => [...xs].sort();

describe(`upstream ${UPSTREAM_RELEASE} discovery data`, () => {
  it('is the release’s: every GA group-version agrees with its OpenAPI document', () => {
    for (const [gv, paths] of openApiDocs) {
      const [group, version] = gv.split('/') as [string, string];
      const discovered = upstreamResources().filter((r) => r.group === group && r.version === version);
      const fromPaths = openApiResources(paths);
      expect(sorted(discovered.map((r) => r.resource)), gv).toEqual(sorted(fromPaths.keys()));
      const subs = openApiSubresources(paths);
      for (const r of discovered) {
        const p = fromPaths.get(r.resource)!;
        const where = `${gv} ${r.resource}`;
        expect(r.namespaced, where).toBe(p.namespaced);
        if (p.kind) expect(r.kind, where).toBe(p.kind);
        expect(sorted(r.verbs), where).toEqual(sorted(p.verbs));
        const subNames = sorted([...subs.keys()].filter((k) => k.startsWith(`${r.resource}/`)));
        expect(sorted([...r.subresources.keys()].map((s) => `${r.resource}/${s}`)), where).toEqual(subNames);
      }
    }
  });

  it('has 1.33’s markers: ServiceCIDR and IPAddress GA, resource.k8s.io up to v1beta2, pods/resize', () => {
    expect(upstreamResource('networking.k8s.io', 'v1', 'servicecidrs')?.kind).toBe('ServiceCIDR');
    expect(upstreamResource('networking.k8s.io', 'v1', 'ipaddresses')?.shortNames).toEqual(['ip']);
    expect(upstreamResource('resource.k8s.io', 'v1beta2', 'resourceclaims')).toBeDefined();
    expect(upstreamResource('resource.k8s.io', 'v1', 'resourceclaims')).toBeUndefined();
    expect(upstreamResource('storage.k8s.io', 'v1', 'volumeattributesclasses')).toBeUndefined();
    expect(upstreamResource('', 'v1', 'pods')?.subresources.get('resize')).toEqual({
      kind: 'Pod',
      group: '',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
  });
});

describe('RESOURCES against upstream discovery', () => {
  for (const ri of RESOURCES) {
    for (const version of ri.versions) {
      const gv = groupVersion(ri.group, version);
      it(`${gv} ${ri.resource} is served as upstream ${UPSTREAM_RELEASE} serves it`, () => {
        const up: UpstreamResource | undefined = upstreamResource(ri.group, version, ri.resource);
        expect(up, `${gv} ${ri.resource} does not exist upstream`).toBeDefined();
        expect({
          kind: ri.kind,
          namespaced: ri.namespaced,
          singular: ri.singular,
          shortNames: ri.shortNames,
          categories: ri.categories,
          verbs: sorted(ri.verbs),
        }).toEqual({
          kind: up!.kind,
          namespaced: up!.namespaced,
          singular: up!.singular,
          shortNames: up!.shortNames,
          categories: up!.categories,
          verbs: sorted(up!.verbs),
        });
        for (const sub of ri.subresources) {
          const upSub = up!.subresources.get(sub.name);
          expect(upSub, `${gv} ${ri.resource}/${sub.name} does not exist upstream`).toBeDefined();
          expect({
            kind: sub.kind || ri.kind,
            group: sub.group ?? ri.group,
            version: sub.version ?? version,
            verbs: sorted(sub.verbs),
          }).toEqual({ ...upSub, verbs: sorted(upSub!.verbs) });
        }
      });
    }
  }
});
