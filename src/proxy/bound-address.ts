// One proxied address (ClusterIP or NodePort) held by this kube-proxy: binds it, and keeps retrying while another process holds it.
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { EndpointPicker } from './endpoint-picker.js';
import { proxyMetrics } from './metrics.js';
import type { ListenerSpec } from './rules.js';

export interface ListenerOptions {
  logger: Logger;
  /** how often to try again to bind an address someone else holds; jittered ±25% */
  bindRetryMs: number;
  /** for the endpoint choice and the retry jitter */
  random?: () => number;
  /** for session affinity's timeouts */
  clock?: Clock;
}

/**
 * A ClusterIP is one address for the whole cluster, and the kernel's bind is the lock: whichever kube-proxy
 * binds it serves it, the others retry every `bindRetryMs`, so a survivor takes over soon after the holder
 * dies. NodePorts bind this node's IP only, but retry the same way if something else sits on the port.
 */
export abstract class BoundAddress {
  protected spec: ListenerSpec;
  protected readonly picker: EndpointPicker;
  protected readonly log: Logger;
  protected readonly opts: ListenerOptions;
  private bound = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private loggedBusy = false;
  /** the Service (`namespace/name`) whose rules asked for this address */
  owner = '';

  constructor(spec: ListenerSpec, opts: ListenerOptions) {
    this.spec = spec;
    this.opts = opts;
    this.log = opts.logger.child({ address: spec.key, service: spec.servicePort });
    this.picker = new EndpointPicker({
      ...(opts.random ? { random: opts.random } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
    this.picker.setEndpoints(spec.endpoints, spec.affinityTimeoutMs);
  }

  get key(): string {
    return this.spec.key;
  }

  /** the rules this address serves now */
  get current(): ListenerSpec {
    return this.spec;
  }

  isBound(): boolean {
    return this.bound;
  }

  start(): void {
    this.tryBind();
  }

  update(spec: ListenerSpec): void {
    this.spec = spec;
    this.picker.setEndpoints(spec.endpoints, spec.affinityTimeoutMs);
    this.endpointsChanged();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.bound) {
      this.bound = false;
      proxyMetrics().boundListeners.dec({ kind: this.spec.kind });
      this.log.info('released');
    }
    this.release();
  }

  /** resolves once the address is bound; rejects with the bind error */
  protected abstract bind(): Promise<void>;
  /** stop listening (and drop per-address state) */
  protected abstract release(): void;
  /** the endpoint set changed: drop state tied to endpoints that left */
  protected endpointsChanged(): void {}

  private tryBind(): void {
    if (this.closed) return;
    this.bind().then(
      () => {
        if (this.closed) {
          this.release();
          return;
        }
        this.bound = true;
        proxyMetrics().boundListeners.inc({ kind: this.spec.kind });
        this.log.info({ endpoints: this.picker.size() }, this.loggedBusy ? 'took over address' : 'serving');
      },
      (err: NodeJS.ErrnoException) => {
        if (this.closed) return;
        if (err.code === 'EADDRINUSE') {
          // expected for a ClusterIP another node's kube-proxy serves: say so once, then quietly retry
          if (!this.loggedBusy) this.log.debug('address held elsewhere; will take it over when it is free');
          this.loggedBusy = true;
        } else {
          this.log.warn({ err: { code: err.code, message: err.message } }, 'bind failed; retrying');
        }
        const jitter = 0.75 + 0.5 * (this.opts.random ?? Math.random)();
        this.retryTimer = setTimeout(() => this.tryBind(), this.opts.bindRetryMs * jitter);
        this.retryTimer.unref();
      },
    );
  }
}
