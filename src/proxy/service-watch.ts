// The Services and EndpointSlices every kube-proxy mode watches, with the Service each change touches
// (`namespace/name`), as upstream's ServiceConfig / EndpointSliceConfig feed the proxiers.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, keyOf, type KubeClient } from '../client/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import { proxyMetrics } from './metrics.js';
import { SERVICE_NAME_LABEL } from './rules.js';

const SLICE_SERVICE_INDEX = 'service';

export interface ServiceWatchOptions {
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  /** a Service, or one of its EndpointSlices, changed (or went away) */
  onChange: (serviceKey: string, what: 'service' | 'endpoints') => void;
}

export class ServiceWatch {
  readonly services: Informer<Service>;
  readonly slices: Informer<EndpointSlice>;

  constructor(opts: ServiceWatchOptions) {
    const { client, clock, logger, onChange } = opts;
    this.services = new Informer<Service>({ source: client.services, name: 'services', clock, logger });
    this.slices = new Informer<EndpointSlice>({
      source: client.endpointSlices,
      name: 'endpointslices',
      clock,
      logger,
      indexers: {
        [SLICE_SERVICE_INDEX]: (s) => {
          const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
          return svc ? [`${s.metadata?.namespace ?? ''}/${svc}`] : [];
        },
      },
    });
    const metrics = proxyMetrics();
    const serviceChanged = (svc: Service): void => {
      metrics.serviceChanges.inc();
      onChange(keyOf(svc), 'service');
    };
    this.services.addEventHandler({
      onAdd: serviceChanged,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion !== cur.metadata?.resourceVersion) serviceChanged(cur);
      },
      onDelete: serviceChanged,
    });
    const sliceChanged = (slice: EndpointSlice): void => {
      const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!svc) return;
      metrics.endpointChanges.inc();
      onChange(`${slice.metadata?.namespace ?? ''}/${svc}`, 'endpoints');
    };
    this.slices.addEventHandler({
      onAdd: sliceChanged,
      onUpdate: (old, cur) => {
        if (old.metadata?.resourceVersion === cur.metadata?.resourceVersion) return;
        sliceChanged(cur);
        if (old.metadata?.labels?.[SERVICE_NAME_LABEL] !== cur.metadata?.labels?.[SERVICE_NAME_LABEL])
          sliceChanged(old);
      },
      onDelete: sliceChanged,
    });
  }

  /** start watching; resolves once both caches are filled */
  async start(): Promise<void> {
    this.services.start();
    this.slices.start();
    await Promise.all([this.services.waitForSync(), this.slices.waitForSync()]);
  }

  stop(): void {
    this.services.stop();
    this.slices.stop();
  }

  service(key: string): Service | undefined {
    return this.services.store.get(key);
  }

  slicesOf(serviceKey: string): EndpointSlice[] {
    return this.slices.store.byIndex(SLICE_SERVICE_INDEX, serviceKey);
  }
}
