// The workload strategies through the real registry (SQLite in memory), against upstream's
// pkg/registry/{batch/job,apps/statefulset,apps/daemonset,core/persistentvolumeclaim}/strategy.go (release-1.33):
// status reset on create and kept on spec updates, generation bumped on spec changes only, the Job's generated
// selector, and the StatefulSet's alpha maxUnavailable dropped.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { apiErrorOf, registryPerTest, type RegistryRequest } from '../../testing/registry-per-test.js';

const registry = registryPerTest({ namespace: 'default' });

/** a request as the apiserver hands it over, answered with the body */
const api = (group: string, resource: string, req: RegistryRequest): Promise<any> =>
  registry.handle({ group, resource, ...req }).then((r) => r.body as KubeObject);

const invalidMessage = async (p: Promise<unknown>): Promise<string> => (await apiErrorOf(p)).message;

const container = { name: 'c', image: 'busybox' };

describe('jobStrategy', () => {
  const job = (): KubeObject => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [container] } } },
    status: { succeeded: 5 },
  });

  it('PrepareForCreate: generated selector and labels, status cleared, generation 1', async () => {
    const j = await api('batch', 'jobs', { verb: 'create', body: job() });
    const uid = j.metadata.uid;
    expect(j.spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    expect(j.spec.template.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': uid,
      'job-name': 'pi',
    });
    expect(j.status).toEqual({});
    expect(j.metadata.generation).toBe(1);
  });

  it('PrepareForUpdate: status kept, generation bumped by a spec change only; the selector is immutable', async () => {
    const j = await api('batch', 'jobs', { verb: 'create', body: job() });
    const labelled = await api('batch', 'jobs', {
      verb: 'update',
      name: 'pi',
      body: { ...j, metadata: { ...j.metadata, labels: { x: 'y' } }, status: { active: 3 } },
    });
    expect(labelled.metadata.generation).toBe(1);
    expect(labelled.status).toEqual({});
    const suspended = await api('batch', 'jobs', {
      verb: 'update',
      name: 'pi',
      body: { ...labelled, spec: { ...labelled.spec, suspend: true } },
    });
    expect(suspended.metadata.generation).toBe(2);
    const msg = await invalidMessage(
      api('batch', 'jobs', {
        verb: 'update',
        name: 'pi',
        body: { ...suspended, spec: { ...suspended.spec, selector: { matchLabels: { a: 'b' } } } },
      }),
    );
    expect(msg).toContain('spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: field is immutable');
  });
});

describe('statefulSetStrategy', () => {
  const sts = (): KubeObject => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } },
    },
  });

  it('drops a new rollingUpdate.maxUnavailable (MaxUnavailableStatefulSet is alpha, off)', async () => {
    const s = await api('apps', 'statefulsets', { verb: 'create', body: sts() });
    expect(s.spec.updateStrategy.rollingUpdate).toEqual({ partition: 0 });
    const updated = await api('apps', 'statefulsets', {
      verb: 'update',
      name: 'web',
      body: {
        ...s,
        spec: { ...s.spec, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } } },
      },
    });
    expect(updated.spec.updateStrategy.rollingUpdate).toEqual({ partition: 0 });
    expect(updated.metadata.generation).toBe(1);
  });

  it('refuses a change of volumeClaimTemplates with upstream words', async () => {
    const s = await api('apps', 'statefulsets', { verb: 'create', body: sts() });
    const msg = await invalidMessage(
      api('apps', 'statefulsets', {
        verb: 'update',
        name: 'web',
        body: {
          ...s,
          spec: {
            ...s.spec,
            volumeClaimTemplates: [
              {
                metadata: { name: 'www' },
                spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
              },
            ],
          },
        },
      }),
    );
    expect(msg).toBe(
      `StatefulSet.apps "web" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`,
    );
  });
});

describe('persistentVolumeClaimStrategy', () => {
  it('PrepareForCreate resets status to Pending; a class may be set once, then it is fixed', async () => {
    const c = await api('', 'persistentvolumeclaims', {
      verb: 'create',
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data' },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        status: { phase: 'Bound' },
      },
    });
    expect(c.status).toEqual({ phase: 'Pending' });
    // a claim without a class may be given one once (validateStorageClassUpgradeFromNil), not another
    const classed = await api('', 'persistentvolumeclaims', {
      verb: 'update',
      name: 'data',
      body: { ...c, spec: { ...c.spec, storageClassName: 'fast' } },
    });
    expect(classed.spec.storageClassName).toBe('fast');
    const msg = await invalidMessage(
      api('', 'persistentvolumeclaims', {
        verb: 'update',
        name: 'data',
        body: { ...classed, spec: { ...classed.spec, storageClassName: 'slow' } },
      }),
    );
    // upstream appends a Go cmp.Diff of its internal PersistentVolumeClaimSpec on further lines (not reproduced)
    expect(msg).toBe(
      'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    );
  });
});

describe('persistentvolumeclaimStrategy: DropDisabledFields and NormalizeDataSources', () => {
  it('mirrors dataSource into dataSourceRef and drops volumeAttributesClassName (VolumeAttributesClass off)', async () => {
    const c = await api('', 'persistentvolumeclaims', {
      verb: 'create',
      body: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'restore' },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
          dataSource: { kind: 'PersistentVolumeClaim', name: 'data' },
          volumeAttributesClassName: 'gold',
        },
      },
    });
    expect(c.spec.dataSourceRef).toEqual({ kind: 'PersistentVolumeClaim', name: 'data' });
    expect(c.spec.volumeAttributesClassName).toBeUndefined();
  });
});
