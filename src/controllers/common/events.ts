// Records core/v1 Events about objects, as client-go's record.EventRecorder does for controllers (`kubectl describe` shows them).
import type { Event } from 'kubernetes-types/core/v1.js';
import type { KubeClient, ObjectWithMeta } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { rfc3339 } from '../../util/objects.js';
import { silentLogger, type Logger } from '../../util/logger.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: KubeClient;
  /** `source.component` and `reportingComponent`, e.g. `replicaset-controller` */
  component: string;
  clock?: Clock;
  logger?: Logger;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  first: string;
}

/** how many distinct (object, reason, message) events are remembered for counting repeats */
const MAX_REMEMBERED = 4096;

/**
 * Fire-and-forget: recording never fails the caller, as upstream's broadcaster. A repeat of the same
 * event about the same object bumps `count` and `lastTimestamp` instead of making a new Event.
 */
export class EventRecorder {
  private readonly opts: EventRecorderOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly seen = new Map<string, Seen>();
  private seq = 0;
  /** writes in flight, so tests can wait for them */
  private pending = new Set<Promise<void>>();

  constructor(opts: EventRecorderOptions) {
    this.opts = opts;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ recorder: opts.component });
  }

  event(obj: ObjectWithMeta, type: EventType, reason: string, message: string): void {
    const p = this.record(obj, type, reason, message).catch((err: unknown) =>
      this.log.warn({ err, reason }, 'could not record event'),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** resolves when every event recorded so far has been written (or failed) */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** like upstream's `%x` of UnixNano, made unique within one millisecond */
  private uniqueSuffix(nowMs: number): string {
    return (BigInt(nowMs) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16);
  }

  private async record(obj: ObjectWithMeta, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const now = this.clock.now();
    const dedupKey = `${meta.uid ?? `${namespace}/${meta.name}`}\u0000${type}\u0000${reason}\u0000${message}`;
    const previous = this.seen.get(dedupKey);
    const name = previous?.name ?? `${meta.name ?? 'unknown'}.${this.uniqueSuffix(now)}`;
    const count = (previous?.count ?? 0) + 1;
    const first = previous?.first ?? rfc3339(now);
    this.seen.delete(dedupKey);
    this.seen.set(dedupKey, { name, namespace, count, first });
    if (this.seen.size > MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value!);
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        ...(obj.apiVersion ? { apiVersion: obj.apiVersion } : {}),
        ...(obj.kind ? { kind: obj.kind } : {}),
        namespace: meta.namespace,
        name: meta.name,
        uid: meta.uid,
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      source: { component: this.opts.component },
      reportingComponent: this.opts.component,
      reportingInstance: '',
      firstTimestamp: first,
      lastTimestamp: rfc3339(now),
      count,
    };
    if (previous) {
      try {
        await this.opts.client.events.update(event);
        return;
      } catch {
        // the earlier Event expired or was deleted: make a new one
      }
      event.metadata = { name: `${meta.name ?? 'unknown'}.${this.uniqueSuffix(now)}`, namespace };
      this.seen.set(dedupKey, { name: event.metadata.name!, namespace, count, first });
    }
    await this.opts.client.events.create(event);
  }
}
