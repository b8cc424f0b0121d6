// upstream's pkg/controller/certificates CertificateController: every CertificateSigningRequest added or changed is
// queued; a worker hands a copy of the cached request to `handler` unless it already has a certificate, and retries
// failures with upstream's back-off (200 ms doubling to 1000 s).
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import { ItemExponentialRateLimiter, WorkQueue, keyOf, splitKey, type Informer } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { deepCopy } from '../../util/objects.js';
import type { Logger } from '../../util/logger.js';
import type { SharedInformerFactory } from '../common/informers.js';
import { csrInformer } from './csr-util.js';

export type CsrHandler = (csr: CertificateSigningRequest) => Promise<void>;

/** a failure expected to resolve itself (a signer not recognising a request): retried, logged quietly */
export class IgnorableError extends Error {}

export class CertificateController {
  readonly queue: WorkQueue<string>;
  private readonly informer: Informer<CertificateSigningRequest>;
  private workersDone: Promise<void> | undefined;

  constructor(
    readonly name: string,
    private readonly informers: SharedInformerFactory,
    private readonly handler: CsrHandler,
    private readonly log: Logger,
    clock: Clock = realClock,
    private readonly workers = 5,
  ) {
    this.queue = new WorkQueue<string>({
      name,
      clock,
      logger: log,
      rateLimiter: new ItemExponentialRateLimiter<string>(200, 1_000_000),
    });
    this.informer = csrInformer(informers);
    const enqueue = (csr: CertificateSigningRequest): void => this.queue.add(keyOf(csr));
    this.informer.addEventHandler({
      onAdd: enqueue,
      onUpdate: (_old, cur) => enqueue(cur),
      onDelete: enqueue,
    });
  }

  async run(): Promise<void> {
    this.informers.start();
    await this.informer.waitForSync();
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.workers, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** syncFunc: a deleted request or one with a certificate needs nothing more */
  async sync(key: string): Promise<void> {
    const { name } = splitKey(key);
    const csr = this.informer.store.getByName(undefined, name);
    if (!csr || csr.status?.certificate) return;
    try {
      await this.handler(deepCopy(csr));
    } catch (err) {
      if (err instanceof IgnorableError) this.log.debug({ csr: name, err: err.message }, 'sync failed');
      throw err;
    }
  }
}
