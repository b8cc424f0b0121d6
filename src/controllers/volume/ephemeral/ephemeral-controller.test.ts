import { afterEach, describe, expect, it } from 'vitest';
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { fakeCluster, until } from '../../../testing/fake-cluster.js';
import { EphemeralVolumeController } from './ephemeral-controller.js';

// concepts/storage/ephemeral-volumes: my-app
const myApp: Pod = {
  metadata: { name: 'my-app', namespace: 'default' },
  spec: {
    containers: [{ name: 'my-frontend', image: 'busybox:1.28', command: ['sleep', '1000000'] }],
    volumes: [
      {
        name: 'scratch-volume',
        ephemeral: {
          volumeClaimTemplate: {
            metadata: { labels: { type: 'my-frontend-volume' } },
            spec: {
              accessModes: ['ReadWriteOnce'],
              storageClassName: 'scratch-storage-class',
              resources: { requests: { storage: '1Gi' } },
            },
          },
        },
      },
    ],
  },
};

describe('EphemeralVolumeController', () => {
  let ctrl: EphemeralVolumeController | undefined;
  afterEach(() => ctrl?.stop());

  it('creates <pod>-<volume> from the template, owned by the pod, and again when it is deleted under the pod', async () => {
    const c = await fakeCluster();
    ctrl = new EphemeralVolumeController({ client: c.client, informers: c.informers });
    await ctrl.run();
    const pod = await c.client.pods.create(myApp);
    const claims = (): PersistentVolumeClaim[] => c.objects<PersistentVolumeClaim>('persistentvolumeclaims');
    await until(() => claims().length === 1, 'claim');
    const claim = claims()[0];
    expect(claim.metadata?.name).toBe('my-app-scratch-volume');
    expect(claim.metadata?.labels).toEqual({ type: 'my-frontend-volume' });
    expect(claim.spec?.storageClassName).toBe('scratch-storage-class');
    expect(claim.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'my-app',
        uid: pod.metadata!.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    await c.client
      .resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims')
      .delete('my-app-scratch-volume', { namespace: 'default' });
    await until(() => claims().length === 0, 'deleted');
    await until(() => claims().length === 1, 'made again');
  });
});
