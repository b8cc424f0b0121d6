// The served OpenAPI against upstream's: for every served group/version/kind, the schema of the kind and of every
// type it reaches, as served in /openapi/v3/<group-version>, must equal the component of the same name in
// upstream's 1.33 document for that group-version (api/upstream/v1.33/openapi), field by field — defaults,
// x-kubernetes-* extensions, descriptions, required lists. /openapi/v2 must be the same schemas in upstream's
// Swagger 2.0 form (no defaults: upstream publishes them in v3 only).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RESOURCES } from '../../api/resources.js';
import { openapiV2Document, openapiV3Document } from './index.js';

type Json = any;

const upstreamDir = fileURLToPath(new URL('../../../api/upstream/v1.33/openapi/', import.meta.url));

function upstreamDocument(group: string, version: string): Json {
  const file = group ? `apis__${group}__${version}_openapi.json` : `api__${version}_openapi.json`;
  return JSON.parse(readFileSync(upstreamDir + file, 'utf8'));
}

/** every difference between two JSON values, as `path: ours ≠ upstream's` */
export function jsonDiff(ours: unknown, theirs: unknown, path = ''): string[] {
  if (JSON.stringify(ours) === JSON.stringify(theirs)) return [];
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObj(ours) && isObj(theirs)) {
    const a = ours as Record<string, unknown>;
    const b = theirs as Record<string, unknown>;
    return [...new Set([...Object.keys(a), ...Object.keys(b)])]
      .sort()
      .flatMap((k) => jsonDiff(a[k], b[k], `${path}.${k}`));
  }
  if (Array.isArray(ours) && Array.isArray(theirs) && ours.length === theirs.length) {
    return ours.flatMap((v, i) => jsonDiff(v, theirs[i], `${path}[${i}]`));
  }
  const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v).slice(0, 120));
  return [`${path}: ours ${show(ours)} ≠ upstream's ${show(theirs)}`];
}

function reachable(root: string, schemas: Record<string, Json>): string[] {
  const seen = new Set<string>([root]);
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === '$ref' && typeof v === 'string') {
          const name = v.slice('#/components/schemas/'.length);
          if (!seen.has(name)) {
            seen.add(name);
            walk(schemas[name]);
          }
        } else walk(v);
      }
    }
  };
  walk(schemas[root]);
  return [...seen].sort();
}

const gvkOf = (s: Json): Json[] => s?.['x-kubernetes-group-version-kind'] ?? [];

describe('served OpenAPI v3 against upstream 1.33, for every served kind', () => {
  for (const ri of RESOURCES) {
    for (const version of ri.versions) {
      it(`${ri.group || 'core'}/${version} ${ri.kind}: every reachable schema equals upstream's`, () => {
        const path = ri.group ? `apis/${ri.group}/${version}` : `api/${version}`;
        const ours = (openapiV3Document(path) as Json).components.schemas;
        const theirs = upstreamDocument(ri.group, version).components.schemas;
        const kinds = ri.verbs.includes('list') ? [ri.kind, `${ri.kind}List`] : [ri.kind];
        const diffs: string[] = [];
        for (const kind of kinds) {
          const match = (s: Json) =>
            gvkOf(s).some((g) => g.group === ri.group && g.version === version && g.kind === kind);
          const ourRoot = Object.keys(ours).find((n) => match(ours[n]));
          const theirRoot = Object.keys(theirs).find((n) => match(theirs[n]));
          expect(ourRoot, `${kind} served`).toBeDefined();
          expect(ourRoot, `${kind}: the component upstream publishes it under`).toBe(theirRoot);
          for (const name of reachable(ourRoot!, ours)) {
            diffs.push(...jsonDiff(ours[name], theirs[name], name));
          }
        }
        expect(diffs).toEqual([]);
      });
    }
  }

  it('publishes upstream defaults, unions and list extensions (spot checks from upstream 1.33)', () => {
    const core = (openapiV3Document('api/v1') as Json).components.schemas;
    expect(core['io.k8s.api.core.v1.ContainerPort'].properties.protocol.default).toBe('TCP');
    expect(core['io.k8s.api.core.v1.ServicePort'].properties.protocol.default).toBe('TCP');
    expect(core['io.k8s.api.core.v1.Pod'].properties.metadata).toEqual({
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }],
      default: {},
      description:
        "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    });
    expect(core['io.k8s.api.core.v1.SeccompProfile']['x-kubernetes-unions']).toEqual([
      { discriminator: 'type', 'fields-to-discriminateBy': { localhostProfile: 'LocalhostProfile' } },
    ]);
  });
});

describe('served OpenAPI v2', () => {
  const v2 = openapiV2Document() as Json;

  it('has no default keyword anywhere, as upstream’s /openapi/v2 (defaults are v3-only)', () => {
    const defaults: string[] = [];
    const walk = (node: unknown, path: string, inProperties: boolean): void => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${path}[${i}]`, false));
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (!inProperties && k === 'default') defaults.push(path);
          walk(v, `${path}.${k}`, !inProperties && k === 'properties');
        }
      }
    };
    walk(v2.definitions, '', false);
    expect(defaults).toEqual([]);
  });

  it('is each upstream v3 schema in Swagger 2.0 form: bare $ref with siblings, extensions kept', () => {
    // as upstream 1.33's api/openapi-spec/swagger.json has it
    expect(
      v2.definitions['io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration'].properties
        .metadata,
    ).toEqual({
      $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
      description:
        'Standard object metadata; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata.',
    });
    expect(
      v2.definitions['io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration'].properties
        .webhooks,
    ).toEqual({
      description: 'Webhooks is a list of webhooks and the affected resources and operations.',
      items: { $ref: '#/definitions/io.k8s.api.admissionregistration.v1.ValidatingWebhook' },
      type: 'array',
      'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
    });
    expect(v2.definitions['io.k8s.api.admissionregistration.v1.Variable']).toMatchObject({
      required: ['name', 'expression'],
      'x-kubernetes-map-type': 'atomic',
    });
    expect(
      v2.definitions['io.k8s.api.admissionregistration.v1.Validation'].properties.expression,
    ).not.toHaveProperty('default');
  });
});
