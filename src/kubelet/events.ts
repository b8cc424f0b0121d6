// Writes core/v1 Events for pods and the node as upstream's kubelet does, counting repeats instead of piling up.
import { randomBytes } from 'node:crypto';
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../client/index.js';
import type { Logger } from '../util/logger.js';
import { rfc3339 } from '../util/objects.js';

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  record(ref: ObjectReference, type: EventType, reason: string, message: string): void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  /** a create or patch in flight: repeats are folded into the next one */
  busy: Promise<unknown>;
}

/** Fire-and-forget: the kubelet never waits on an Event, and a failed write is only logged. */
export class EventRecorder implements EventSink {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly client: KubeClient,
    private readonly host: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  record(ref: ObjectReference, type: EventType, reason: string, message: string): void {
    const key = `${ref.uid ?? ''}|${ref.fieldPath ?? ''}|${type}|${reason}|${message}`;
    const namespace = ref.namespace ?? 'default';
    const now = this.now();
    const prev = this.seen.get(key);
    if (prev) {
      prev.count++;
      const count = prev.count;
      prev.busy = prev.busy
        .then(() =>
          this.client.events.patch(prev.name, { count, lastTimestamp: rfc3339(now) }, 'merge', { namespace }),
        )
        .catch((err: unknown) => this.log.debug({ err, reason }, 'event update failed'));
      return;
    }
    const name = `${ref.name ?? 'unknown'}.${randomBytes(8).toString('hex')}`;
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: ref,
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      source: { component: 'kubelet', host: this.host },
      reportingComponent: 'kubelet',
      reportingInstance: this.host,
    };
    const seen: Seen = { name, namespace, count: 1, busy: Promise.resolve() };
    seen.busy = this.client.events
      .create(event, { namespace })
      .catch((err: unknown) => this.log.debug({ err, reason }, 'event create failed'));
    this.seen.set(key, seen);
    // Bounded memory: forget the oldest when many distinct events were seen.
    if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Forgets the events of an object that is gone. */
  forget(uid: string): void {
    for (const k of this.seen.keys()) if (k.startsWith(`${uid}|`)) this.seen.delete(k);
  }
}
