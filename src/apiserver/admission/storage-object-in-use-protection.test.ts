// upstream storageobjectinuseprotection/admission_test.go's cases.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { storageObjectInUseProtectionPlugin as plugin } from './storage-object-in-use-protection.js';
import { MemoryStore, attrs } from './testdata/memory-store.js';

const store = new MemoryStore();
const obj = (finalizers?: string[]): KubeObject => ({
  metadata: { name: 'o', namespace: 'ns', ...(finalizers ? { finalizers } : {}) },
  spec: {},
});
const admit = async (operation: 'CREATE' | 'UPDATE', resource: string, o: KubeObject, subresource = '') => {
  await plugin.admit!({ ...attrs(operation, resource, o), subresource }, store);
  return o.metadata?.finalizers;
};

describe('StorageObjectInUseProtection admission', () => {
  it('create PVC: adds kubernetes.io/pvc-protection', async () => {
    expect(await admit('CREATE', 'persistentvolumeclaims', obj())).toEqual(['kubernetes.io/pvc-protection']);
  });

  it('create PV: adds kubernetes.io/pv-protection', async () => {
    expect(await admit('CREATE', 'persistentvolumes', obj())).toEqual(['kubernetes.io/pv-protection']);
  });

  it('create PVC with the finalizer already there: no duplicate; other finalizers are kept', async () => {
    expect(await admit('CREATE', 'persistentvolumeclaims', obj(['kubernetes.io/pvc-protection']))).toEqual([
      'kubernetes.io/pvc-protection',
    ]);
    expect(await admit('CREATE', 'persistentvolumeclaims', obj(['example.com/x']))).toEqual([
      'example.com/x',
      'kubernetes.io/pvc-protection',
    ]);
  });

  it('updates, subresources and other kinds are left alone', async () => {
    expect(await admit('UPDATE', 'persistentvolumeclaims', obj())).toBeUndefined();
    expect(await admit('CREATE', 'persistentvolumeclaims', obj(), 'status')).toBeUndefined();
    expect(await admit('CREATE', 'pods', obj())).toBeUndefined();
  });
});
