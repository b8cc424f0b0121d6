// Events about Services (`kubectl describe svc` shows them), folding repeats into one Event with a count, as
// client-go's recorder does. Best effort: a failed write is logged, never thrown.
import type { Event, Service } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../client/index.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { rfc3339 } from '../util/objects.js';

/** upstream's service controller reports as `service-controller` */
export const COMPONENT = 'service-controller';
const MAX_SERIES = 4096;

interface Series {
  name: string;
  count: number;
  first: string;
}

export class ServiceEventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly pending = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock = realClock,
    private readonly log: Logger = silentLogger(),
  ) {}

  event(svc: Service, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const p = this.write(svc, type, reason, message).catch((err: unknown) =>
      this.log.warn({ err, reason }, 'could not record event'),
    );
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** resolves once every event recorded so far is written (or has failed) */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private async write(svc: Service, type: string, reason: string, message: string): Promise<void> {
    const meta = svc.metadata ?? {};
    const namespace = meta.namespace ?? 'default';
    const now = this.clock.now();
    const seriesKey = `${meta.uid}\u0000${reason}\u0000${message}`;
    const previous = this.series.get(seriesKey);
    const fresh = (): string =>
      `${meta.name}.${(BigInt(now) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    const current: Series = previous
      ? { ...previous, count: previous.count + 1 }
      : { name: fresh(), count: 1, first: rfc3339(now) };
    this.series.delete(seriesKey);
    this.series.set(seriesKey, current);
    if (this.series.size > MAX_SERIES) this.series.delete(this.series.keys().next().value!);
    const event = (name: string): Event => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Service',
        namespace,
        name: meta.name,
        uid: meta.uid,
        ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: '',
      firstTimestamp: current.first,
      lastTimestamp: rfc3339(now),
      count: current.count,
    });
    if (previous) {
      try {
        await this.client.events.update(event(current.name));
        return;
      } catch {
        // the earlier Event expired or was deleted: start a new one
        current.name = fresh();
      }
    }
    await this.client.events.create(event(current.name));
  }
}
