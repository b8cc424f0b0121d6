// The node lifecycle controller: marks nodes whose kubelet went quiet Unknown and keeps their NoExecute/NoSchedule taints.
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { Node, NodeCondition, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { EventRecorder, type Informer, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { SharedInformerFactory } from '../common/informers.js';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from './taints.js';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

export interface NodeLifecycleControllerOptions {
  client: KubeClient;
  /** the controller-manager's shared informers; default: a factory of its own */
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** upstream --node-monitor-grace-period (40–50 s); kubemu default 3 s */
  nodeMonitorGracePeriodMs?: number;
  /** upstream --node-monitor-period (5 s, an eighth of its grace); kubemu default 0.25 s */
  nodeMonitorPeriodMs?: number;
  /** upstream --node-startup-grace-period (60 s): for nodes that never posted status; default 10 s */
  nodeStartupGracePeriodMs?: number;
}

interface NodeHealth {
  /** local time we last saw the kubelet alive (status heartbeat or lease renewal), upstream probeTimestamp */
  probeTimestamp: number;
  readyHeartbeat: string | undefined;
  readyStatus: string | undefined;
  leaseRenewTime: string | undefined;
}

/** the conditions upstream turns Unknown besides Ready */
const OTHER_CONDITIONS = ['MemoryPressure', 'DiskPressure', 'PIDPressure'];

const readyOf = (node: Node): NodeCondition | undefined =>
  node.status?.conditions?.find((c) => c.type === 'Ready');

/**
 * Every nodeMonitorPeriod, each node whose kubelet has neither renewed its Lease nor posted status within
 * the grace period gets its conditions set Unknown ("Kubelet stopped posting node status."), a NodeNotReady
 * Event and its pods marked not ready. Taints follow the Ready condition: Unknown → unreachable, False →
 * not-ready (NoExecute and NoSchedule), True → none. Evicting the pods is the TaintEvictionController's job.
 */
export class NodeLifecycleController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly periodMs: number;
  private readonly startupGraceMs: number;
  private readonly events: EventRecorder;
  private readonly nodes: Informer<Node>;
  private readonly leases: Informer<Lease>;
  private readonly pods: Informer<Pod>;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly health = new Map<string, NodeHealth>();
  private timer: { cancel(): void } | undefined;
  private stopped = false;
  private passing: Promise<void> | undefined;

  constructor(opts: NodeLifecycleControllerOptions) {
    if (!opts.client) throw new TypeError('NodeLifecycleController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'node-lifecycle-controller' });
    this.clock = opts.clock ?? realClock;
    this.graceMs = opts.nodeMonitorGracePeriodMs ?? 3_000;
    this.periodMs = opts.nodeMonitorPeriodMs ?? 250;
    this.startupGraceMs = opts.nodeStartupGracePeriodMs ?? 10_000;
    if (!(this.graceMs > 0 && this.periodMs > 0))
      throw new TypeError('node monitor periods must be positive');
    this.events = new EventRecorder({
      client: this.client,
      component: 'node-controller',
      clock: this.clock,
      logger: this.log,
    });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    this.nodes = this.informers.nodes();
    // cluster-wide, so the factory can share it; only kube-node-lease matters here
    this.leases = this.informers.forResource('leases.coordination.k8s.io', this.client.leases);
    this.pods = this.informers.pods();
    // Observe heartbeats as they arrive, so the grace period counts from when we saw them, not from a pass.
    this.nodes.addEventHandler({
      onAdd: (node) => this.observe(node),
      onUpdate: (_old, node) => this.observe(node),
      onDelete: (node) => this.health.delete(node.metadata?.name ?? ''),
    });
    const onLease = (lease: Lease): void => {
      if (lease.metadata?.namespace !== NODE_LEASE_NAMESPACE) return;
      const node = this.nodes.store.get(lease.metadata?.name ?? '');
      if (node) this.observe(node);
    };
    this.leases.addEventHandler({ onAdd: onLease, onUpdate: (_old, lease) => onLease(lease) });
  }

  /** start informers, wait for their caches, start the periodic pass; resolves once it is scheduled */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.nodes.waitForSync(), this.leases.waitForSync(), this.pods.waitForSync()]);
    if (this.stopped) return;
    this.log.info({ graceMs: this.graceMs, periodMs: this.periodMs }, 'node lifecycle controller synced');
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    if (this.ownsInformers) this.informers.stop();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => {
      this.passing = this.monitorNodeHealth().finally(() => this.schedule());
    }, this.periodMs);
  }

  /** the pass in flight, for tests */
  lastPass(): Promise<void> {
    return this.passing ?? Promise.resolve();
  }

  /** record a fresh heartbeat: a changed Ready heartbeat/status or a newer lease renewTime */
  private observe(node: Node): void {
    const name = node.metadata?.name ?? '';
    const ready = readyOf(node);
    const lease = this.leases.store.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const renew = lease?.spec?.renewTime;
    const now = this.clock.now();
    const h = this.health.get(name);
    if (!h) {
      this.health.set(name, {
        probeTimestamp: now,
        readyHeartbeat: ready?.lastHeartbeatTime,
        readyStatus: ready?.status,
        leaseRenewTime: renew,
      });
      return;
    }
    // Our own Unknown write changes status but is no heartbeat.
    const ours = ready?.reason === 'NodeStatusUnknown' || ready?.reason === 'NodeStatusNeverUpdated';
    if (!ours && (ready?.lastHeartbeatTime !== h.readyHeartbeat || ready?.status !== h.readyStatus)) {
      h.probeTimestamp = now;
    }
    h.readyHeartbeat = ready?.lastHeartbeatTime;
    h.readyStatus = ready?.status;
    if (renew && renew !== h.leaseRenewTime) {
      if (!h.leaseRenewTime || renew > h.leaseRenewTime) h.probeTimestamp = now;
      h.leaseRenewTime = renew;
    }
  }

  /** one pass over every node (upstream monitorNodeHealth) */
  async monitorNodeHealth(): Promise<void> {
    for (const node of this.nodes.store.list()) {
      try {
        await this.monitorNode(node);
      } catch (err) {
        this.log.warn({ err, node: node.metadata?.name }, 'failed to update node health; retrying next pass');
      }
    }
  }

  private async monitorNode(cached: Node): Promise<void> {
    const name = cached.metadata?.name ?? '';
    if (!this.health.has(name)) this.observe(cached);
    const h = this.health.get(name)!;
    const now = this.clock.now();
    const observedReady = readyOf(cached);
    const grace = observedReady ? this.graceMs : this.startupGraceMs;
    const updated = now > h.probeTimestamp + grace ? this.markUnknown(cached, now) : undefined;
    if (!updated) return this.reconcileTaints(cached, now);
    this.log.info({ node: name }, 'node stopped posting status; marking it Unknown');
    const node = await this.client.nodes.updateStatus(updated);
    // As upstream's monitorNodeHealth: the NoExecute taint (processTaintBaseEviction) before the pods are marked
    // not ready one by one, so their tolerationSeconds start counting without waiting for those writes.
    await this.reconcileTaints(node, now);
    if (observedReady?.status === 'True') {
      this.events.event(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      await this.markPodsNotReady(name, now);
    }
  }

  /** the node with its conditions set Unknown, or undefined when they already are */
  private markUnknown(node: Node, now: number): Node | undefined {
    const conditions: NodeCondition[] = structuredClone(node.status?.conditions ?? []);
    let changed = false;
    const ready = conditions.find((c) => c.type === 'Ready');
    if (!ready) {
      conditions.push({
        type: 'Ready',
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata?.creationTimestamp,
        lastTransitionTime: rfc3339(now),
      });
      changed = true;
    }
    for (const c of conditions) {
      if (c.type !== 'Ready' && !OTHER_CONDITIONS.includes(c.type)) continue;
      if (c.status === 'Unknown') continue;
      c.status = 'Unknown';
      c.reason = 'NodeStatusUnknown';
      c.message = 'Kubelet stopped posting node status.';
      c.lastTransitionTime = rfc3339(now);
      changed = true;
    }
    return changed ? { ...structuredClone(node), status: { ...node.status, conditions } } : undefined;
  }

  /** upstream MarkPodsNotReady: the node is gone quiet, so nothing on it can be trusted to serve */
  private async markPodsNotReady(nodeName: string, now: number): Promise<void> {
    for (const pod of this.pods.store.list()) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const next = structuredClone<Pod>(pod);
      for (const c of next.status!.conditions!) {
        if (c.type !== 'Ready') continue;
        c.status = 'False';
        c.lastTransitionTime = rfc3339(now);
      }
      try {
        await this.client.pods.updateStatus(next);
        this.events.event(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
      }
    }
  }

  /** the not-ready/unreachable taints the Ready condition calls for (NoExecute and NoSchedule) */
  private async reconcileTaints(node: Node, now: number): Promise<void> {
    const status = readyOf(node)?.status;
    const wantKey =
      status === 'False' ? TAINT_NOT_READY : status === 'Unknown' ? TAINT_UNREACHABLE : undefined;
    const current = node.spec?.taints ?? [];
    const ours = (t: Taint): boolean => t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE;
    const keep = current.filter(
      (t) => !ours(t) || (t.key === wantKey && (t.effect === 'NoExecute' || t.effect === 'NoSchedule')),
    );
    const next = [...keep];
    if (wantKey) {
      if (!next.some((t) => t.key === wantKey && t.effect === 'NoExecute'))
        next.push({ key: wantKey, effect: 'NoExecute', timeAdded: rfc3339(now) });
      if (!next.some((t) => t.key === wantKey && t.effect === 'NoSchedule'))
        next.push({ key: wantKey, effect: 'NoSchedule' });
    }
    if (deepEqual(next, current)) return;
    const updated = structuredClone<Node>(node);
    (updated.spec ??= {}).taints = next;
    if (next.length === 0) delete updated.spec.taints;
    this.log.info(
      { node: node.metadata?.name, taints: next.filter(ours).map((t) => `${t.key}:${t.effect}`) },
      'updating node taints',
    );
    try {
      await this.client.nodes.update(updated);
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }
}
