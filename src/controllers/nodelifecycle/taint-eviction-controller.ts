// Taint-based eviction (upstream tainteviction): deletes pods from nodes with NoExecute taints they don't tolerate.
import type { Node, Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import {
  EventRecorder,
  type Informer,
  WorkQueue,
  keyOf,
  splitKey,
  type KubeClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { SharedInformerFactory } from '../common/informers.js';
import { matchingTolerations, minTolerationMs, noExecuteTaints } from './taints.js';

export interface TaintEvictionControllerOptions {
  client: KubeClient;
  /** the controller-manager's shared informers; default: a factory of its own */
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  workers?: number;
}

interface Scheduled {
  uid: string;
  /** when the eviction was first scheduled: tolerationSeconds count from here, as upstream's CreatedAt */
  createdAt: number;
}

/**
 * Keys are pods. A node whose taints change enqueues its pods; a pod is evicted at once when it does not
 * tolerate every NoExecute taint of its node, else after the smallest matching tolerationSeconds (never
 * when a matching toleration has none). Eviction = DisruptionTarget condition, an Event, then a delete.
 */
export class TaintEvictionController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly workers: number;
  private readonly events: EventRecorder;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private workersDone: Promise<void> | undefined;
  private readonly scheduled = new Map<string, Scheduled>();
  readonly queue: WorkQueue<string>;

  constructor(opts: TaintEvictionControllerOptions) {
    if (!opts.client) throw new TypeError('TaintEvictionController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'taint-eviction-controller' });
    this.clock = opts.clock ?? realClock;
    this.workers = opts.workers ?? 2;
    this.events = new EventRecorder({
      client: this.client,
      component: 'taint-eviction-controller',
      clock: this.clock,
      logger: this.log,
    });
    this.queue = new WorkQueue<string>({ name: 'taint_eviction', clock: this.clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    this.pods = this.informers.pods();
    this.nodes = this.informers.nodes();
    this.pods.addEventHandler({
      onAdd: (pod) => this.onPod(pod),
      onUpdate: (old, pod) => {
        if (
          old.spec?.nodeName !== pod.spec?.nodeName ||
          !deepEqual(old.spec?.tolerations, pod.spec?.tolerations) ||
          old.metadata?.deletionTimestamp !== pod.metadata?.deletionTimestamp
        )
          this.onPod(pod);
      },
      onDelete: (pod) => this.queue.add(keyOf(pod)),
    });
    this.nodes.addEventHandler({
      onAdd: (node) => this.onNode(node),
      onUpdate: (old, node) => {
        if (!deepEqual(noExecuteTaints(old.spec?.taints), noExecuteTaints(node.spec?.taints)))
          this.onNode(node);
      },
      onDelete: (node) => this.onNode(node),
    });
  }

  /** start informers, wait for their caches, start the workers; resolves once syncing has begun */
  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.pods.waitForSync(), this.nodes.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  /** resolves when the workers have finished after stop() */
  async stopped(): Promise<void> {
    await this.workersDone;
  }

  private onPod(pod: Pod): void {
    if (pod.spec?.nodeName || this.scheduled.has(keyOf(pod))) this.queue.add(keyOf(pod));
  }

  private onNode(node: Node): void {
    const name = node.metadata?.name;
    for (const pod of this.pods.store.list()) if (pod.spec?.nodeName === name) this.queue.add(keyOf(pod));
  }

  /** is an eviction of this pod scheduled (for tests and metrics) */
  isScheduled(key: string): boolean {
    return this.scheduled.has(key);
  }

  async sync(key: string): Promise<void> {
    const pod = this.pods.store.get(key);
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata?.deletionTimestamp) {
      this.scheduled.delete(key);
      return;
    }
    const sched = this.scheduled.get(key);
    if (sched && sched.uid !== pod.metadata?.uid) this.scheduled.delete(key);
    const taints = noExecuteTaints(this.nodes.store.get(nodeName)?.spec?.taints);
    if (taints.length === 0) return this.cancel(pod);
    const { allTolerated, used } = matchingTolerations(taints, pod.spec?.tolerations ?? []);
    if (!allTolerated) {
      this.log.info(
        { pod: key, node: nodeName },
        'pod does not tolerate the NoExecute taints of its node; evicting',
      );
      return this.evict(pod);
    }
    const minMs = minTolerationMs(used);
    if (minMs < 0) return this.cancel(pod); // tolerated forever
    const now = this.clock.now();
    const createdAt = this.scheduled.get(key)?.createdAt ?? now;
    this.scheduled.set(key, { uid: pod.metadata?.uid ?? '', createdAt });
    const due = createdAt + minMs;
    if (due <= now) return this.evict(pod);
    this.queue.addAfter(key, due - now);
  }

  private cancel(pod: Pod): void {
    const key = keyOf(pod);
    if (!this.scheduled.delete(key)) return;
    this.events.event(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  private async evict(pod: Pod): Promise<void> {
    const key = keyOf(pod);
    const { namespace, name } = splitKey(key);
    this.events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    try {
      if (!pod.status?.conditions?.some((c) => c.type === 'DisruptionTarget' && c.status === 'True')) {
        const condition: PodCondition = {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'DeletionByTaintManager',
          message: 'Taint manager: deleting due to NoExecute taint',
          lastTransitionTime: rfc3339(this.clock.now()),
        };
        const next: Pod = {
          ...structuredClone(pod),
          status: {
            ...structuredClone(pod.status),
            conditions: [
              ...(pod.status?.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'),
              condition,
            ],
          },
        };
        await this.client.pods.updateStatus(next);
      }
      await this.client.pods.delete(name, {
        ...(namespace ? { namespace } : {}),
        preconditions: { uid: pod.metadata?.uid ?? '' },
      });
      this.scheduled.delete(key);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) {
        this.scheduled.delete(key);
        return;
      }
      throw err;
    }
  }
}
