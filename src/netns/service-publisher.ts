// Publishes every Service's TCP and UDP NodePorts to the host: for each node address, a host listener on ADDRESS:nodePort whose
// connections go to the same ADDRESS:nodePort inside the cluster sandbox, where that node's kube-proxy takes them
// (a node's InternalIP is where the host reaches its NodePorts, as on a real cluster). Reconciled from the Services
// the caller hands in; one reconcile at a time, so a burst of Service changes never races itself.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { Logger } from '../util/logger.js';
import type { Endpoint } from './pipe.js';
import type { Protocol } from './publisher.js';

/** What publishing needs of a Publisher (src/netns/publisher.ts). */
export interface PortPublisher {
  publish(listen: Endpoint, target: Endpoint, protocol?: Protocol): Promise<Endpoint>;
  unpublish(listen: Endpoint, protocol?: Protocol): Promise<void>;
}

/** The TCP and UDP NodePorts `services` allocate, as `30001` (TCP) and `30002/UDP`; SCTP is not published. */
export function nodePorts(services: Iterable<Service>): Set<string> {
  const ports = new Set<string>();
  for (const svc of services) {
    const type = svc.spec?.type;
    if (type !== 'NodePort' && type !== 'LoadBalancer') continue;
    for (const p of svc.spec?.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      if (!p.nodePort || (protocol !== 'TCP' && protocol !== 'UDP')) continue;
      ports.add(protocol === 'UDP' ? `${p.nodePort}/UDP` : String(p.nodePort));
    }
  }
  return ports;
}

export class NodePortPublisher {
  /** `ip:port` published now */
  private readonly current = new Set<string>();
  private running: Promise<void> = Promise.resolve();
  private wanted = new Set<string>();

  constructor(
    private readonly publisher: PortPublisher,
    /** the nodes' InternalIPs: each node's NodePorts are published at its own address (setNodeIps follows them) */
    private nodeIps: readonly string[],
    private readonly log: Logger,
  ) {}

  /** Makes the published NodePorts those of `services`; resolves once done (errors are logged, retried next time). */
  update(services: Iterable<Service>): Promise<void> {
    this.wanted = nodePorts(services);
    this.running = this.running.then(() => this.reconcile());
    return this.running;
  }

  /** The nodes now (a node added or removed): its NodePorts published or unpublished; resolves once done. */
  setNodeIps(ips: readonly string[]): Promise<void> {
    this.nodeIps = [...new Set(ips)].sort();
    this.running = this.running.then(() => this.reconcile());
    return this.running;
  }

  /** published `ip:port`s (`ip:port/UDP` for UDP), for tests and status */
  published(): string[] {
    return [...this.current].sort();
  }

  private async reconcile(): Promise<void> {
    const want = new Set<string>();
    for (const port of this.wanted) for (const ip of this.nodeIps) want.add(`${ip}:${port}`);
    for (const key of [...this.current]) {
      if (want.has(key)) continue;
      const { endpoint, protocol } = parse(key);
      try {
        await this.publisher.unpublish(endpoint, protocol);
        this.current.delete(key);
        this.log.info({ address: key }, 'NodePort unpublished');
      } catch (err) {
        this.log.warn({ err, address: key }, 'cannot unpublish NodePort');
      }
    }
    for (const key of want) {
      if (this.current.has(key)) continue;
      const { endpoint, protocol } = parse(key);
      try {
        await this.publisher.publish(endpoint, endpoint, protocol);
        this.current.add(key);
        this.log.info({ address: key }, 'NodePort published to the host');
      } catch (err) {
        this.log.error({ err, address: key }, 'cannot publish NodePort to the host');
      }
    }
  }
}

function parse(key: string): { endpoint: Endpoint; protocol: Protocol } {
  const protocol: Protocol = key.endsWith('/UDP') ? 'UDP' : 'TCP';
  const address = protocol === 'UDP' ? key.slice(0, -'/UDP'.length) : key;
  const i = address.lastIndexOf(':');
  return { endpoint: { host: address.slice(0, i), port: Number(address.slice(i + 1)) }, protocol };
}
