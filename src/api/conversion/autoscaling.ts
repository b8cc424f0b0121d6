// HorizontalPodAutoscaler autoscaling/v2 ⇄ autoscaling/v1, as upstream's pkg/apis/autoscaling/v1/conversion.go:
// what v1 cannot express travels in the autoscaling.alpha.kubernetes.io/* annotations.
import type {
  HorizontalPodAutoscaler as HpaV1,
  HorizontalPodAutoscalerStatus as HpaStatusV1,
} from 'kubernetes-types/autoscaling/v1.js';
import type {
  HorizontalPodAutoscaler as HpaV2,
  HorizontalPodAutoscalerCondition,
  HorizontalPodAutoscalerStatus as HpaStatusV2,
  MetricSpec,
  MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import type { LabelSelector, ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { DEFAULT_CPU_UTILIZATION } from '../defaults/autoscaling.js';

export const METRIC_SPECS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const METRIC_STATUSES_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';

/** autoscaling/v1's MetricSpec (the v2beta1 shape), only ever seen inside the annotation */
interface V1MetricSpec {
  type: string;
  object?: {
    target: CrossRef;
    metricName: string;
    targetValue: string;
    selector?: LabelSelector;
    averageValue?: string;
  };
  pods?: { metricName: string; targetAverageValue: string; selector?: LabelSelector };
  resource?: { name: string; targetAverageUtilization?: number; targetAverageValue?: string };
  containerResource?: {
    name: string;
    targetAverageUtilization?: number;
    targetAverageValue?: string;
    container: string;
  };
  external?: {
    metricName: string;
    metricSelector?: LabelSelector;
    targetValue?: string;
    targetAverageValue?: string;
  };
}
interface V1MetricStatus {
  type: string;
  object?: {
    target: CrossRef;
    metricName: string;
    currentValue: string;
    selector?: LabelSelector;
    averageValue?: string;
  };
  pods?: { metricName: string; currentAverageValue: string; selector?: LabelSelector };
  resource?: { name: string; currentAverageUtilization?: number; currentAverageValue: string };
  containerResource?: {
    name: string;
    currentAverageUtilization?: number;
    currentAverageValue: string;
    container: string;
  };
  external?: {
    metricName: string;
    metricSelector?: LabelSelector;
    currentValue: string;
    currentAverageValue?: string;
  };
}
interface CrossRef {
  kind: string;
  name: string;
  apiVersion?: string;
}

const clean = <T extends object>(o: T): T => {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
};

function metricSpecToV1(m: MetricSpec): V1MetricSpec {
  const out: V1MetricSpec = { type: m.type };
  if (m.object) {
    out.object = clean({
      target: clean({
        kind: m.object.describedObject.kind,
        name: m.object.describedObject.name,
        apiVersion: m.object.describedObject.apiVersion,
      }),
      metricName: m.object.metric.name,
      targetValue: m.object.target.value ?? '0',
      selector: m.object.metric.selector,
      averageValue: m.object.target.averageValue,
    });
  }
  if (m.pods)
    out.pods = clean({
      metricName: m.pods.metric.name,
      targetAverageValue: m.pods.target.averageValue ?? '0',
      selector: m.pods.metric.selector,
    });
  if (m.resource) {
    out.resource = clean({
      name: m.resource.name,
      targetAverageUtilization: m.resource.target.averageUtilization,
      targetAverageValue: m.resource.target.averageValue,
    });
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = clean({
      name: c.name,
      container: c.container,
      targetAverageUtilization: c.target.averageUtilization,
      targetAverageValue: c.target.averageValue,
    });
  }
  if (m.external) {
    out.external = clean({
      metricName: m.external.metric.name,
      metricSelector: m.external.metric.selector,
      targetValue: m.external.target.value,
      targetAverageValue: m.external.target.averageValue,
    });
  }
  return out;
}

function metricSpecFromV1(m: V1MetricSpec): MetricSpec {
  const out: MetricSpec = { type: m.type };
  if (m.object) {
    out.object = {
      describedObject: clean({
        kind: m.object.target.kind,
        name: m.object.target.name,
        apiVersion: m.object.target.apiVersion,
      }),
      metric: clean({ name: m.object.metricName, selector: m.object.selector }),
      target: clean({
        type: m.object.averageValue === undefined ? 'Value' : 'AverageValue',
        value: m.object.targetValue,
        averageValue: m.object.averageValue,
      }),
    };
  }
  if (m.pods) {
    out.pods = {
      metric: clean({ name: m.pods.metricName, selector: m.pods.selector }),
      target: { type: 'AverageValue', averageValue: m.pods.targetAverageValue },
    };
  }
  if (m.resource) {
    const u = m.resource.targetAverageUtilization;
    out.resource = {
      name: m.resource.name,
      target: clean({
        type: u === undefined ? 'AverageValue' : 'Utilization',
        averageUtilization: u,
        averageValue: m.resource.targetAverageValue,
      }),
    };
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = {
      name: c.name,
      container: c.container,
      target: clean({
        type: c.targetAverageUtilization === undefined ? 'AverageValue' : 'Utilization',
        averageUtilization: c.targetAverageUtilization,
        averageValue: c.targetAverageValue,
      }),
    };
  }
  if (m.external) {
    out.external = {
      metric: clean({ name: m.external.metricName, selector: m.external.metricSelector }),
      target: clean({
        type: m.external.targetValue === undefined ? 'AverageValue' : 'Value',
        value: m.external.targetValue,
        averageValue: m.external.targetAverageValue,
      }),
    };
  }
  return out;
}

function metricStatusToV1(m: MetricStatus): V1MetricStatus {
  const out: V1MetricStatus = { type: m.type };
  if (m.object) {
    out.object = clean({
      target: clean({
        kind: m.object.describedObject.kind,
        name: m.object.describedObject.name,
        apiVersion: m.object.describedObject.apiVersion,
      }),
      metricName: m.object.metric.name,
      currentValue: m.object.current.value ?? '0',
      selector: m.object.metric.selector,
      averageValue: m.object.current.averageValue,
    });
  }
  if (m.pods)
    out.pods = clean({
      metricName: m.pods.metric.name,
      currentAverageValue: m.pods.current.averageValue ?? '0',
      selector: m.pods.metric.selector,
    });
  if (m.resource) {
    out.resource = clean({
      name: m.resource.name,
      currentAverageUtilization: m.resource.current.averageUtilization,
      currentAverageValue: m.resource.current.averageValue ?? '0',
    });
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = clean({
      name: c.name,
      container: c.container,
      currentAverageUtilization: c.current.averageUtilization,
      currentAverageValue: c.current.averageValue ?? '0',
    });
  }
  if (m.external) {
    out.external = clean({
      metricName: m.external.metric.name,
      metricSelector: m.external.metric.selector,
      currentValue: m.external.current.value ?? '0',
      currentAverageValue: m.external.current.averageValue,
    });
  }
  return out;
}

function metricStatusFromV1(m: V1MetricStatus): MetricStatus {
  const out: MetricStatus = { type: m.type };
  if (m.object) {
    out.object = {
      describedObject: clean({
        kind: m.object.target.kind,
        name: m.object.target.name,
        apiVersion: m.object.target.apiVersion,
      }),
      metric: clean({ name: m.object.metricName, selector: m.object.selector }),
      current: clean({ value: m.object.currentValue, averageValue: m.object.averageValue }),
    };
  }
  if (m.pods)
    out.pods = {
      metric: clean({ name: m.pods.metricName, selector: m.pods.selector }),
      current: { averageValue: m.pods.currentAverageValue },
    };
  if (m.resource) {
    out.resource = {
      name: m.resource.name,
      current: clean({
        averageUtilization: m.resource.currentAverageUtilization,
        averageValue: m.resource.currentAverageValue,
      }),
    };
  }
  if (m.containerResource) {
    const c = m.containerResource;
    out.containerResource = {
      name: c.name,
      container: c.container,
      current: clean({
        averageUtilization: c.currentAverageUtilization,
        averageValue: c.currentAverageValue,
      }),
    };
  }
  if (m.external) {
    out.external = {
      metric: clean({ name: m.external.metricName, selector: m.external.metricSelector }),
      current: clean({ value: m.external.currentValue, averageValue: m.external.currentAverageValue }),
    };
  }
  return out;
}

const isCpuUtilization = (m: MetricSpec): boolean =>
  m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource.target.averageUtilization !== undefined;

export function hpaV2ToV1(hpa: HpaV2): HpaV1 {
  const spec = hpa.spec;
  const metrics = spec?.metrics ?? [];
  const cpu = metrics.find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
  const others = metrics.filter((m) => !isCpuUtilization(m)).map(metricSpecToV1);
  const status: HpaStatusV2 | undefined = hpa.status;
  const annotations: Record<string, string> = { ...(hpa.metadata?.annotations ?? {}) };
  if (others.length > 0) annotations[METRIC_SPECS_ANNOTATION] = JSON.stringify(others);
  if (status?.currentMetrics?.length)
    annotations[METRIC_STATUSES_ANNOTATION] = JSON.stringify(status.currentMetrics.map(metricStatusToV1));
  if (status?.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
  const metadata: ObjectMeta = { ...(hpa.metadata ?? {}) };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  const out: HpaV1 = {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: clean({
      scaleTargetRef: spec?.scaleTargetRef ?? { kind: '', name: '' },
      minReplicas: spec?.minReplicas,
      maxReplicas: spec?.maxReplicas ?? 0,
      targetCPUUtilizationPercentage: cpu?.resource?.target.averageUtilization,
    }),
  };
  if (status) {
    const cpuStatus = status.currentMetrics?.find(
      (m) =>
        m.type === 'Resource' &&
        m.resource?.name === 'cpu' &&
        m.resource.current.averageUtilization !== undefined,
    );
    (out as { status?: HpaStatusV1 }).status = clean({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas,
      currentCPUUtilizationPercentage: cpuStatus?.resource?.current.averageUtilization,
    });
  }
  return out;
}

/** the annotation's list, converted; undefined when absent or not what upstream wrote (then it stays an annotation) */
function fromAnnotation<T, U>(value: string | undefined, convert: (item: T) => U): U[] | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'object' && x !== null)) return undefined;
    return (parsed as T[]).map(convert);
  } catch {
    // a hand-edited annotation that does not convert: keep it as it is
    return undefined;
  }
}

