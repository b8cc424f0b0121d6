// FieldsV1 encoding and path printing, as fieldpath's serialize.go and Path.String() write them.
import { describe, expect, it } from 'vitest';
import { FieldSet, keyElement, pathString } from './field-set.js';

describe('FieldSet', () => {
  it('round-trips upstream FieldsV1, "." marking paths that are members and have children', () => {
    const fields = {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:containers': {
          'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} },
        },
        'f:finalizers': { 'v:"a"': {} },
        'f:items': { 'i:2': {}, 'i:10': {} },
      },
    };
    const set = FieldSet.fromFieldsV1(fields);
    expect(set.toFieldsV1()).toEqual(fields);
    expect(JSON.stringify(set.toFieldsV1())).toBe(JSON.stringify(fields));
    expect(set.has(['f:metadata', 'f:labels'])).toBe(true);
    expect(set.has(['f:metadata'])).toBe(false);
    expect(set.paths().map(pathString)).toEqual([
      '.metadata.labels',
      '.metadata.labels.app',
      '.spec.containers[name="nginx"]',
      '.spec.containers[name="nginx"].image',
      '.spec.containers[name="nginx"].name',
      '.spec.finalizers[="a"]',
      '.spec.items[2]',
      '.spec.items[10]',
    ]);
  });

  it('refuses malformed FieldsV1', () => {
    for (const bad of [
      [],
      { x: {} },
      { 'k:notjson': {} },
      { 'k:null': {} },
      { 'f:a': 1 },
      { '.': {} },
      { 'i:x': {} },
    ]) {
      expect(() => FieldSet.fromFieldsV1(bad)).toThrow();
    }
  });

  it('set algebra is exact-path, prefix filtering is recursive', () => {
    const a = FieldSet.of(['f:spec', 'f:replicas'], ['f:spec', 'f:paused'], ['f:status', 'f:replicas']);
    const b = FieldSet.of(['f:spec', 'f:replicas'], ['f:spec']);
    expect(a.intersection(b).paths()).toEqual([['f:spec', 'f:replicas']]);
    expect(a.difference(b).paths().map(pathString)).toEqual(['.spec.paused', '.status.replicas']);
    expect(
      a
        .withoutPrefixes([['f:status']])
        .paths()
        .map(pathString),
    ).toEqual(['.spec.paused', '.spec.replicas']);
    expect(a.union(b).has(['f:spec'])).toBe(true);
  });

  it('keys sort their fields by name and print as upstream', () => {
    const pe = keyElement({ protocol: 'TCP', containerPort: 80 });
    expect(pe).toBe('k:{"containerPort":80,"protocol":"TCP"}');
    expect(pathString(['f:ports', pe])).toBe('.ports[containerPort=80,protocol="TCP"]');
  });
});
