// DefaultStorageClass and DefaultIngressClass admission: a claim or an Ingress without a class gets the default.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { defaultIngressClassPlugin } from './default-ingress-class.js';
import { defaultStorageClassPlugin } from './default-storage-class.js';
import { MemoryStore, attrs } from './testdata/memory-store.js';

const cls = (name: string, annotation: string, value: string, created: string): KubeObject => ({
  metadata: { name, annotations: { [annotation]: value }, creationTimestamp: created },
});
const SC = 'storageclass.kubernetes.io/is-default-class';
const IC = 'ingressclass.kubernetes.io/is-default-class';

describe('DefaultStorageClass admission', () => {
  const store = new MemoryStore()
    .put('storage.k8s.io', 'storageclasses', cls('old', SC, 'true', '2024-01-01T00:00:00Z'))
    .put('storage.k8s.io', 'storageclasses', cls('new', SC, 'true', '2025-01-01T00:00:00Z'))
    .put('storage.k8s.io', 'storageclasses', cls('no', SC, 'false', '2026-01-01T00:00:00Z'));
  const pvc = (spec: Record<string, unknown>): KubeObject => ({
    metadata: { name: 'c', namespace: 'ns' },
    spec,
  });

  it('gives a claim without a class the newest default one', async () => {
    const c = pvc({});
    await defaultStorageClassPlugin.admit!(attrs('CREATE', 'persistentvolumeclaims', c), store);
    expect(c['spec']).toEqual({ storageClassName: 'new' });
  });

  it('leaves an explicit class, even "", alone', async () => {
    const c = pvc({ storageClassName: '' });
    await defaultStorageClassPlugin.admit!(attrs('CREATE', 'persistentvolumeclaims', c), store);
    expect(c['spec']).toEqual({ storageClassName: '' });
  });

  it('does nothing without a default', async () => {
    const c = pvc({});
    await defaultStorageClassPlugin.admit!(attrs('CREATE', 'persistentvolumeclaims', c), new MemoryStore());
    expect(c['spec']).toEqual({});
  });
});

describe('DefaultIngressClass admission', () => {
  const store = new MemoryStore().put(
    'networking.k8s.io',
    'ingressclasses',
    cls('kubemu', IC, 'true', '2024-01-01T00:00:00Z'),
  );
  const ing = (meta: Record<string, unknown>, spec: Record<string, unknown>): KubeObject => ({
    metadata: { name: 'i', namespace: 'ns', ...meta },
    spec,
  });
  const admit = (o: KubeObject) =>
    defaultIngressClassPlugin.admit!(attrs('CREATE', 'ingresses', o, { group: 'networking.k8s.io' }), store);

  it('gives an Ingress without a class the default IngressClass', async () => {
    const i = ing({}, {});
    await admit(i);
    expect(i['spec']).toEqual({ ingressClassName: 'kubemu' });
  });

  it('leaves a class, or the legacy annotation, alone', async () => {
    const named = ing({}, { ingressClassName: 'other' });
    await admit(named);
    expect(named['spec']).toEqual({ ingressClassName: 'other' });
    const legacy = ing({ annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, {});
    await admit(legacy);
    expect(legacy['spec']).toEqual({});
  });
});