export function hpaV1ToV2(hpa: HpaV1): HpaV2 {
  const annotations = { ...(hpa.metadata?.annotations ?? {}) };
  const spec = hpa.spec;
  let metrics: MetricSpec[] = [];
  if (spec?.targetCPUUtilizationPercentage !== undefined) {
    metrics = [
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage },
        },
      },
    ];
  }
  const others = fromAnnotation(annotations[METRIC_SPECS_ANNOTATION], metricSpecFromV1);
  if (others) {
    metrics = [...others, ...metrics];
    delete annotations[METRIC_SPECS_ANNOTATION];
  }
  // autoscaling/v1's implicit default, made explicit as upstream's conversion does
  if (metrics.length === 0) {
    metrics = [
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION },
        },
      },
    ];
  }
  const v1Status = hpa.status;
  let status: HpaStatusV2 | undefined;
  if (v1Status) {
    status = clean({
      observedGeneration: v1Status.observedGeneration,
      lastScaleTime: v1Status.lastScaleTime,
      currentReplicas: v1Status.currentReplicas,
      desiredReplicas: v1Status.desiredReplicas,
      currentMetrics:
        v1Status.currentCPUUtilizationPercentage !== undefined
          ? [
              {
                type: 'Resource',
                resource: {
                  name: 'cpu',
                  current: { averageUtilization: v1Status.currentCPUUtilizationPercentage },
                },
              },
            ]
          : undefined,
    });
  }
  const currentMetrics = fromAnnotation(annotations[METRIC_STATUSES_ANNOTATION], metricStatusFromV1);
  if (currentMetrics) {
    status ??= { desiredReplicas: 0 };
    status.currentMetrics = currentMetrics;
    delete annotations[METRIC_STATUSES_ANNOTATION];
  }
  const conditions = fromAnnotation(
    annotations[CONDITIONS_ANNOTATION],
    (c: HorizontalPodAutoscalerCondition) => c,
  );
  if (conditions) {
    status ??= { desiredReplicas: 0 };
    status.conditions = conditions;
    delete annotations[CONDITIONS_ANNOTATION];
  }
  const metadata: ObjectMeta = { ...(hpa.metadata ?? {}) };
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;
  const out: HpaV2 = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: clean({
      scaleTargetRef: spec?.scaleTargetRef ?? { kind: '', name: '' },
      minReplicas: spec?.minReplicas,
      maxReplicas: spec?.maxReplicas ?? 0,
      metrics,
    }),
  };
  if (status) (out as { status?: HpaStatusV2 }).status = status;
  return out;
}
