// The TTL-after-finished controller (upstream pkg/controller/ttlafterfinished): deletes a finished Job, with its
// pods (foreground), ttlSecondsAfterFinished after it finished.
import type { Job } from 'kubernetes-types/batch/v1.js';
import {
  WorkQueue,
  keyOf,
  splitKey,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { isNotFound } from '../common/controller-ref.js';
import type { SharedInformerFactory } from '../common/informers.js';
import { jobClient, jobInformer } from '../job/job-controller.js';
import { finishedCondition } from '../job/job-util.js';

export const TTL_AFTER_FINISHED_CONTROLLER_NAME = 'ttl-after-finished-controller';

export interface TTLAfterFinishedControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
}

/** needsCleanup: a TTL and a finished condition */
function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished !== undefined && finishedCondition(job) !== undefined;
}

/** ms until the Job expires (≤ 0: expired), or undefined when it never does */
export function timeLeft(job: Job, now: number): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const finishedAt = finishedCondition(job)?.lastTransitionTime;
  if (ttl === undefined || !finishedAt) return undefined;
  return Date.parse(finishedAt) + ttl * 1000 - now;
}

export class TTLAfterFinishedController {
  readonly queue: WorkQueue<string>;
  private readonly jobs: ResourceClient<Job>;
  private readonly informers: SharedInformerFactory;
  private readonly jobInformer: Informer<Job>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly workers: number;
  private workersDone: Promise<void> | undefined;

  constructor(opts: TTLAfterFinishedControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('TTLAfterFinishedController needs client and informers');
    this.jobs = jobClient(opts.client);
    this.informers = opts.informers;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: TTL_AFTER_FINISHED_CONTROLLER_NAME });
    this.workers = opts.workers ?? 5;
    this.queue = new WorkQueue<string>({ name: 'ttl_jobs_to_delete', clock: this.clock, logger: this.log });
    this.jobInformer = jobInformer(this.informers);
    const enqueue = (job: Job): void => {
      if (!job.metadata?.deletionTimestamp && needsCleanup(job)) this.queue.add(keyOf(job));
    };
    this.jobInformer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, cur) => enqueue(cur) });
  }

  async run(): Promise<void> {
    this.informers.start();
    await this.jobInformer.waitForSync();
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.processJob(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** processJob: delete the Job once expired, re-checked against a fresh read; else look again when it expires */
  async processJob(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const cached = this.jobInformer.store.getByName(namespace, name);
    if (!cached || cached.metadata?.deletionTimestamp || !needsCleanup(cached)) return;
    const left = timeLeft(cached, this.clock.now());
    if (left === undefined) return;
    if (left > 0) {
      this.queue.addAfter(key, left);
      return;
    }
    let fresh: Job;
    try {
      fresh = await this.jobs.get(name, namespace);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (fresh.metadata?.deletionTimestamp || !needsCleanup(fresh)) return;
    const freshLeft = timeLeft(fresh, this.clock.now()) ?? 1;
    if (freshLeft > 0) {
      this.queue.addAfter(key, freshLeft);
      return;
    }
    this.log.info({ job: key }, 'cleaning up finished Job after its TTL');
    try {
      await this.jobs.delete(name, {
        namespace,
        propagationPolicy: 'Foreground',
        preconditions: { resourceVersion: fresh.metadata?.resourceVersion ?? '' },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
