// Records core/v1 Events about objects for every component (as client-go's record.EventRecorder), folding repeats.
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { rfc3339, rfc3339Micro } from '../util/objects.js';
import type { KubeClient, ObjectWithMeta } from './typed-client.js';

export type EventType = 'Normal' | 'Warning';

/** what an Event is about: an object, or a reference (which may point into it with `fieldPath`) */
export type EventTarget = ObjectWithMeta | ObjectReference;

export interface EventRecorderOptions {
  client: KubeClient;
  /** `source.component` and `reportingComponent`, e.g. `replicaset-controller`, `kubelet` */
  component: string;
  /** `source.host` (the kubelet's node name); also the default `reportingInstance` */
  host?: string;
  /** `reportingInstance`, e.g. `default-scheduler-<hostname>`; default `host`, else empty */
  instance?: string;
  clock?: Clock;
  logger?: Logger;
  /**
   * Event writes in flight at once (default 1, as client-go's broadcaster writes one event at a time): a burst
   * of events queues here instead of in front of the apiserver's other writes, so the writes that make things
   * happen (bindings, pod statuses) are not stuck behind the ones that only tell about them.
   */
  maxInFlight?: number;
}

/** events waiting to be written; beyond this many, new ones are dropped (client-go's broadcaster queue is 1000) */
const MAX_QUEUED = 1000;

interface Series {
  name: string;
  namespace: string;
  count: number;
  first: string;
  /** the last write of this series: a repeat waits for it, so its patch never races the create */
  busy: Promise<void>;
}

/** how many distinct (object, fieldPath, type, reason, message) series are remembered for counting repeats */
const MAX_SERIES = 4096;

/** The ObjectReference an Event about `obj` points to; `apiVersion`/`kind` fill in what the object lacks. */
export function referenceTo(obj: ObjectWithMeta, apiVersion?: string, kind?: string): ObjectReference {
  const meta = obj.metadata ?? {};
  const av = obj.apiVersion ?? apiVersion;
  const k = obj.kind ?? kind;
  return {
    ...(av ? { apiVersion: av } : {}),
    ...(k ? { kind: k } : {}),
    // a cluster-scoped object has no namespace: the field is left out (never sent as undefined)
    ...(meta.namespace ? { namespace: meta.namespace } : {}),
    name: meta.name,
    uid: meta.uid,
    ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
  };
}

/**
 * Fire-and-forget: recording never fails nor blocks the caller, as upstream's broadcaster; a failed write is only
 * logged. A repeat of the same event about the same object (and fieldPath) bumps `count` and `lastTimestamp` of
 * the existing Event instead of making a new one, as upstream's correlator.
 */
export class EventRecorder {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly series = new Map<string, Series>();
  private readonly pending = new Set<Promise<void>>();
  private readonly queued: (() => void)[] = [];
  private inFlight = 0;
  /** random start, so two processes naming events about one object in the same millisecond rarely collide */
  private seq = Math.floor(Math.random() * 1_000_000);

  constructor(private readonly opts: EventRecorderOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ recorder: opts.component });
  }

  /**
   * Records an event about `target`. `action` (the scheduler's `Scheduling`/`Binding`) also sets `eventTime`, as
   * events written through the events.k8s.io recorder carry both.
   */
  event(target: EventTarget, type: EventType, reason: string, message: string, action?: string): void {
    const ref: ObjectReference = 'metadata' in target ? referenceTo(target) : target;
    const namespace = ref.namespace ?? 'default';
    const now = this.clock.now();
    const key = [ref.uid ?? `${namespace}/${ref.name}`, ref.fieldPath ?? '', type, reason, message].join(
      '\u0000',
    );
    const previous = this.series.get(key);
    const series: Series = previous ?? {
      name: this.eventName(ref, now),
      namespace,
      count: 0,
      first: rfc3339(now),
      busy: Promise.resolve(),
    };
    series.count++;
    // least recently used goes first when too many series are remembered
    this.series.delete(key);
    this.series.set(key, series);
    if (this.series.size > MAX_SERIES) this.series.delete(this.series.keys().next().value!);

    const count = series.count;
    const lastTimestamp = rfc3339(now);
    const event = (): Event => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: series.name, namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      ...(action ? { action } : {}),
      source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance ?? this.opts.host ?? '',
      firstTimestamp: series.first,
      lastTimestamp,
      ...(action ? { eventTime: rfc3339Micro(now) } : {}),
      count,
    });
    const write = async (): Promise<void> => {
      if (count > 1) {
        try {
          await this.opts.client.events.patch(series.name, { count, lastTimestamp }, 'merge', { namespace });
          return;
        } catch (err) {
          // the earlier Event expired (TTL), was deleted or never made it: make a new one, keeping the count
          if ((err as { code?: number }).code !== 404) throw err;
          series.name = this.eventName(ref, now);
        }
      }
      await this.opts.client.events.create(event(), { namespace });
    };
    const p = series.busy
      .then(() => this.limited(write))
      .catch((err: unknown) =>
        this.log.warn({ err, reason, object: `${namespace}/${ref.name}` }, 'could not record event'),
      );
    series.busy = p;
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** runs `write` when fewer than maxInFlight writes are running; rejects at once when too many wait */
  private limited(write: () => Promise<void>): Promise<void> {
    const max = this.opts.maxInFlight ?? 1;
    if (this.inFlight >= max && this.queued.length >= MAX_QUEUED)
      return Promise.reject(new Error(`more than ${MAX_QUEUED} events waiting to be written: dropped`));
    return new Promise<void>((resolve, reject) => {
      const run = (): void => {
        this.inFlight++;
        write()
          .then(resolve, reject)
          .finally(() => {
            this.inFlight--;
            this.queued.shift()?.();
          });
      };
      if (this.inFlight < max) run();
      else this.queued.push(run);
    });
  }

  /** resolves when every event recorded so far has been written (or failed) */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** forgets the series of an object that is gone (or whose earlier events should not be counted on) */
  forget(uid: string | undefined): void {
    if (!uid) return;
    for (const key of this.series.keys()) if (key.startsWith(`${uid}\u0000`)) this.series.delete(key);
  }

  /** `<object>.<hex>` like upstream's `%x` of UnixNano, made unique within one millisecond */
  private eventName(ref: ObjectReference, nowMs: number): string {
    const suffix = (BigInt(nowMs) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
    return `${ref.name ?? 'unknown'}.${suffix}`;
  }
}
