// The patch metadata table and its navigator over definitions.json.
import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../schema/definitions.js';
import { EMPTY_PATCH_META, PATCH_META_TABLE, fieldPatchInfo, patchMetaFor } from './index.js';

const pod = patchMetaFor({ group: '', version: 'v1', kind: 'Pod' });
const deployment = patchMetaFor({ group: 'apps', version: 'v1', kind: 'Deployment' });

describe('patchMetaFor', () => {
  it('yields merge keys while walking a Pod', () => {
    const spec = pod.field('spec').meta;
    expect(spec.field('containers')).toMatchObject({
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
    });
    const container = spec.field('containers').meta;
    expect(container.field('ports')).toMatchObject({
      patchMergeKey: 'containerPort',
      listMapKeys: ['containerPort', 'protocol'],
    });
    expect(container.field('env').patchMergeKey).toBe('name');
    expect(container.field('volumeMounts').patchMergeKey).toBe('mountPath');
    expect(container.field('args')).toMatchObject({ listType: 'atomic' });
    expect(container.field('args').patchStrategy).toBeUndefined();
    expect(spec.field('volumes').patchStrategy).toBe('merge,retainKeys');
    expect(spec.field('ephemeralContainers').meta.field('env').patchMergeKey).toBe('name');
    expect(pod.field('status').meta.field('conditions').patchMergeKey).toBe('type');
  });

  it('finds meta/v1 fields under every group prefix', () => {
    const meta = deployment.field('metadata').meta;
    expect(meta.name).toBe('ObjectMeta');
    expect(meta.field('finalizers')).toMatchObject({ patchStrategy: 'merge', listType: 'set' });
    expect(meta.field('ownerReferences')).toMatchObject({ patchStrategy: 'merge', patchMergeKey: 'uid' });
  });

  it('walks a Deployment down to its pod template, and knows retainKeys on spec.strategy', () => {
    const spec = deployment.field('spec').meta;
    expect(spec.field('strategy').patchStrategy).toBe('retainKeys');
    const podSpec = spec.field('template').meta.field('spec').meta;
    expect(podSpec.field('containers').patchMergeKey).toBe('name');
    expect(podSpec.field('containers').meta.field('ports').patchMergeKey).toBe('containerPort');
  });

  it('gives Service ports their merge key and maps no metadata', () => {
    const svc = patchMetaFor({ group: '', version: 'v1', kind: 'Service' });
    expect(svc.field('spec').meta.field('ports').patchMergeKey).toBe('port');
    const labels = svc.field('metadata').meta.field('labels');
    expect(labels.patchStrategy).toBeUndefined();
    expect(labels.meta.field('app').patchStrategy).toBeUndefined();
  });

  it('has no metadata for unknown kinds and unknown fields', () => {
    expect(patchMetaFor({ group: 'example.com', version: 'v1', kind: 'Widget' })).toBe(EMPTY_PATCH_META);
    expect(pod.field('nope').patchStrategy).toBeUndefined();
    expect(pod.field('nope').meta.field('x').meta).toBe(EMPTY_PATCH_META);
  });
});

describe('PATCH_META_TABLE', () => {
  it('is keyed by short type names that exist in definitions.json for every served kind’s tagged fields', () => {
    const defs = loadDefinitions().definitions;
    const shortNames = new Set(Object.keys(defs).map((n) => n.slice(n.lastIndexOf('.') + 1)));
    for (const t of [
      'PodSpec',
      'Container',
      'ObjectMeta',
      'ServiceSpec',
      'DeploymentSpec',
      'EphemeralContainer',
      'NodeStatus',
    ]) {
      expect(shortNames.has(t)).toBe(true);
      expect(PATCH_META_TABLE[t]).toBeDefined();
    }
    // every tagged field of a type kubemu serves is a real property of that type (in some group-version)
    const propsByShortName = new Map<string, Set<string>>();
    for (const [name, schema] of Object.entries(defs)) {
      const short = name.slice(name.lastIndexOf('.') + 1);
      const props = propsByShortName.get(short) ?? new Set<string>();
      for (const p of Object.keys(schema.properties ?? {})) props.add(p);
      propsByShortName.set(short, props);
    }
    for (const [short, props] of propsByShortName) {
      for (const field of ['containers', 'env', 'ports', 'finalizers', 'conditions', 'volumes', 'strategy']) {
        if (PATCH_META_TABLE[short]?.[field]) expect(props.has(field), `${short}.${field}`).toBe(true);
      }
    }
  });

  it('answers by short and by definitions.json name', () => {
    expect(fieldPatchInfo('apps/v1.PodSpec', 'initContainers')).toEqual(
      fieldPatchInfo('PodSpec', 'initContainers'),
    );
    expect(fieldPatchInfo('PodSpec', 'hostAliases')?.patchMergeKey).toBe('ip');
    expect(fieldPatchInfo('PodSpec', 'topologySpreadConstraints')?.patchMergeKey).toBe('topologyKey');
    expect(fieldPatchInfo('PodSpec', 'imagePullSecrets')?.patchMergeKey).toBe('name');
    expect(fieldPatchInfo('Container', 'volumeDevices')?.patchMergeKey).toBe('devicePath');
    expect(fieldPatchInfo('NodeSpec', 'podCIDRs')?.patchStrategy).toBe('merge');
  });
});
