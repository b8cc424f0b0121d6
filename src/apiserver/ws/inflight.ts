// A connection's in-flight request bound, as upstream's API Priority and Fairness does it per priority level: a few
// requests execute at once, more wait in a bounded queue, and beyond that the request is refused with 429.

export interface InflightLimits {
  /** requests executing at once (handled, and their answer not yet written); default 64 */
  maxInflight?: number;
  /** requests waiting for a free slot; past this they are refused; default 1024 */
  maxQueued?: number;
}

export const DEFAULT_MAX_INFLIGHT = 64;
export const DEFAULT_MAX_QUEUED = 1024;

/**
 * Runs tasks with at most `maxInflight` at once, in arrival order. A task holds its slot until its promise settles,
 * which for the internal face is when its whole answer was handed to the socket under flow control.
 */
export class InflightLimiter {
  private readonly maxInflight: number;
  private readonly maxQueued: number;
  private running = 0;
  private readonly queue: (() => Promise<void>)[] = [];
  private head = 0;
  private closed = false;

  constructor(limits: InflightLimits = {}) {
    this.maxInflight = limits.maxInflight ?? DEFAULT_MAX_INFLIGHT;
    this.maxQueued = limits.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (this.maxInflight < 1) throw new RangeError('maxInflight must be at least 1');
    if (this.maxQueued < 0) throw new RangeError('maxQueued must not be negative');
  }

  /** tasks executing now */
  inflight(): number {
    return this.running;
  }

  /** tasks waiting for a slot */
  queued(): number {
    return this.queue.length - this.head;
  }

  /**
   * Start `task` now if a slot is free, else queue it; false (and `task` never runs) when the queue is full.
   * `task` must not reject: it answers its own failures.
   */
  submit(task: () => Promise<void>): boolean {
    if (this.closed) return false;
    if (this.running < this.maxInflight) {
      this.run(task);
      return true;
    }
    if (this.queued() >= this.maxQueued) return false;
    this.queue.push(task);
    return true;
  }

  /** forget the queued tasks (their connection is gone); running ones finish on their own */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
  }

  private run(task: () => Promise<void>): void {
    this.running++;
    const done = (): void => {
      this.running--;
      this.next();
    };
    // tasks handle their own failures (the internal face answers them with a Status)
    void task().then(done, done);
  }

  private next(): void {
    while (!this.closed && this.running < this.maxInflight && this.head < this.queue.length) {
      const task = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.run(task);
    }
  }
}
