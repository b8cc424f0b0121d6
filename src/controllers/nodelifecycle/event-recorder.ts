// A minimal client-go EventRecorder: writes core/v1 Events about an object, best effort (failures are logged).
import type { Event, ObjectReference } from 'kubernetes-types/core/v1.js';
import type { KubeClient, ObjectWithMeta } from '../../client/index.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { rfc3339 } from '../../util/objects.js';

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  // upstream names events `<object>.<unix nanos in hex>`; a counter keeps two in one millisecond apart
  private seq = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** record `reason`/`message` about `obj`; never throws, never blocks the caller */
  event(obj: ObjectWithMeta, type: EventType, reason: string, message: string): void {
    const now = this.clock.now();
    const meta = obj.metadata ?? {};
    const involved: ObjectReference = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: meta.name,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      ...(meta.namespace ? { namespace: meta.namespace } : {}),
    };
    // Events about cluster-scoped objects (Nodes) live in `default`, as upstream's recorder puts them.
    const namespace = meta.namespace ?? 'default';
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${meta.name ?? 'unknown'}.${(now * 1_000_000 + (this.seq++ % 1_000_000)).toString(16)}`, namespace },
      involvedObject: involved,
      reason,
      message,
      type,
      source: { component: this.component },
      firstTimestamp: rfc3339(now),
      lastTimestamp: rfc3339(now),
      count: 1,
      reportingComponent: this.component,
      reportingInstance: this.component,
    };
    this.client.events.create(event, { namespace }).catch((err: unknown) => {
      this.log.debug({ err, reason, object: meta.name }, 'could not record event');
    });
  }
}
