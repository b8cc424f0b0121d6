// upstream's replica normalization (horizontal.go): stabilization windows, scale-rate limits and `behavior` policies,
// remembered per HPA key; it decides the AbleToScale and ScalingLimited conditions' reasons.
import type { HPAScalingRules, HorizontalPodAutoscalerBehavior } from 'kubernetes-types/autoscaling/v2.js';
import type { Clock } from '../../util/clock.js';

export interface ConditionUpdate {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface Normalized {
  replicas: number;
  ableToScale: ConditionUpdate;
  scalingLimited: ConditionUpdate;
}

export interface Recommendation {
  replicas: number;
  at: number;
}
export interface ScaleEvent {
  change: number;
  at: number;
}

const SCALE_UP_LIMIT_FACTOR = 2.0;
const SCALE_UP_LIMIT_MINIMUM = 4.0;

/** GenerateHPAScaleUpRules: 0 s window, Max of (4 pods, 100%) per 15 s */
export function scaleUpRules(r: HPAScalingRules | undefined): Required<HPAScalingRules> {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? 0,
    selectPolicy: r?.selectPolicy ?? 'Max',
    policies: r?.policies ?? [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** GenerateHPAScaleDownRules: the controller's downscale window, 100% per 15 s */
export function scaleDownRules(
  r: HPAScalingRules | undefined,
  defaultWindowSeconds: number,
): Required<HPAScalingRules> {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? defaultWindowSeconds,
    selectPolicy: r?.selectPolicy ?? 'Max',
    policies: r?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

const READY = {
  status: 'True',
  reason: 'ReadyForNewScale',
  message: 'recommended size matches current size',
} as const;
const WITHIN = {
  reason: 'DesiredWithinRange',
  message: 'the desired count is within the acceptable range',
} as const;

export class ScaleNormalizer {
  private readonly recommendations = new Map<string, Recommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();

  constructor(
    private readonly clock: Clock,
    /** --horizontal-pod-autoscaler-downscale-stabilization */
    private readonly downscaleStabilizationMs: number,
  ) {}

  /** recordInitialRecommendation: the current size is the first recommendation */
  recordInitial(key: string, currentReplicas: number): void {
    if (!this.recommendations.has(key))
      this.recommendations.set(key, [{ replicas: currentReplicas, at: this.clock.now() }]);
  }

  /** replaces the remembered history of an HPA, as upstream's tests do by filling the controller's maps */
  seed(
    key: string,
    history: {
      recommendations?: Recommendation[];
      scaleUpEvents?: ScaleEvent[];
      scaleDownEvents?: ScaleEvent[];
    },
  ): void {
    if (history.recommendations) this.recommendations.set(key, [...history.recommendations]);
    if (history.scaleUpEvents) this.scaleUpEvents.set(key, [...history.scaleUpEvents]);
    if (history.scaleDownEvents) this.scaleDownEvents.set(key, [...history.scaleDownEvents]);
  }

  /** the recommendations remembered for an HPA, oldest slot first */
  recommendationsOf(key: string): readonly Recommendation[] {
    return this.recommendations.get(key) ?? [];
  }

  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  /** normalizeDesiredReplicas: the path for an HPA without `behavior` */
  normalize(key: string, current: number, desired: number, min: number, max: number): Normalized {
    const stabilized = this.stabilize(key, desired);
    const ableToScale: ConditionUpdate =
      stabilized !== desired
        ? {
            status: 'True',
            reason: 'ScaleDownStabilized',
            message:
              'recent recommendations were higher than current one, applying the highest recent recommendation',
          }
        : READY;
    const scaleUpLimit = Math.trunc(Math.max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM));
    const [maxAllowed, maxReason, maxMessage] =
      max > scaleUpLimit
        ? [
            scaleUpLimit,
            'ScaleUpLimit',
            'the desired replica count is increasing faster than the maximum scale rate',
          ]
        : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    // upstream convertDesiredReplicasWithRules: minReplicas 0 (HPAScaleToZero) is itself the floor
    const minAllowed = min;
    const minMessage = 'the desired replica count is less than the minimum replica count';
    let out = { replicas: stabilized, reason: WITHIN.reason as string, message: WITHIN.message as string };
    if (stabilized < minAllowed)
      out = { replicas: minAllowed, reason: 'TooFewReplicas', message: minMessage };
    else if (stabilized > maxAllowed) out = { replicas: maxAllowed, reason: maxReason, message: maxMessage };
    return {
      replicas: out.replicas,
      ableToScale,
      scalingLimited: {
        status: out.replicas === stabilized ? 'False' : 'True',
        reason: out.reason,
        message: out.message,
      },
    };
  }

  /** stabilizeRecommendation: the highest recommendation within the downscale window */
  private stabilize(key: string, desired: number): number {
    const now = this.clock.now();
    const cutoff = now - this.downscaleStabilizationMs;
    const recs = this.recommendations.get(key) ?? [];
    let max = desired;
    let oldIndex = -1;
    recs.forEach((r, i) => {
      if (r.at < cutoff) oldIndex = i;
      else if (r.replicas > max) max = r.replicas;
    });
    if (oldIndex >= 0) recs[oldIndex] = { replicas: desired, at: now };
    else recs.push({ replicas: desired, at: now });
    this.recommendations.set(key, recs);
    return max;
  }

  /** normalizeDesiredReplicasWithBehaviors */
  normalizeWithBehavior(
    key: string,
    behavior: HorizontalPodAutoscalerBehavior,
    current: number,
    desired: number,
    min: number,
    max: number,
  ): Normalized {
    const up = scaleUpRules(behavior.scaleUp);
    const down = scaleDownRules(behavior.scaleDown, Math.round(this.downscaleStabilizationMs / 1000));
    const {
      replicas: stabilized,
      reason,
      message,
    } = this.stabilizeWithBehavior(key, up, down, current, desired);
    const ableToScale: ConditionUpdate = stabilized !== desired ? { status: 'True', reason, message } : READY;
    const limited = this.convertWithBehaviorRate(key, up, down, current, stabilized, min, max);
    return {
      replicas: limited.replicas,
      ableToScale,
      scalingLimited: {
        status: limited.replicas === stabilized ? 'False' : 'True',
        reason: limited.reason,
        message: limited.message,
      },
    };
  }

  /** stabilizeRecommendationWithBehaviors (public for upstream's table tests) */
  stabilizeWithBehavior(
    key: string,
    up: Required<HPAScalingRules>,
    down: Required<HPAScalingRules>,
    current: number,
    desired: number,
  ): { replicas: number; reason: string; message: string } {
    const now = this.clock.now();
    const upCutoff = now - up.stabilizationWindowSeconds * 1000;
    const downCutoff = now - down.stabilizationWindowSeconds * 1000;
    let upRecommendation = desired;
    let downRecommendation = desired;
    let oldIndex = -1;
    const recs = this.recommendations.get(key) ?? [];
    recs.forEach((r, i) => {
      if (r.at > upCutoff) upRecommendation = Math.min(r.replicas, upRecommendation);
      if (r.at > downCutoff) downRecommendation = Math.max(r.replicas, downRecommendation);
      if (r.at < upCutoff && r.at < downCutoff) oldIndex = i;
    });
    let recommendation = current;
    if (recommendation < upRecommendation) recommendation = upRecommendation;
    if (recommendation > downRecommendation) recommendation = downRecommendation;
    if (oldIndex >= 0) recs[oldIndex] = { replicas: desired, at: now };
    else recs.push({ replicas: desired, at: now });
    this.recommendations.set(key, recs);
    return desired >= current
      ? {
          replicas: recommendation,
          reason: 'ScaleUpStabilized',
          message:
            'recent recommendations were lower than current one, applying the lowest recent recommendation',
        }
      : {
          replicas: recommendation,
          reason: 'ScaleDownStabilized',
          message:
            'recent recommendations were higher than current one, applying the highest recent recommendation',
        };
  }

  private changeInPeriod(events: ScaleEvent[] | undefined, periodSeconds: number): number {
    const cutoff = this.clock.now() - periodSeconds * 1000;
    return (events ?? []).filter((e) => e.at > cutoff).reduce((a, e) => a + e.change, 0);
  }

  /** calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors */
  private limit(
    key: string,
    current: number,
    rules: Required<HPAScalingRules>,
    direction: 'up' | 'down',
  ): number {
    if (rules.selectPolicy === 'Disabled') return current;
    // up: Max picks the largest proposal; down: Max change is the smallest proposal
    const pickLargest = (rules.selectPolicy === 'Max') === (direction === 'up');
    let result = pickLargest ? -Infinity : Infinity;
    for (const p of rules.policies) {
      const added = this.changeInPeriod(this.scaleUpEvents.get(key), p.periodSeconds);
      const deleted = this.changeInPeriod(this.scaleDownEvents.get(key), p.periodSeconds);
      const start = current - added + deleted;
      let proposed: number;
      if (direction === 'up')
        proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
      else proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
      result = pickLargest ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result;
  }

  private convertWithBehaviorRate(
    key: string,
    up: Required<HPAScalingRules>,
    down: Required<HPAScalingRules>,
    current: number,
    desired: number,
    min: number,
    max: number,
  ): { replicas: number; reason: string; message: string } {
    if (desired > current) {
      const scaleUpLimit = Math.max(this.limit(key, current, up, 'up'), current);
      const [allowed, reason, message] =
        max > scaleUpLimit
          ? [
              scaleUpLimit,
              'ScaleUpLimit',
              'the desired replica count is increasing faster than the maximum scale rate',
            ]
          : [max, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (desired > allowed) return { replicas: allowed, reason, message };
    } else if (desired < current) {
      const scaleDownLimit = Math.min(this.limit(key, current, down, 'down'), current);
      const [allowed, reason, message] =
        min < scaleDownLimit
          ? [
              scaleDownLimit,
              'ScaleDownLimit',
              'the desired replica count is decreasing faster than the maximum scale rate',
            ]
          : [min, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (desired < allowed) return { replicas: allowed, reason, message };
    }
    return { replicas: desired, ...WITHIN };
  }

  /** storeScaleEvent: only HPAs with `behavior` keep scale events (their policies need them) */
  storeScaleEvent(
    key: string,
    behavior: HorizontalPodAutoscalerBehavior | undefined,
    prev: number,
    next: number,
  ): void {
    if (!behavior) return;
    const now = this.clock.now();
    const longest = (r: Required<HPAScalingRules>): number =>
      Math.max(0, ...r.policies.map((p) => p.periodSeconds));
    const [map, rules, change] =
      next > prev
        ? [this.scaleUpEvents, scaleUpRules(behavior.scaleUp), next - prev]
        : [this.scaleDownEvents, scaleDownRules(behavior.scaleDown, 0), prev - next];
    const cutoff = now - longest(rules) * 1000;
    const events = (map.get(key) ?? []).filter((e) => e.at > cutoff);
    events.push({ change, at: now });
    map.set(key, events);
  }
}
