// The cluster DNS process's core: informers on Services, EndpointSlices and Namespaces feeding the records,
// and the server answering from them (records are computed per query from the caches: always current).
import type { Namespace, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { Informer, type KubeClient } from '../client/index.js';
import { realClock, type Clock } from '../util/clock.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { ClusterRecords, type DnsView } from './records.js';
import { DnsServer, type TcpTimeouts } from './server.js';

export const DEFAULT_ZONE = 'cluster.local';
export const DEFAULT_TTL = 5;
/** by convention the 10th address of the ClusterIP range, as kube-dns's 10.96.0.10 */
export { DEFAULT_DNS_IP } from '../util/dns-address.js';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const BY_SERVICE = 'service';

export interface ClusterDnsOptions {
  client: KubeClient;
  host: string;
  port: number;
  zone?: string;
  ttl?: number;
  logger?: Logger;
  clock?: Clock;
  /** TCP read/write/idle timeouts; CoreDNS's 3 s / 5 s / 10 s by default */
  tcpTimeouts?: TcpTimeouts;
}

export class ClusterDns {
  private readonly services: Informer<Service>;
  private readonly slices: Informer<EndpointSlice>;
  private readonly namespaces: Informer<Namespace>;
  private readonly server: DnsServer;
  private readonly log: Logger;
  private readonly clock: Clock;
  private stopped = false;

  constructor(opts: ClusterDnsOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'dns' });
    const clock = (this.clock = opts.clock ?? realClock);
    const common = { clock, logger: this.log };
    this.services = new Informer<Service>({ source: opts.client.services, name: 'services', ...common });
    this.slices = new Informer<EndpointSlice>({
      source: opts.client.endpointSlices,
      name: 'endpointslices',
      indexers: {
        [BY_SERVICE]: (s) => {
          const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
          return svc ? [`${s.metadata?.namespace}/${svc}`] : [];
        },
      },
      ...common,
    });
    this.namespaces = new Informer<Namespace>({
      source: opts.client.namespaces,
      name: 'namespaces',
      ...common,
    });
    const view: DnsView = {
      service: (ns, name) => this.services.store.getByName(ns, name),
      endpointSlices: (ns, name) => this.slices.store.byIndex(BY_SERVICE, `${ns}/${name}`),
      namespaceExists: (ns) => this.namespaces.store.get(ns) !== undefined,
      allServices: () => this.services.store.list(),
    };
    const records = new ClusterRecords(view, {
      zone: opts.zone ?? DEFAULT_ZONE,
      ttl: opts.ttl ?? DEFAULT_TTL,
      serial: Math.floor(clock.now() / 1000) >>> 0,
    });
    this.server = new DnsServer({
      records,
      host: opts.host,
      port: opts.port,
      logger: this.log,
      ...(opts.tcpTimeouts ? { tcpTimeouts: opts.tcpTimeouts } : {}),
    });
  }

  get port(): number {
    return this.server.port;
  }

  /** answers only once the caches are filled: an empty cache would say NXDOMAIN to names that exist */
  async start(): Promise<void> {
    for (const i of [this.services, this.slices, this.namespaces]) i.start();
    await Promise.all([
      this.services.waitForSync(),
      this.slices.waitForSync(),
      this.namespaces.waitForSync(),
    ]);
    // The DNS address is one per machine, like a ClusterIP (docs/design: the bind is the lock): when another
    // cluster holds it, wait for it to be free rather than crash-loop.
    for (let warned = false; ;) {
      try {
        await this.server.listen();
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || this.stopped) throw err;
        if (!warned)
          this.log.warn({ err }, 'DNS address in use (another cluster?): retrying until it is free');
        warned = true;
        await new Promise<void>((resolve) => this.clock.setTimeout(resolve, 1000));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.server.close();
    for (const i of [this.services, this.slices, this.namespaces]) i.stop();
  }
}
