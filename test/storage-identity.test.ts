// Integration: who may touch storage once kubelets are nodes (Node authorizer + NodeRestriction) — a kubelet reads the
// claims of its own pods and the volumes bound to them, one by one, and nothing else; the local-path provisioner in
// every kubelet acts as its own ServiceAccount (kube-system/local-path-provisioner-service-account, upstream's
// local-path-provisioner-role), which the apiserver's storage add-on creates with the default StorageClass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureComponentToken, ensureNodeToken } from '../src/apiserver/auth/token-file.js';
import { LOCAL_PATH_GROUPS, LOCAL_PATH_USER } from '../src/api/storage/local-path-addon.js';
import { startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { apiClient, type Api } from './helpers/http.js';
import { waitFor } from './helpers/wait.js';

let api: ApiServerProcess;
let call: Api;
let nodeToken: string;
let provisionerToken: string;

const pv = (name: string, claim?: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name },
  spec: {
    capacity: { storage: '1Gi' },
    accessModes: ['ReadWriteOnce'],
    storageClassName: 'manual',
    persistentVolumeReclaimPolicy: 'Retain',
    hostPath: { path: `/tmp/${name}` },
    ...(claim ? { claimRef: { namespace: 'default', name: claim } } : {}),
  },
});
const claim = (name: string, volumeName?: string) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: {
    accessModes: ['ReadWriteOnce'],
    storageClassName: 'manual',
    resources: { requests: { storage: '1Gi' } },
    ...(volumeName ? { volumeName } : {}),
  },
});
const pod = (name: string, nodeName: string, claimName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeName,
    containers: [{ name: 'c', image: 'busybox', volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
    volumes: [
      { name: 'data', persistentVolumeClaim: { claimName } },
      {
        name: 'scratch',
        ephemeral: {
          volumeClaimTemplate: {
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
          },
        },
      },
    ],
  },
});

beforeAll(async () => {
  api = await startApiServer();
  call = apiClient(api);
  nodeToken = ensureNodeToken(api.stateDir, 'node-a');
  provisionerToken = ensureComponentToken(api.stateDir, LOCAL_PATH_USER, LOCAL_PATH_GROUPS);
}, 60_000);

afterAll(async () => {
  await api?.cleanup();
});

