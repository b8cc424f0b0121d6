// Defaulting of the workload and storage kinds (#18), as upstream's SetDefaults_* for 1.33.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../request.js';
import { applyDefaults } from './index.js';

function defaulted(group: string, kind: string, body: object): any {
  const obj = structuredClone(body) as KubeObject;
  applyDefaults({ group, version: 'v1', kind }, obj);
  return obj;
}

const podTemplate = (restartPolicy?: string) => ({
  metadata: { labels: { app: 'x' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.28' }], ...(restartPolicy ? { restartPolicy } : {}) },
});

describe('Job', () => {
  it('defaults a non-parallel job to one completion, backoffLimit 6 and the 1.33 policies', () => {
    const job = defaulted('batch', 'Job', {
      metadata: { name: 'pi' },
      spec: { template: podTemplate('Never') },
    });
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: 'NonIndexed',
      suspend: false,
      podReplacementPolicy: 'TerminatingOrFailed',
      manualSelector: false,
    });
    expect(job.spec.template.spec).toMatchObject({
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
    });
    expect(job.metadata.labels).toEqual({ app: 'x' });
  });

  it('leaves completions unset for a parallel work queue; backoffLimitPerIndex means MaxInt32 backoffLimit', () => {
    const job = defaulted('batch', 'Job', {
      spec: { parallelism: 3, backoffLimitPerIndex: 1, template: podTemplate('Never') },
    });
    expect(job.spec.completions).toBeUndefined();
    expect(job.spec.backoffLimit).toBe(2147483647);
  });

  it('a pod failure policy means podReplacementPolicy Failed and condition status True', () => {
    const job = defaulted('batch', 'Job', {
      spec: {
        template: podTemplate('Never'),
        podFailurePolicy: { rules: [{ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] }] },
      },
    });
    expect(job.spec.podReplacementPolicy).toBe('Failed');
    expect(job.spec.podFailurePolicy.rules[0].onPodConditions[0].status).toBe('True');
  });
});

describe('CronJob', () => {
  it('defaults concurrency, suspend and history limits', () => {
    const cj = defaulted('batch', 'CronJob', {
      spec: { schedule: '* * * * *', jobTemplate: { spec: { template: podTemplate('OnFailure') } } },
    });
    expect(cj.spec).toMatchObject({
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
    });
    expect(cj.spec.jobTemplate.metadata).toEqual({ creationTimestamp: null });
    expect(cj.spec.jobTemplate.spec.template.spec.schedulerName).toBe('default-scheduler');
  });
});

describe('StatefulSet and DaemonSet', () => {
  it('defaults a StatefulSet as upstream (maxUnavailable stays unset: its gate is alpha)', () => {
    const sts = defaulted('apps', 'StatefulSet', {
      spec: {
        selector: { matchLabels: { app: 'x' } },
        template: podTemplate(),
        volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }],
      },
    });
    expect(sts.spec).toMatchObject({
      podManagementPolicy: 'OrderedReady',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      replicas: 1,
      revisionHistoryLimit: 10,
    });
    expect(sts.spec.updateStrategy.rollingUpdate.maxUnavailable).toBeUndefined();
    expect(sts.spec.volumeClaimTemplates[0]).toMatchObject({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      spec: { volumeMode: 'Filesystem' },
      status: { phase: 'Pending' },
    });
  });

  it('defaults a DaemonSet rolling update to maxUnavailable 1, maxSurge 0', () => {
    const ds = defaulted('apps', 'DaemonSet', { spec: { selector: {}, template: podTemplate() } });
    expect(ds.spec.updateStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    expect(ds.spec.revisionHistoryLimit).toBe(10);
  });
});

describe('core kinds', () => {
  it('a ReplicationController takes its selector and labels from the template', () => {
    const rc = defaulted('', 'ReplicationController', {
      metadata: { name: 'x' },
      spec: { template: podTemplate() },
    });
    expect(rc.spec.selector).toEqual({ app: 'x' });
    expect(rc.metadata.labels).toEqual({ app: 'x' });
    expect(rc.spec.replicas).toBe(1);
  });

  it('PersistentVolumes are Retain, Filesystem and Pending; a hostPath gets its empty type', () => {
    const pv = defaulted('', 'PersistentVolume', { spec: { hostPath: { path: '/mnt/data' } } });
    expect(pv.spec).toMatchObject({
      persistentVolumeReclaimPolicy: 'Retain',
      volumeMode: 'Filesystem',
      hostPath: { path: '/mnt/data', type: '' },
    });
    expect(pv.status).toEqual({ phase: 'Pending' });
  });

  it('PersistentVolumeClaims are Filesystem and Pending', () => {
    const pvc = defaulted('', 'PersistentVolumeClaim', { spec: { accessModes: ['ReadWriteOnce'] } });
    expect(pvc.spec.volumeMode).toBe('Filesystem');
    expect(pvc.status).toEqual({ phase: 'Pending' });
  });
});

describe('CSIDriver', () => {
  it('gets upstream 1.33 defaults', () => {
    const d = defaulted('storage.k8s.io', 'CSIDriver', { metadata: { name: 'csi.example.com' }, spec: {} });
    expect(d.spec).toEqual({
      attachRequired: true,
      podInfoOnMount: false,
      storageCapacity: false,
      fsGroupPolicy: 'ReadWriteOnceWithFSType',
      volumeLifecycleModes: ['Persistent'],
      requiresRepublish: false,
      seLinuxMount: false,
    });
  });
});
