// Writes the scheduler's Events about pods (Scheduled, FailedScheduling), folding repeats into one Event with a count.
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../client/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { rfc3339, rfc3339Micro } from '../util/objects.js';

export interface EventRecorderOptions {
  client: KubeClient;
  /** source.component / reportingComponent: `default-scheduler` */
  component: string;
  /** reportingInstance, e.g. `default-scheduler-<hostname>` */
  instance: string;
  clock: Clock;
  logger: Logger;
}

interface Recorded {
  namespace: string;
  name: string;
  count: number;
}

/** how many distinct (pod, reason, message) series are remembered for aggregation */
const MAX_SERIES = 4096;

export class EventRecorder {
  private readonly series = new Map<string, Recorded>();
  private seq = 0;

  constructor(private readonly opts: EventRecorderOptions) {}

  /**
   * Record an event about `pod`; never throws (events are best effort, as upstream's broadcaster). Resolves when
   * the write is done, so tests can wait for it.
   */
  async record(
    pod: Pod,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    message: string,
  ): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const podName = pod.metadata?.name ?? '';
    const seriesKey = `${pod.metadata?.uid ?? `${namespace}/${podName}`}\u0000${reason}\u0000${message}`;
    const now = this.opts.clock.now();
    const events = this.opts.client.events;
    try {
      const seen = this.series.get(seriesKey);
      if (seen) {
        seen.count++;
        try {
          await events.patch(seen.name, { count: seen.count, lastTimestamp: rfc3339(now) }, 'merge', {
            namespace: seen.namespace,
          });
          return;
        } catch (err) {
          // the Event expired (TTL) or was deleted: start a new one
          if ((err as { code?: number }).code !== 404) throw err;
          this.series.delete(seriesKey);
        }
      }
      // upstream names events `<object>.<unix nanos in hex>`
      const name = `${podName}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
      const event: Event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace,
          name: podName,
          ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
          ...(pod.metadata?.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
        },
        reason,
        message,
        type,
        action,
        source: { component: this.opts.component },
        reportingComponent: this.opts.component,
        reportingInstance: this.opts.instance,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        eventTime: rfc3339Micro(now),
        count: 1,
      };
      await events.create(event, { namespace });
      if (this.series.size >= MAX_SERIES) this.series.delete(this.series.keys().next().value!);
      this.series.set(seriesKey, { namespace, name, count: 1 });
    } catch (err) {
      this.opts.logger.warn({ err, pod: `${namespace}/${podName}`, reason }, 'could not record event');
    }
  }

  /** forget a pod's series (it was deleted or scheduled) */
  forgetPod(uid: string | undefined): void {
    if (!uid) return;
    for (const key of this.series.keys()) if (key.startsWith(`${uid}\u0000`)) this.series.delete(key);
  }
}
