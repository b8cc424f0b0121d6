// The storage.k8s.io CSI kinds' strategies through the real registry (SQLite in memory), against upstream's
// pkg/registry/storage/{csidriver,csinode,volumeattachment}/strategy.go: generation, no unconditional update, the
// VolumeAttachment status reset and kept, fields of features off in 1.33 (MutableCSINodeAllocatableCount) dropped.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { apiErrorOf, registryPerTest, type RegistryRequest } from '../../testing/registry-per-test.js';

const registry = registryPerTest({ group: 'storage.k8s.io' });
const api = (resource: string, req: RegistryRequest): Promise<any> =>
  registry.handle({ resource, ...req }).then((r) => r.body as KubeObject);
const refusal = apiErrorOf;

describe('csiDriverStrategy', () => {
  const driver = (): KubeObject => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'CSIDriver',
    metadata: { name: 'hostpath.csi.k8s.io' },
    spec: { attachRequired: false, nodeAllocatableUpdatePeriodSeconds: 60 },
  });

  it('PrepareForCreate: generation 1, nodeAllocatableUpdatePeriodSeconds dropped (MutableCSINodeAllocatableCount off)', async () => {
    const created = await api('csidrivers', { verb: 'create', body: driver() });
    expect(created.metadata.generation).toBe(1);
    expect(created.spec.nodeAllocatableUpdatePeriodSeconds).toBeUndefined();
  });

  it('PrepareForUpdate: generation bumped by a spec change; an update names its resourceVersion', async () => {
    const created = await api('csidrivers', { verb: 'create', body: driver() });
    const next = structuredClone(created);
    next.spec.podInfoOnMount = true;
    const updated = await api('csidrivers', { verb: 'update', name: created.metadata.name, body: next });
    expect(updated.metadata.generation).toBe(2);
    const relabelled = structuredClone(updated);
    relabelled.metadata.labels = { a: 'b' };
    expect(
      (await api('csidrivers', { verb: 'update', name: created.metadata.name, body: relabelled })).metadata
        .generation,
    ).toBe(2);
    delete relabelled.metadata.resourceVersion;
    const e = await refusal(
      api('csidrivers', { verb: 'update', name: created.metadata.name, body: relabelled }),
    );
    expect(e.message).toContain(
      'metadata.resourceVersion: Invalid value: 0: must be specified for an update',
    );
  });
});

describe('volumeAttachmentStrategy', () => {
  const va = (): KubeObject => ({
    apiVersion: 'storage.k8s.io/v1',
    kind: 'VolumeAttachment',
    metadata: { name: 'va-1' },
    spec: { attacher: 'hostpath.csi.k8s.io', nodeName: 'node-1', source: { persistentVolumeName: 'pv-1' } },
    status: { attached: true },
  });

  it('status reset on create, kept by main-resource updates; /status drops a new errorCode', async () => {
    const created = await api('volumeattachments', { verb: 'create', body: va() });
    expect(created.status).toEqual({ attached: false });
    const withStatus = structuredClone(created);
    withStatus.status = { attached: true, attachError: { message: 'boom', errorCode: 5 } };
    const written = await api('volumeattachments', {
      verb: 'update',
      name: 'va-1',
      subresource: 'status',
      body: withStatus,
    });
    expect(written.status).toEqual({ attached: true, attachError: { message: 'boom' } });
    const main = structuredClone(written);
    main.status = { attached: false };
    main.metadata.labels = { a: 'b' };
    const kept = await api('volumeattachments', { verb: 'update', name: 'va-1', body: main });
    expect(kept.status).toEqual(written.status);
  });
});

describe('csiNodeStrategy', () => {
  it('an update names its resourceVersion (AllowUnconditionalUpdate false)', async () => {
    const node = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSINode',
      metadata: { name: 'node-1' },
      spec: { drivers: [] },
    };
    const created = await api('csinodes', { verb: 'create', body: node });
    const next = structuredClone(created);
    delete next.metadata.resourceVersion;
    const e = await refusal(api('csinodes', { verb: 'update', name: 'node-1', body: next }));
    expect(e.message).toContain('must be specified for an update');
  });
});
