// The horizontal pod autoscaler (upstream pkg/controller/podautoscaler/horizontal.go): every sync period, each HPA's
// target is read through its scale subresource, resource metrics give a desired size, and the target is rescaled.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerCondition,
  MetricSpec,
  MetricStatus,
} from 'kubernetes-types/autoscaling/v2.js';
import type { Scale } from 'kubernetes-types/autoscaling/v1.js';
import { canonicalQuantity } from '../../api/schema/quantity.js';
import { findByKind, parseApiVersion } from '../../api/resources.js';
import { EventRecorder, keyOf, splitKey, type Informer, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { rfc3339 } from '../../util/objects.js';
import { SharedInformerFactory } from '../common/informers.js';
import { setCondition, type HpaConditionType } from './conditions.js';
import { apiResourceMetrics, type ResourceMetricsSource } from './metrics-client.js';
import { ScaleNormalizer } from './normalizer.js';
import {
  DEFAULT_CALCULATOR,
  getRawResourceReplicas,
  getResourceReplicas,
  milliValue,
  type CalculatorOptions,
} from './replica-calculator.js';

export interface HorizontalPodAutoscalerControllerOptions {
  client: KubeClient;
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** --horizontal-pod-autoscaler-sync-period (upstream 15 s; kubemu 2 s) */
  syncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (upstream 5 min; kubemu 15 s) */
  downscaleStabilizationMs?: number;
  /** --horizontal-pod-autoscaler-tolerance (0.1) */
  tolerance?: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min) */
  cpuInitializationPeriodMs?: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s) */
  initialReadinessDelayMs?: number;
  /** where pod metrics come from; default metrics.k8s.io through `client` */
  metrics?: ResourceMetricsSource;
}

/** a milli-value as a DecimalSI quantity: 250 → `250m`, 2000 → `2`, 1048576000 → `1048576` */
export function milliQuantity(milli: number): string {
  if (milli % 1000 === 0) return canonicalQuantity(String(milli / 1000)) ?? String(milli / 1000);
  return `${milli}m`;
}

interface MetricOutcome {
  replicas: number;
  metricName: string;
  status?: MetricStatus;
  error?: string;
  /** ScalingActive=False reason when this metric failed */
  failedReason?: string;
  /** what the event and condition say (upstream: the error before computeReplicasForMetric wraps it) */
  conditionMessage?: string;
}

