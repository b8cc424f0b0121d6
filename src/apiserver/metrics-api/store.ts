// Usage points computed from successive kubelet Summary API scrapes: CPU as a rate over the window, memory as working set.
import type { Pod } from 'kubernetes-types/core/v1.js';

/** the part of the kubelet's /stats/summary the metrics pipeline reads */
export interface CpuSample {
  time?: string;
  usageNanoCores?: number;
  usageCoreNanoSeconds?: number;
}
export interface MemorySample {
  time?: string;
  workingSetBytes?: number;
}
export interface Summary {
  node: { nodeName: string; cpu?: CpuSample; memory?: MemorySample };
  pods: {
    podRef: { name: string; namespace: string; uid?: string };
    containers: { name: string; cpu?: CpuSample; memory?: MemorySample }[];
  }[];
}

export interface Usage {
  nanoCores: number;
  memoryBytes: number;
}

export interface MetricsPoint {
  /** when the sample ending the window was taken (ms since the epoch) */
  timestampMs: number;
  windowMs: number;
}
export interface NodePoint extends MetricsPoint {
  usage: Usage;
}
export interface PodPoint extends MetricsPoint {
  containers: { name: string; usage: Usage }[];
}

/** Read side of the metrics pipeline, shared by the REST route and the handler both faces use. */
export interface MetricsProvider {
  node(name: string): NodePoint | undefined;
  pod(namespace: string, name: string): PodPoint | undefined;
}

interface Cumulative {
  atMs: number;
  cpuNanos: number;
}

interface NodeState {
  node: Cumulative | undefined;
  containers: Map<string, Cumulative>;
  nodePoint: NodePoint | undefined;
  pods: Map<string, PodPoint>;
}

const cumulativeOf = (cpu: CpuSample | undefined): number | undefined =>
  typeof cpu?.usageCoreNanoSeconds === 'number' ? cpu.usageCoreNanoSeconds : undefined;

/**
 * As metrics-server's storage: a rate needs two samples of a cumulative counter, so a pod appears one scrape after
 * it is first seen; a counter that went backwards (a restarted container) starts over. Points of nodes that stop
 * answering expire after `maxAgeMs`.
 */
export class MetricsStore implements MetricsProvider {
  private readonly nodes = new Map<string, NodeState>();

  constructor(private readonly opts: { now: () => number; maxAgeMs: number }) {}

  /** one scrape of one node's Summary, taken at `atMs` */
  ingest(nodeName: string, summary: Summary, atMs: number): void {
    const previous = this.nodes.get(nodeName);
    const state: NodeState = {
      node: undefined,
      containers: new Map(),
      nodePoint: previous?.nodePoint,
      pods: new Map(),
    };
    const rate = (
      prev: Cumulative | undefined,
      cur: Cumulative,
    ): { nanoCores: number; windowMs: number } | undefined => {
      if (!prev || cur.atMs <= prev.atMs || cur.cpuNanos < prev.cpuNanos) return undefined;
      const windowMs = cur.atMs - prev.atMs;
      return { nanoCores: Math.round(((cur.cpuNanos - prev.cpuNanos) / (windowMs * 1e6)) * 1e9), windowMs };
    };
    const nodeCpu = cumulativeOf(summary.node.cpu);
    if (nodeCpu !== undefined) {
      state.node = { atMs, cpuNanos: nodeCpu };
      const r = rate(previous?.node, state.node);
      // the node's counter is the sum of its containers, so it drops when one exits: use the kubelet's own rate then
      const fallback = previous?.node ? summary.node.cpu?.usageNanoCores : undefined;
      const windowMs = r?.windowMs ?? (previous?.node ? atMs - previous.node.atMs : 0);
      if (r || (fallback !== undefined && windowMs > 0))
        state.nodePoint = {
          timestampMs: atMs,
          windowMs,
          usage: {
            nanoCores: r?.nanoCores ?? fallback ?? 0,
            memoryBytes: summary.node.memory?.workingSetBytes ?? 0,
          },
        };
    }
    for (const pod of summary.pods) {
      const podKey = `${pod.podRef.namespace}/${pod.podRef.name}`;
      const containers: PodPoint['containers'] = [];
      let complete = pod.containers.length > 0;
      let windowMs = 0;
      for (const c of pod.containers) {
        const cpu = cumulativeOf(c.cpu);
        if (cpu === undefined) {
          complete = false;
          continue;
        }
        const key = `${podKey}/${c.name}`;
        const cur = { atMs, cpuNanos: cpu };
        state.containers.set(key, cur);
        const r = rate(previous?.containers.get(key), cur);
        if (!r) {
          complete = false;
          continue;
        }
        windowMs = Math.max(windowMs, r.windowMs);
        containers.push({
          name: c.name,
          usage: { nanoCores: r.nanoCores, memoryBytes: c.memory?.workingSetBytes ?? 0 },
        });
      }
      if (complete) state.pods.set(podKey, { timestampMs: atMs, windowMs, containers });
      else {
        // keep the last complete point while a restarted container builds up its second sample
        const last = previous?.pods.get(podKey);
        if (last) state.pods.set(podKey, last);
      }
    }
    this.nodes.set(nodeName, state);
  }

  /** forget nodes that no longer exist */
  retainNodes(names: ReadonlySet<string>): void {
    for (const name of this.nodes.keys()) if (!names.has(name)) this.nodes.delete(name);
  }

  private fresh<T extends MetricsPoint>(p: T | undefined): T | undefined {
    return p && this.opts.now() - p.timestampMs <= this.opts.maxAgeMs ? p : undefined;
  }

  node(name: string): NodePoint | undefined {
    return this.fresh(this.nodes.get(name)?.nodePoint);
  }

  pod(namespace: string, name: string): PodPoint | undefined {
    for (const state of this.nodes.values()) {
      const p = state.pods.get(`${namespace}/${name}`);
      if (p) return this.fresh(p);
    }
    return undefined;
  }
}

/** metrics-server serves only running pods' metrics */
export const podHasMetrics = (pod: Pod): boolean => pod.status?.phase === 'Running';
