// client-go's work queue: deduplicated keys, one worker per key at a time, per-key exponential backoff.
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';

export interface RateLimiter<K> {
  /** how long to wait before `key` is retried; each call counts one more failure */
  when(key: K): number;
  forget(key: K): void;
  numRequeues(key: K): number;
}

/** client-go's ItemExponentialFailureRateLimiter: base · 2^failures, capped. Defaults 5 ms → 1000 s. */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity long after the cap is reached; min() keeps it bounded.
    return Math.min(this.baseMs * 2 ** n, this.maxMs);
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface WorkQueueOptions<K> {
  /** for logs */
  name?: string;
  clock?: Clock;
  rateLimiter?: RateLimiter<K>;
  logger?: Logger;
}

/**
 * add() collapses duplicates; a key handed out by get() is not handed out again until done(key);
 * a key added while being processed is marked dirty and re-queued by done(). After shutDown() the
 * queue drains what it holds, then get() resolves undefined.
 */
export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter<K>;
  private readonly log: Logger;
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { at: number; timer: { cancel(): void } }>();
  private getters: ((key: K | undefined) => void)[] = [];
  private shutdown = false;

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.clock = opts.clock ?? realClock;
    this.rateLimiter = opts.rateLimiter ?? new ItemExponentialRateLimiter<K>();
    this.log = (opts.logger ?? silentLogger()).child({ queue: opts.name ?? 'workqueue' });
  }

  add(key: K): void {
    if (this.shutdown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.handOut();
  }

  /** add after `ms`; of several delayed adds of one key, the earliest wins */
  addAfter(key: K, ms: number): void {
    if (this.shutdown) return;
    if (ms <= 0) return this.add(key);
    const at = this.clock.now() + ms;
    const existing = this.waiting.get(key);
    if (existing && existing.at <= at) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimeout(() => {
      this.waiting.delete(key);
      this.add(key);
    }, ms);
    this.waiting.set(key, { at, timer });
  }

  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** the key succeeded: reset its backoff */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** the next key, or undefined once shut down and drained */
  get(): Promise<K | undefined> {
    if (this.queue.length) return Promise.resolve(this.take());
    if (this.shutdown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.queue.push(key);
      this.handOut();
    }
  }

  /** keys waiting to be handed out (not counting those being processed or delayed) */
  len(): number {
    return this.queue.length;
  }

  shutDown(): void {
    this.shutdown = true;
    for (const { timer } of this.waiting.values()) timer.cancel();
    this.waiting.clear();
    const getters = this.getters;
    this.getters = [];
    for (const resolve of getters) resolve(undefined);
  }

  shuttingDown(): boolean {
    return this.shutdown;
  }

  /**
   * Run `n` workers until shutDown(): get a key, run `handler`, forget it on success or re-queue it
   * rate-limited on error, then done(). Resolves when every worker has stopped.
   */
  async runWorkers(n: number, handler: (key: K) => Promise<void>): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
          this.forget(key);
        } catch (err) {
          this.log.warn(
            { err, key, requeues: this.numRequeues(key) },
            'error syncing; requeuing with backoff',
          );
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
  }

  private take(): K {
    const key = this.queue.shift()!;
    this.processing.add(key);
    this.dirty.delete(key);
    return key;
  }

  private handOut(): void {
    while (this.getters.length && this.queue.length) this.getters.shift()!(this.take());
  }
}
