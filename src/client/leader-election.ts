// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package does it with a LeaseLock
// (k8s.io/client-go/tools/leaderelection/leaderelection.go): candidates try to acquire the Lease every retry period;
// the holder renews it every retry period and gives up when it could not renew within the renew deadline; another
// candidate takes it over once it has seen the same record unchanged for a whole lease duration (by its own clock,
// never by the holder's renewTime, so clock skew does not matter). A holder that stops on purpose releases the Lease
// (an empty holder and a 1 s duration), so its successor need not wait.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../api/errors.js';
import { realClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { rfc3339Micro } from '../util/objects.js';
import type { EventRecorder } from './event-recorder.js';
import type { KubeClient } from './typed-client.js';

export interface LeaderElectionOptions {
  client: KubeClient;
  /** the Lease: `--leader-elect-resource-namespace` / `--leader-elect-resource-name` */
  namespace: string;
  name: string;
  /** this candidate; default upstream's `<hostname>_<uuid>` */
  identity?: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  logger: Logger;
  clock?: Clock;
  /** `LeaderElection` events on the Lease ("<identity> became leader"), as upstream's LeaseLock records them */
  recorder?: EventRecorder;
}

export interface LeaderCallbacks {
  /** this candidate leads now: start the work (not awaited by the renewals) */
  onStartedLeading(): void | Promise<void>;
  /** leadership is lost (not renewed within the renew deadline) or given up by `stop` */
  onStoppedLeading(): void;
  /** another (or this) candidate was seen holding the Lease */
  onNewLeader?(identity: string): void;
}

/** upstream's check of the three durations (leaderelection.NewLeaderElector) */
export function validateLeaderElection(o: {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}): string | undefined {
  if (!(o.leaseDurationMs > o.renewDeadlineMs)) return 'leaseDuration must be greater than renewDeadline';
  // client-go's JitterFactor (1.2): the deadline must leave room for a jittered retry
  if (!(o.renewDeadlineMs > 1.2 * o.retryPeriodMs))
    return 'renewDeadline must be greater than retryPeriod*JitterFactor';
  if (!(o.leaseDurationMs >= 1) || !(o.retryPeriodMs >= 1)) return 'durations must be positive';
  return undefined;
}

const JITTER = 1.2;

export class LeaderElector {
  readonly identity: string;
  private readonly clock: Clock;
  private observed: LeaseSpec | undefined;
  private observedRaw = '';
  private observedTime = 0;
  private lease: Lease | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private leading = false;
  private reportedLeader = '';

  constructor(private readonly opts: LeaderElectionOptions) {
    const invalid = validateLeaderElection(opts);
    if (invalid) throw new TypeError(`leader election: ${invalid}`);
    // KUBEMU_HOSTNAME: the control-plane member this process stands for (`kubemu up --control-plane 3` runs every
    // member on one host, where upstream's `os.Hostname()` would name them all alike)
    this.identity = opts.identity ?? `${process.env['KUBEMU_HOSTNAME'] || hostname()}_${randomUUID()}`;
    this.clock = opts.clock ?? realClock;
  }

  /** whether this candidate holds the Lease by what it last saw */
  isLeader(): boolean {
    return this.observed?.holderIdentity === this.identity;
  }

  /** the holder last seen, '' when none */
  leader(): string {
    return this.observed?.holderIdentity ?? '';
  }

  /**
   * Acquires the Lease (retrying until `stop`), calls onStartedLeading, then renews until leadership is lost or
   * `stop` is called; onStoppedLeading is called in both cases (once, and only after onStartedLeading).
   */
  async run(callbacks: LeaderCallbacks): Promise<void> {
    this.callbacks = callbacks;
    const { logger: log, namespace, name } = this.opts;
    log.info(
      { lease: `${namespace}/${name}`, identity: this.identity },
      'attempting to acquire leader lease',
    );
    while (!this.stopped && !(await this.tryAcquireOrRenew())) await this.pause(this.jittered());
    if (this.stopped) return;
    this.leading = true;
    log.info({ lease: `${namespace}/${name}`, identity: this.identity }, 'successfully acquired lease');
    this.opts.recorder?.event(
      this.leaseTarget(),
      'Normal',
      'LeaderElection',
      `${this.identity} became leader`,
    );
    void Promise.resolve()
      .then(() => callbacks.onStartedLeading())
      .catch((err: unknown) => log.error({ err }, 'onStartedLeading failed'));
    // renew every retry period; a round that finds no success within the renew deadline loses the lease
    while (!this.stopped) {
      const deadline = this.clock.now() + this.opts.renewDeadlineMs;
      let renewed = false;
      while (!this.stopped) {
        const left = deadline - this.clock.now();
        if (left <= 0) break;
        renewed = await this.withTimeout(this.tryAcquireOrRenew(), left);
        if (renewed) break;
        await this.pause(Math.min(this.opts.retryPeriodMs, Math.max(0, deadline - this.clock.now())));
      }
      if (this.stopped) break;
      if (!renewed) {
        log.error(
          { lease: `${namespace}/${name}`, identity: this.identity },
          'failed to renew lease: leaderelection lost',
        );
        this.leading = false;
        this.opts.recorder?.event(
          this.leaseTarget(),
          'Normal',
          'LeaderElection',
          `${this.identity} stopped leading`,
        );
        callbacks.onStoppedLeading();
        return;
      }
      await this.pause(this.opts.retryPeriodMs);
    }
  }

  private callbacks: LeaderCallbacks | undefined;

  /** Stops trying; a leader releases the Lease (ReleaseOnCancel) and gets onStoppedLeading. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    if (!this.leading) return;
    this.leading = false;
    await this.release();
    this.callbacks?.onStoppedLeading();
  }

  private leaseTarget(): Lease {
    return (
      this.lease ?? {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
      }
    );
  }

  private jittered(): number {
    return this.opts.retryPeriodMs * (1 + Math.random() * (JITTER - 1));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        t.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  /** false when `p` does not settle within `ms` (the request goes on; its answer is then ignored) */
  private withTimeout(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = this.clock.setTimeout(() => resolve(false), ms);
      p.then(
        (v) => {
          t.cancel();
          resolve(v);
        },
        () => {
          t.cancel();
          resolve(false);
        },
      );
    });
  }

  private record(now: number): LeaseSpec {
    const micro = rfc3339Micro(now);
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.round(this.opts.leaseDurationMs / 1000)),
      acquireTime: micro,
      renewTime: micro,
      leaseTransitions: 0,
    };
  }

  private observe(spec: LeaseSpec, now: number): void {
    const raw = JSON.stringify(spec);
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observed = spec;
      this.observedTime = now;
    }
    const holder = spec.holderIdentity ?? '';
    if (holder && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      if (holder !== this.identity)
        this.opts.logger.info(
          { lease: `${this.opts.namespace}/${this.opts.name}`, leader: holder },
          'new leader elected',
        );
      this.callbacks?.onNewLeader?.(holder);
    }
  }

  private leaseValid(now: number): boolean {
    return this.observedTime + this.opts.leaseDurationMs > now;
  }

  /** One attempt, as client-go's tryAcquireOrRenew: true when this candidate holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name } = this.opts;
    const now = this.clock.now();
    const record = this.record(now);
    // the fast path: a leader whose lease is still valid renews without reading first
    if (this.isLeader() && this.leaseValid(now) && this.lease && this.observed) {
      const renewed = await this.update({
        ...record,
        acquireTime: this.observed.acquireTime ?? record.acquireTime,
        leaseTransitions: this.observed.leaseTransitions ?? 0,
      }).catch(() => false);
      if (renewed) return true;
      // fall back to reading the Lease
    }
    let current: Lease;
    try {
      current = await client.leases.get(name, namespace);
    } catch (err) {
      if (!(ApiError.isApiError(err) && err.code === 404)) {
        this.opts.logger.warn({ err: (err as Error).message }, 'error retrieving resource lock');
        return false;
      }
      try {
        this.lease = await client.leases.create(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace },
            spec: record,
          },
          { namespace },
        );
      } catch (createErr) {
        this.opts.logger.warn(
          { err: (createErr as Error).message },
          'error initially creating leader election record',
        );
        return false;
      }
      this.observe(record, now);
      return true;
    }
    this.lease = current;
    const old = current.spec ?? {};
    this.observe(old, now);
    if (old.holderIdentity && this.leaseValid(now) && !this.isLeader()) return false;
    const next: LeaseSpec = this.isLeader()
      ? {
          ...record,
          acquireTime: old.acquireTime ?? record.acquireTime,
          leaseTransitions: old.leaseTransitions ?? 0,
        }
      : { ...record, leaseTransitions: (old.leaseTransitions ?? 0) + 1 };
    return this.update(next).catch((err: unknown) => {
      this.opts.logger.warn({ err: (err as Error).message }, 'failed to update lock');
      return false;
    });
  }

  private async update(spec: LeaseSpec): Promise<boolean> {
    if (!this.lease) return false;
    this.lease = await this.opts.client.leases.update({ ...this.lease, spec });
    this.observe(spec, this.clock.now());
    return true;
  }

  /** upstream's release: an empty holder, a 1 s duration, the transitions kept */
  private async release(): Promise<void> {
    if (!this.isLeader() || !this.lease) return;
    const now = rfc3339Micro(this.clock.now());
    try {
      await this.update({
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: this.observed?.leaseTransitions ?? 0,
      });
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'failed to release lock');
    }
  }
}
