import { describe, it, expect } from 'vitest';
import { ApiError } from '../errors.js';
import type { KubeObject } from '../request.js';
import {
  convertObject,
  METRIC_SPECS_ANNOTATION,
  METRIC_STATUSES_ANNOTATION,
  CONDITIONS_ANNOTATION,
} from './index.js';

const hpaV2 = (): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default', annotations: { owner: 'me' } },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 5,
    metrics: [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } },
      },
      {
        type: 'Resource',
        resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } },
      },
    ],
  },
  status: {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [
      {
        type: 'Resource',
        resource: { name: 'cpu', current: { averageUtilization: 70, averageValue: '350m' } },
      },
    ],
    conditions: [
      {
        type: 'AbleToScale',
        status: 'True',
        lastTransitionTime: '2024-05-01T10:00:00Z',
        reason: 'ReadyForNewScale',
        message: 'ok',
      },
    ],
  },
});

describe('HPA autoscaling/v2 ⇄ v1', () => {
  it('v2 → v1 keeps the CPU target as a field and the rest in annotations, as upstream', () => {
    const v1 = convertObject(hpaV2(), 'autoscaling/v1') as any;
    expect(v1.apiVersion).toBe('autoscaling/v1');
    expect(v1.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      targetCPUUtilizationPercentage: 50,
    });
    expect(v1.status).toEqual({
      currentReplicas: 2,
      desiredReplicas: 3,
      currentCPUUtilizationPercentage: 70,
    });
    expect(JSON.parse(v1.metadata.annotations[METRIC_SPECS_ANNOTATION])).toEqual([
      { type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } },
    ]);
    expect(JSON.parse(v1.metadata.annotations[METRIC_STATUSES_ANNOTATION])).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', currentAverageUtilization: 70, currentAverageValue: '350m' },
      },
    ]);
    expect(JSON.parse(v1.metadata.annotations[CONDITIONS_ANNOTATION])).toHaveLength(1);
    expect(v1.metadata.annotations.owner).toBe('me');
  });

  it('v2 → v1 → v2 round-trips (metrics order: annotation metrics, then CPU)', () => {
    const original = hpaV2();
    const back = convertObject(convertObject(original, 'autoscaling/v1'), 'autoscaling/v2') as any;
    expect(back.metadata).toEqual(original.metadata);
    expect(back.status).toEqual(original.status);
    const metrics = (original.spec as any).metrics;
    expect(back.spec.metrics).toEqual([metrics[1], metrics[0]]);
    expect(original.apiVersion).toBe('autoscaling/v2');
  });

  it('v1 → v2 → v1 round-trips, and a v1 HPA without a target gets the 80% CPU default', () => {
    const v1: KubeObject = {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        minReplicas: 2,
        maxReplicas: 4,
        targetCPUUtilizationPercentage: 60,
      },
      status: { currentReplicas: 2, desiredReplicas: 2 },
    };
    expect(convertObject(convertObject(v1, 'autoscaling/v2'), 'autoscaling/v1')).toEqual(v1);
    const noTarget = { ...v1, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 4 } };
    const v2 = convertObject(noTarget, 'autoscaling/v2') as any;
    expect(v2.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
      },
    ]);
  });
});

describe('Event core/v1 ⇄ events.k8s.io/v1', () => {
  const coreEvent: KubeObject = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'web-1.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default' },
    reason: 'Scheduled',
    message: 'Successfully assigned',
    type: 'Normal',
    source: { component: 'default-scheduler' },
    firstTimestamp: '2024-05-01T10:00:00Z',
    lastTimestamp: '2024-05-01T10:00:00Z',
    count: 1,
    reportingComponent: 'default-scheduler',
    reportingInstance: 'sched-1',
  };

  it('renames fields as upstream', () => {
    expect(convertObject(coreEvent, 'events.k8s.io/v1')).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: coreEvent.metadata,
      regarding: coreEvent.involvedObject,
      reason: 'Scheduled',
      note: 'Successfully assigned',
      type: 'Normal',
      deprecatedSource: { component: 'default-scheduler' },
      deprecatedFirstTimestamp: '2024-05-01T10:00:00Z',
      deprecatedLastTimestamp: '2024-05-01T10:00:00Z',
      deprecatedCount: 1,
      reportingController: 'default-scheduler',
      reportingInstance: 'sched-1',
    });
  });

  it('round-trips both ways', () => {
    expect(convertObject(convertObject(coreEvent, 'events.k8s.io/v1'), 'v1')).toEqual(coreEvent);
  });
});

describe('convertObject', () => {
  it('is the identity when versions match', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } };
    expect(convertObject(pod, 'v1')).toBe(pod);
  });

  it('refuses conversions it does not know with an ApiError', () => {
    expect(() => convertObject({ apiVersion: 'v1', kind: 'Pod' }, 'apps/v1')).toThrow(ApiError);
  });
});
