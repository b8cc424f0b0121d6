// Pods' rules in the generic store (upstream pkg/registry/core/pod/strategy.go): status reset to Pending with the
// QoS class on create, graceful deletion by the pod's terminationGracePeriodSeconds, and a pod being deleted
// leaves storage only once its grace period is 0.
import type { KubeObject, RequestOptions } from '../../../api/request.js';
import type { Strategy } from '../strategies.js';

type Resources = Record<string, number | string | undefined>;

/** upstream's qos.GetPodQOS */
export function podQosClass(pod: KubeObject): string {
  const spec = pod['spec'] as
    | {
        containers?: { resources?: { requests?: Resources; limits?: Resources } }[];
        initContainers?: { resources?: { requests?: Resources; limits?: Resources } }[];
      }
    | undefined;
  const containers = [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])];
  let anyRequestOrLimit = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const rq = req[r];
      const lm = lim[r];
      if (rq !== undefined || lm !== undefined) anyRequestOrLimit = true;
      if (lm === undefined || (rq !== undefined && String(rq) !== String(lm))) guaranteed = false;
    }
  }
  if (!anyRequestOrLimit) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export const podStrategy: Partial<Strategy> = {
  statusSubresource: true,
  prepareForCreate(obj) {
    obj['status'] = { phase: 'Pending', qosClass: podQosClass(obj) };
  },
  /**
   * upstream's CheckGracefulDelete: the request's gracePeriodSeconds, else the pod's; an unscheduled or finished
   * pod goes at once; a second delete may only shorten the period.
   */
  gracePeriodSeconds(old: KubeObject, opts: RequestOptions): number {
    const spec = old['spec'] as { nodeName?: string; terminationGracePeriodSeconds?: number } | undefined;
    const phase = (old['status'] as { phase?: string } | undefined)?.phase;
    let grace = opts.gracePeriodSeconds ?? spec?.terminationGracePeriodSeconds ?? 30;
    if (!spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
    const current = old.metadata?.deletionGracePeriodSeconds;
    if (current !== undefined && current < grace) grace = current;
    return grace;
  },
  /**
   * A pod being gracefully deleted stays until its kubelet has stopped it and deleted it with grace 0; once its
   * grace period is 0, the last finalizer going deletes it (upstream's ShouldDeleteDuringUpdate), or a pod deleted
   * with --cascade=orphan/foreground whose kubelet finished first would stay Terminating for good.
   */
  deleteWhenFinalized(obj: KubeObject): boolean {
    return obj.metadata?.deletionGracePeriodSeconds === 0;
  },
};
