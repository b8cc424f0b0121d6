// The scheduler's view of the cluster: nodes with the pods on them and their summed requests, including assumed pods.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { keyOf } from '../client/index.js';
import { nonZeroRequests, podRequests, resourceAmounts, type ResourceAmounts } from './resources.js';

interface PodEntry {
  pod: Pod;
  requests: ResourceAmounts;
  nonZero: { milliCPU: number; memory: number };
  owner: string | undefined;
}

/** The controller owner's uid: pods of one ReplicaSet/StatefulSet/Job spread as a group. */
export function controllerOf(pod: Pod): string | undefined {
  return pod.metadata?.ownerReferences?.find((r) => r.controller)?.uid;
}

/** One node and what is already committed on it (upstream framework.NodeInfo). */
export class NodeInfo {
  node: Node | undefined;
  readonly pods = new Map<string, PodEntry>();
  /** summed effective requests of the pods on the node */
  readonly requested: ResourceAmounts = new Map();
  /** cpu/memory with the non-zero defaults, for scoring */
  readonly nonZeroRequested = { milliCPU: 0, memory: 0 };
  /** controller uid → pods of it on this node, for spreading */
  readonly ownerCounts = new Map<string, number>();

  private allocatableOf: { node: Node; amounts: ResourceAmounts } | undefined;

  constructor(readonly name: string) {}

  /** the node's status.allocatable as amounts (parsed once per node object) */
  allocatable(): ResourceAmounts {
    if (!this.node) return new Map();
    if (this.allocatableOf?.node !== this.node) {
      const list = this.node.status?.allocatable;
      this.allocatableOf = { node: this.node, amounts: resourceAmounts(list) };
    }
    return this.allocatableOf.amounts;
  }

  addPod(key: string, pod: Pod): void {
    this.removePod(key);
    const entry: PodEntry = {
      pod,
      requests: podRequests(pod),
      nonZero: nonZeroRequests(pod),
      owner: controllerOf(pod),
    };
    this.pods.set(key, entry);
    this.apply(entry, 1);
  }

  removePod(key: string): boolean {
    const entry = this.pods.get(key);
    if (!entry) return false;
    this.pods.delete(key);
    this.apply(entry, -1);
    return true;
  }

  private apply(e: PodEntry, sign: 1 | -1): void {
    for (const [k, v] of e.requests) this.requested.set(k, (this.requested.get(k) ?? 0) + sign * v);
    this.nonZeroRequested.milliCPU += sign * e.nonZero.milliCPU;
    this.nonZeroRequested.memory += sign * e.nonZero.memory;
    if (e.owner) {
      const n = (this.ownerCounts.get(e.owner) ?? 0) + sign;
      if (n > 0) this.ownerCounts.set(e.owner, n);
      else this.ownerCounts.delete(e.owner);
    }
  }
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Nodes and the assigned pods on them, fed by the informers, plus pods this scheduler has bound but not yet seen
 * bound through the watch ("assumed"), so a burst of pods neither overcommits a node nor piles onto one.
 */
export class SchedulerCache {
  private readonly infos = new Map<string, NodeInfo>();
  /** pod key → the node it is accounted on */
  private readonly podNodes = new Map<string, string>();
  private readonly assumed = new Set<string>();

  private infoFor(name: string): NodeInfo {
    let info = this.infos.get(name);
    if (!info) this.infos.set(name, (info = new NodeInfo(name)));
    return info;
  }

  private dropIfEmpty(info: NodeInfo): void {
    if (!info.node && info.pods.size === 0) this.infos.delete(info.name);
  }

  setNode(node: Node): void {
    this.infoFor(node.metadata!.name!).node = node;
  }

  removeNode(name: string): void {
    const info = this.infos.get(name);
    if (!info) return;
    info.node = undefined;
    this.dropIfEmpty(info);
  }

  /**
   * An add/update of a pod from the informer: assigned, non-terminal pods are accounted on their node; anything
   * else is not (a pod that finished frees its resources). Confirms an assumed pod.
   */
  updatePod(pod: Pod): void {
    const key = keyOf(pod);
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || isTerminal(pod)) {
      // a pod assumed but not yet seen bound stays accounted until the bind's outcome is known
      if (!this.assumed.has(key)) this.removePod(key);
      return;
    }
    this.assumed.delete(key);
    const current = this.podNodes.get(key);
    if (current && current !== nodeName) this.removePod(key);
    this.infoFor(nodeName).addPod(key, pod);
    this.podNodes.set(key, nodeName);
  }

  removePod(key: string): void {
    this.assumed.delete(key);
    const nodeName = this.podNodes.get(key);
    if (!nodeName) return;
    this.podNodes.delete(key);
    const info = this.infos.get(nodeName);
    if (!info) return;
    info.removePod(key);
    this.dropIfEmpty(info);
  }

  /** account `pod` on `nodeName` now, before the bind is confirmed (never mutates `pod`) */
  assumePod(pod: Pod, nodeName: string): void {
    const key = keyOf(pod);
    this.removePod(key);
    const bound: Pod = { ...pod, spec: { ...pod.spec!, nodeName } };
    this.infoFor(nodeName).addPod(key, bound);
    this.podNodes.set(key, nodeName);
    this.assumed.add(key);
  }

  /** the bind failed: undo assumePod */
  forgetPod(key: string): void {
    if (this.assumed.has(key)) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.assumed.has(key);
  }

  /** the node a pod is accounted on, if any */
  nodeOf(key: string): string | undefined {
    return this.podNodes.get(key);
  }

  /** nodes known to exist (not those only referenced by pods), in name order */
  nodeInfos(): NodeInfo[] {
    return [...this.infos.values()].filter((i) => i.node).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  nodeInfo(name: string): NodeInfo | undefined {
    return this.infos.get(name);
  }
}