describe('storage under the Node authorizer', () => {
  it('the apiserver installs the storage add-on: the provisioner ServiceAccount, its role and binding, the default class', async () => {
    const sa = await call(
      'GET',
      '/api/v1/namespaces/kube-system/serviceaccounts/local-path-provisioner-service-account',
    );
    expect(sa.status).toBe(200);
    const role = await call(
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/local-path-provisioner-role',
    );
    expect(role.status).toBe(200);
    const binding = await call(
      'GET',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/local-path-provisioner-bind',
    );
    expect(binding.body.subjects).toEqual([
      {
        kind: 'ServiceAccount',
        name: 'local-path-provisioner-service-account',
        namespace: 'kube-system',
      },
    ]);
    const sc = await call('GET', '/apis/storage.k8s.io/v1/storageclasses/standard');
    expect(sc.body).toMatchObject({
      provisioner: 'rancher.io/local-path',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Delete',
      metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
    });
  });

  it("a node gets its pods' claims and their bound volumes, one by one, and nothing else", async () => {
    expect((await call('POST', '/api/v1/persistentvolumes', pv('pv-a', 'data-a'))).status).toBe(201);
    expect((await call('POST', '/api/v1/persistentvolumes', pv('pv-b', 'data-b'))).status).toBe(201);
    const claims = '/api/v1/namespaces/default/persistentvolumeclaims';
    expect((await call('POST', claims, claim('data-a', 'pv-a'))).status).toBe(201);
    expect((await call('POST', claims, claim('data-b', 'pv-b'))).status).toBe(201);
    expect(
      (await call('POST', '/api/v1/namespaces/default/pods', pod('web-a', 'node-a', 'data-a'))).status,
    ).toBe(201);
    expect(
      (await call('POST', '/api/v1/namespaces/default/pods', pod('web-b', 'node-b', 'data-b'))).status,
    ).toBe(201);
    const asNode = { token: nodeToken };
    // the graph follows the registry through a watch: the pod's edges arrive a moment after its create
    await waitFor(
      "node-a's read of its pod's claim",
      async () => (await call('GET', `${claims}/data-a`, undefined, asNode)).status === 200,
    );
    await waitFor(
      "node-a's read of the volume bound to its pod's claim",
      async () => (await call('GET', '/api/v1/persistentvolumes/pv-a', undefined, asNode)).status === 200,
    );
    // a generic ephemeral volume's claim (<pod>-<volume>) is the pod's too, made or not
    expect((await call('GET', `${claims}/web-a-scratch`, undefined, asNode)).status).toBe(404);
    // another node's pod's claim and volume, any list, any write: refused with upstream's reason
    const other = await call('GET', `${claims}/data-b`, undefined, asNode);
    expect(other.status).toBe(403);
    expect(other.body.message).toContain(`no relationship found between node 'node-a' and this object`);
    expect((await call('GET', '/api/v1/persistentvolumes/pv-b', undefined, asNode)).status).toBe(403);
    expect((await call('GET', claims, undefined, asNode)).status).toBe(403);
    expect((await call('GET', '/api/v1/persistentvolumes', undefined, asNode)).status).toBe(403);
    expect((await call('POST', '/api/v1/persistentvolumes', pv('pv-node'), asNode)).status).toBe(403);
    const sc = await call(
      'POST',
      '/apis/storage.k8s.io/v1/storageclasses',
      { metadata: { name: 'by-node' }, provisioner: 'rancher.io/local-path' },
      asNode,
    );
    expect(sc.status).toBe(403);
  });

  it('the provisioner ServiceAccount watches claims and classes and writes PVs, and no more', async () => {
    const asProvisioner = { token: provisionerToken };
    const whoami = await call(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      asProvisioner,
    );
    expect(whoami.body.status.userInfo.username).toBe(
      'system:serviceaccount:kube-system:local-path-provisioner-service-account',
    );
    expect((await call('GET', '/api/v1/persistentvolumeclaims', undefined, asProvisioner)).status).toBe(200);
    expect(
      (await call('GET', '/apis/storage.k8s.io/v1/storageclasses', undefined, asProvisioner)).status,
    ).toBe(200);
    expect((await call('POST', '/api/v1/persistentvolumes', pv('pvc-made'), asProvisioner)).status).toBe(201);
    expect(
      (await call('DELETE', '/api/v1/persistentvolumes/pvc-made', undefined, asProvisioner)).status,
    ).toBe(200);
    const event = await call(
      'POST',
      '/api/v1/namespaces/default/events',
      {
        metadata: { name: 'data-a.provisioning' },
        involvedObject: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data-a' },
        reason: 'Provisioning',
        message: 'External provisioner is provisioning volume for claim "default/data-a"',
        type: 'Normal',
      },
      asProvisioner,
    );
    expect(event.status).toBe(201);
    // upstream's role gives it no StorageClass writes and no secrets
    const sc = await call(
      'POST',
      '/apis/storage.k8s.io/v1/storageclasses',
      { metadata: { name: 'by-provisioner' }, provisioner: 'rancher.io/local-path' },
      asProvisioner,
    );
    expect(sc.status).toBe(403);
    expect((await call('GET', '/api/v1/namespaces/default/secrets', undefined, asProvisioner)).status).toBe(
      403,
    );
  });

  it('an add-on object the user changed stays changed after a restart (EnsureExists)', async () => {
    const patch = await call(
      'PATCH',
      '/apis/storage.k8s.io/v1/storageclasses/standard',
      { metadata: { annotations: { 'storageclass.kubernetes.io/is-default-class': 'false' } } },
      { contentType: 'application/merge-patch+json' },
    );
    expect(patch.status).toBe(200);
    await api.kill();
    await api.restart();
    const sc = await call('GET', '/apis/storage.k8s.io/v1/storageclasses/standard');
    expect(sc.body.metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('false');
  }, 60_000);
});
