// autoscaling defaulting: v2 (upstream pkg/apis/autoscaling/v2/defaults.go) and v1 (minReplicas only).
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HPAScalingRules, HorizontalPodAutoscaler as HpaV2 } from 'kubernetes-types/autoscaling/v2.js';

/** autoscaling.DefaultCPUUtilization */
export const DEFAULT_CPU_UTILIZATION = 80;

const scaleUpRules = (): HPAScalingRules => ({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
});
// stabilizationWindowSeconds stays unset: the controller's --horizontal-pod-autoscaler-downscale-stabilization applies
const scaleDownRules = (): HPAScalingRules => ({
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
});

function fillRules(from: HPAScalingRules | undefined, to: HPAScalingRules): HPAScalingRules {
  if (!from) return to;
  if (from.selectPolicy !== undefined) to.selectPolicy = from.selectPolicy;
  if (from.stabilizationWindowSeconds !== undefined)
    to.stabilizationWindowSeconds = from.stabilizationWindowSeconds;
  if (from.policies !== undefined) to.policies = from.policies;
  return to;
}

export function defaultHpaV2(hpa: HpaV2): void {
  const spec = (hpa.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } });
  if (spec.minReplicas === undefined) spec.minReplicas = 1;
  if (!spec.metrics || spec.metrics.length === 0) {
    spec.metrics = [
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION },
        },
      },
    ];
  }
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, scaleUpRules());
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, scaleDownRules());
  }
  // HorizontalPodAutoscalerStatus.desiredReplicas has no omitempty
  hpa.status ??= { desiredReplicas: 0 };
  if (hpa.status.desiredReplicas === undefined) hpa.status.desiredReplicas = 0;
}

export function defaultHpaV1(hpa: HpaV1): void {
  const spec = (hpa.spec ??= { maxReplicas: 0, scaleTargetRef: { kind: '', name: '' } });
  if (spec.minReplicas === undefined) spec.minReplicas = 1;
  hpa.status ??= { currentReplicas: 0, desiredReplicas: 0 };
  hpa.status.currentReplicas ??= 0;
  hpa.status.desiredReplicas ??= 0;
}
