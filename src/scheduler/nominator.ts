// The scheduler's nominator (upstream framework's PodNominator): pods that preempted others wait for their nominated
// node, and pods of lower or equal priority must not take the room being made for them in the meantime.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { keyOf } from '../client/index.js';
import type { NodeInfo } from './cache.js';
import { cloneNodeInfo, podPriority } from './preemption.js';

export class Nominator {
  /** pod key → the pod and the node it waits for */
  private readonly nominated = new Map<string, { pod: Pod; node: string }>();

  /** a pod as the informer sees it: pending with status.nominatedNodeName is nominated; bound or gone is not */
  update(pod: Pod): void {
    const key = keyOf(pod);
    if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp) {
      this.nominated.delete(key);
      return;
    }
    const node = pod.status?.nominatedNodeName;
    if (node) this.nominated.set(key, { pod, node });
    else {
      // a watch event older than our own nomination's write: keep the node reserved, with the newer pod
      const current = this.nominated.get(key);
      if (current) this.nominated.set(key, { pod, node: current.node });
    }
  }

  /** this scheduler nominated the pod (its status write may still be on its way) */
  nominate(pod: Pod, node: string): void {
    this.nominated.set(keyOf(pod), { pod, node });
  }

  remove(key: string): void {
    this.nominated.delete(key);
  }

  nodeOf(key: string): string | undefined {
    return this.nominated.get(key)?.node;
  }

  /** pods nominated to `node` */
  nominatedOn(node: string): Pod[] {
    return [...this.nominated.values()].filter((n) => n.node === node).map((n) => n.pod);
  }

  /**
   * The nodes as `pod` must see them (RunFilterPluginsWithNominatedPods): with the pods of at least its priority
   * nominated there accounted, on copies; nodes without such pods are passed through as they are.
   */
  withNominatedPods(pod: Pod, infos: readonly NodeInfo[]): NodeInfo[] {
    if (this.nominated.size === 0) return [...infos];
    const self = keyOf(pod);
    const priority = podPriority(pod);
    const byNode = new Map<string, Pod[]>();
    for (const [key, n] of this.nominated) {
      if (key === self || podPriority(n.pod) < priority) continue;
      const list = byNode.get(n.node);
      if (list) list.push(n.pod);
      else byNode.set(n.node, [n.pod]);
    }
    if (byNode.size === 0) return [...infos];
    return infos.map((info) => {
      const pods = byNode.get(info.name);
      if (!pods) return info;
      const copy = cloneNodeInfo(info);
      for (const p of pods) copy.addPod(keyOf(p), { ...p, spec: { ...p.spec!, nodeName: info.name } });
      return copy;
    });
  }
}