export class HorizontalPodAutoscalerController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly hpas: Informer<HorizontalPodAutoscaler>;
  private readonly recorder: EventRecorder;
  private readonly normalizer: ScaleNormalizer;
  private readonly metrics: ResourceMetricsSource;
  private readonly syncPeriodMs: number;
  private readonly calc: Omit<CalculatorOptions, 'now'>;
  private readonly queue = new Set<string>();
  private draining: Promise<void> | undefined;
  private timer: { cancel(): void } | undefined;
  private stopped = false;

  constructor(opts: HorizontalPodAutoscalerControllerOptions) {
    if (!opts.client) throw new TypeError('HorizontalPodAutoscalerController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'horizontal-pod-autoscaler' });
    this.clock = opts.clock ?? realClock;
    this.syncPeriodMs = opts.syncPeriodMs ?? 2_000;
    this.calc = {
      tolerance: opts.tolerance ?? DEFAULT_CALCULATOR.tolerance,
      cpuInitializationPeriodMs:
        opts.cpuInitializationPeriodMs ?? DEFAULT_CALCULATOR.cpuInitializationPeriodMs,
      delayOfInitialReadinessStatusMs:
        opts.initialReadinessDelayMs ?? DEFAULT_CALCULATOR.delayOfInitialReadinessStatusMs,
    };
    this.normalizer = new ScaleNormalizer(this.clock, opts.downscaleStabilizationMs ?? 15_000);
    this.metrics = opts.metrics ?? apiResourceMetrics(this.client);
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    this.hpas = this.informers.forResource(
      'horizontalpodautoscalers.autoscaling',
      this.client.horizontalPodAutoscalers,
    );
    this.recorder = new EventRecorder({
      client: this.client,
      component: 'horizontal-pod-autoscaler',
      clock: this.clock,
      logger: this.log,
    });
    this.hpas.addEventHandler({
      onAdd: (hpa) => this.enqueue(keyOf(hpa)),
      onDelete: (hpa) => this.normalizer.forget(keyOf(hpa)),
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await this.hpas.waitForSync();
    if (this.stopped) return;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    if (this.ownsInformers) this.informers.stop();
  }

  /** resolves when every queued HPA has been reconciled and its events written (tests) */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
    await this.recorder.flush();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      for (const key of this.hpas.store.keys()) this.enqueue(key);
      this.schedule();
    }, this.syncPeriodMs);
  }

  /** keys collapse in the set, and one drain loop reconciles them one at a time */
  enqueue(key: string): void {
    this.queue.add(key);
    if (this.draining || this.stopped) return;
    this.draining = (async () => {
      while (this.queue.size && !this.stopped) {
        const next = this.queue.values().next().value!;
        this.queue.delete(next);
        try {
          await this.reconcile(next);
        } catch (err) {
          this.log.warn(
            { hpa: next, err: (err as Error).message },
            'failed to reconcile HPA; retrying next period',
          );
        }
      }
    })().finally(() => (this.draining = undefined));
  }

  /** upstream reconcileAutoscaler */
  async reconcile(key: string): Promise<void> {
    const cached = this.hpas.store.get(key);
    if (!cached) {
      this.normalizer.forget(key);
      return;
    }
    const hpa = structuredClone<HorizontalPodAutoscaler>(cached);
    const { namespace = 'default' } = splitKey(key);
    const spec = hpa.spec!;
    const ref = spec.scaleTargetRef;
    const reference = `${ref.kind}/${namespace}/${ref.name}`;
    let conditions: HorizontalPodAutoscalerCondition[] = hpa.status?.conditions ?? [];
    const set = (type: HpaConditionType, status: 'True' | 'False', reason: string, message: string): void => {
      conditions = setCondition(conditions, type, status, reason, message, this.clock.now());
    };
    const original = JSON.stringify(hpa.status ?? {});
    const writeStatus = async (
      currentReplicas: number,
      desiredReplicas: number,
      metricStatuses: MetricStatus[] | undefined,
      rescaled: boolean,
    ): Promise<void> => {
      const lastScaleTime = rescaled ? rfc3339(this.clock.now()) : hpa.status?.lastScaleTime;
      hpa.status = {
        ...(hpa.status?.observedGeneration !== undefined ? {} : {}),
        currentReplicas,
        desiredReplicas,
        ...(lastScaleTime ? { lastScaleTime } : {}),
        ...(metricStatuses && metricStatuses.length ? { currentMetrics: metricStatuses } : {}),
        conditions,
      };
      if (JSON.stringify(hpa.status) === original) return;
      await this.client.horizontalPodAutoscalers.updateStatus(hpa);
    };

    // the target, through its scale subresource: any kind with one (deployments, replicasets...)
    const { group, version } = parseApiVersion(ref.apiVersion ?? '');
    const ri = findByKind(group, ref.kind);
    let scale: Scale;
    const scales = ri && this.client.resource(group, version || ri.versions[0], ri.resource, ri.namespaced);
    try {
      if (!scales || !ri?.subresources.some((s) => s.name === 'scale'))
        throw new Error(`no matches for kind "${ref.kind}" in group "${group}"`);
      scale = await scales.getScale(ref.name, namespace);
    } catch (err) {
      const message = (err as Error).message;
      this.recorder.event(hpa, 'Warning', 'FailedGetScale', message);
      set(
        'AbleToScale',
        'False',
        'FailedGetScale',
        `the HPA controller was unable to get the target's current scale: ${message}`,
      );
      await writeStatus(
        hpa.status?.currentReplicas ?? 0,
        hpa.status?.desiredReplicas ?? 0,
        hpa.status?.currentMetrics,
        false,
      );
      throw new Error(`failed to query scale subresource for ${reference}: ${message}`, { cause: err });
    }
    set(
      'AbleToScale',
      'True',
      'SucceededGetScale',
      "the HPA controller was able to get the target's current scale",
    );
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.normalizer.recordInitial(key, currentReplicas);

    const minReplicas = spec.minReplicas ?? 1;
    const maxReplicas = spec.maxReplicas;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] | undefined = hpa.status?.currentMetrics;
    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      set(
        'ScalingActive',
        'False',
        'ScalingDisabled',
        'scaling is disabled since the replica count of the target is zero',
      );
    } else if (currentReplicas > maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const selector = (scale.status as { selector?: string } | undefined)?.selector ?? '';
      const computed = await this.computeReplicasForMetrics(hpa, namespace, selector, currentReplicas, set);
      metricStatuses = computed.statuses;
      if (computed.error !== undefined) {
        await writeStatus(
          currentReplicas,
          hpa.status?.desiredReplicas ?? currentReplicas,
          metricStatuses,
          false,
        );
        this.recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error);
        throw new Error(
          `failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error}`,
        );
      }
      desiredReplicas = computed.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${computed.metricName} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const n = spec.behavior
        ? this.normalizer.normalizeWithBehavior(
            key,
            spec.behavior,
            currentReplicas,
            desiredReplicas,
            minReplicas,
            maxReplicas,
          )
        : this.normalizer.normalize(key, currentReplicas, desiredReplicas, minReplicas, maxReplicas);
      desiredReplicas = n.replicas;
      set('AbleToScale', n.ableToScale.status, n.ableToScale.reason, n.ableToScale.message);
      set('ScalingLimited', n.scalingLimited.status, n.scalingLimited.reason, n.scalingLimited.message);
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await scales.updateScale(ref.name, { ...scale, spec: { replicas: desiredReplicas } }, { namespace });
      } catch (err) {
        const message = (err as Error).message;
        this.recorder.event(
          hpa,
          'Warning',
          'FailedRescale',
          `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${message}`,
        );
        set(
          'AbleToScale',
          'False',
          'FailedUpdateScale',
          `the HPA controller was unable to update the target scale: ${message}`,
        );
        await writeStatus(
          currentReplicas,
          hpa.status?.desiredReplicas ?? currentReplicas,
          metricStatuses,
          false,
        );
        throw new Error(`failed to rescale ${reference}: ${message}`, { cause: err });
      }
      set(
        'AbleToScale',
        'True',
        'SucceededRescale',
        `the HPA controller was able to update the target scale to ${desiredReplicas}`,
      );
      this.recorder.event(
        hpa,
        'Normal',
        'SuccessfulRescale',
        `New size: ${desiredReplicas}; reason: ${rescaleReason}`,
      );
      this.normalizer.storeScaleEvent(key, spec.behavior, currentReplicas, desiredReplicas);
      this.log.info(
        { hpa: key, reference, from: currentReplicas, to: desiredReplicas, reason: rescaleReason },
        'rescaled',
      );
    } else {
      desiredReplicas = currentReplicas;
    }
    await writeStatus(currentReplicas, desiredReplicas, metricStatuses, rescale);
  }

  /** upstream computeReplicasForMetrics: the largest proposal wins; invalid metrics fail it unless others scale up */
  private async computeReplicasForMetrics(
    hpa: HorizontalPodAutoscaler,
    namespace: string,
    selector: string,
    currentReplicas: number,
    set: (type: HpaConditionType, status: 'True' | 'False', reason: string, message: string) => void,
  ): Promise<{ replicas: number; metricName: string; statuses: MetricStatus[]; error?: string }> {
    if (!selector) {
      const message = 'selector is required';
      this.recorder.event(hpa, 'Warning', 'SelectorRequired', message);
      set('ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: -1, metricName: '', statuses: [], error: message };
    }
    const specs: MetricSpec[] = hpa.spec?.metrics ?? [
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } },
      },
    ];
    let pods: Pod[] | undefined;
    const podsOnce = async (): Promise<Pod[]> =>
      (pods ??= (await this.client.pods.list({ namespace, labelSelector: selector })).items);
    const statuses: MetricStatus[] = [];
    let best: MetricOutcome | undefined;
    let invalid = 0;
    let firstError: MetricOutcome | undefined;
    for (const spec of specs) {
      const outcome = await this.computeForMetric(spec, namespace, selector, currentReplicas, podsOnce);
      if (outcome.error !== undefined) {
        invalid++;
        firstError ??= outcome;
        if (outcome.status) statuses.push(outcome.status);
        else statuses.push({ type: spec.type });
        continue;
      }
      statuses.push(outcome.status!);
      if (!best || outcome.replicas > best.replicas) best = outcome;
    }
    const replicas = best?.replicas ?? 0;
    if (invalid >= specs.length || (invalid > 0 && replicas < currentReplicas)) {
      const f = firstError!;
      this.recorder.event(hpa, 'Warning', f.failedReason!, f.conditionMessage ?? f.error!);
      set(
        'ScalingActive',
        'False',
        f.failedReason!,
        `the HPA was unable to compute the replica count: ${f.conditionMessage ?? f.error}`,
      );
      return {
        replicas: -1,
        metricName: '',
        statuses: statuses.filter((s) => s.resource || s.containerResource),
        error: `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${f.error}`,
      };
    }
    set(
      'ScalingActive',
      'True',
      'ValidMetricFound',
      `the HPA was able to successfully calculate a replica count from ${best!.metricName}`,
    );
    return {
      replicas,
      metricName: best!.metricName,
      statuses: statuses.filter((s) => s.resource || s.containerResource),
    };
  }

  private async computeForMetric(
    spec: MetricSpec,
    namespace: string,
    selector: string,
    currentReplicas: number,
    pods: () => Promise<Pod[]>,
  ): Promise<MetricOutcome> {
    const source =
      spec.type === 'Resource'
        ? spec.resource
        : spec.type === 'ContainerResource'
          ? spec.containerResource
          : undefined;
    if (!source) {
      return {
        replicas: 0,
        metricName: '',
        failedReason: 'InvalidMetricSourceType',
        error: `unknown metric source type "${spec.type}"`,
      };
    }
    const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
    const name = source.name;
    const failedReason =
      spec.type === 'Resource' ? 'FailedGetResourceMetric' : 'FailedGetContainerResourceMetric';
    const wrap = (e: string): string =>
      `failed to get ${name} ${spec.type === 'Resource' ? 'resource' : 'container resource'} metric value: ${e}`;
    const withStatus = (current: { averageUtilization?: number; averageValue?: string }): MetricStatus =>
      spec.type === 'Resource'
        ? { type: 'Resource', resource: { name, current } }
        : { type: 'ContainerResource', containerResource: { name, container: container ?? '', current } };
    const calcOpts: CalculatorOptions = { ...this.calc, now: this.clock.now() };
    const fetch = async () => ({
      metrics: await this.metrics(name, namespace, selector, container),
      list: await pods(),
    });
    try {
      if (source.target.averageValue !== undefined) {
        const target = milliValue(source.target.averageValue) ?? 0;
        let p;
        try {
          const { metrics, list } = await fetch();
          p = getRawResourceReplicas(currentReplicas, target, name, list, metrics, calcOpts);
        } catch (err) {
          throw new Error(`failed to get ${name} usage: ${(err as Error).message}`, { cause: err });
        }
        return {
          replicas: p.replicas,
          metricName: `${name} resource`,
          status: withStatus({ averageValue: milliQuantity(p.rawAverage) }),
        };
      }
      if (source.target.averageUtilization !== undefined) {
        let p;
        try {
          const { metrics, list } = await fetch();
          p = getResourceReplicas(
            currentReplicas,
            source.target.averageUtilization,
            name,
            list,
            metrics,
            calcOpts,
            container,
          );
        } catch (err) {
          throw new Error(`failed to get ${name} utilization: ${(err as Error).message}`, { cause: err });
        }
        return {
          replicas: p.replicas,
          metricName: `${name} resource utilization (percentage of request)`,
          status: withStatus({
            averageUtilization: p.utilization!,
            averageValue: milliQuantity(p.rawAverage),
          }),
        };
      }
      throw new Error(
        'invalid resource metric source: neither a utilization target nor a value target was set',
      );
    } catch (err) {
      const message = (err as Error).message;
      return { replicas: 0, metricName: '', failedReason, conditionMessage: message, error: wrap(message) };
    }
  }
}
