// What the cluster DNS answers, as CoreDNS's kubernetes plugin does: Service A/SRV records (headless Services
// answer with their ready endpoints), endpoint names of headless Services, pod A records, NXDOMAIN inside the
// cluster domain for names that do not exist, REFUSED outside it (kubemu never forwards to the internet).
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { CLASS_IN, RCode, RecordType, type Question, type ResourceRecord } from './wire.js';

/** the cluster's objects, as the DNS server's informers see them */
export interface DnsView {
  service(namespace: string, name: string): Service | undefined;
  /** the EndpointSlices labelled `kubernetes.io/service-name=<name>` in `namespace` */
  endpointSlices(namespace: string, name: string): EndpointSlice[];
  namespaceExists(namespace: string): boolean;
  /** every Service, for reverse lookups */
  allServices(): Service[];
}

export interface RecordOptions {
  /** the cluster domain, e.g. `cluster.local` */
  zone: string;
  /** seconds; CoreDNS's default is 5 */
  ttl: number;
  /** the SOA serial */
  serial: number;
}

export interface Answer {
  rcode: number;
  authoritative: boolean;
  answers: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
}

/** the version of the Kubernetes DNS specification served at `dns-version.<zone>` */
export const DNS_SCHEMA_VERSION = '1.1.0';

interface ReadyEndpoint {
  ip: string;
  /** the label under `<svc>.<ns>.svc`: the endpoint's hostname, else its dashed IP */
  label: string;
  ports: { name: string; protocol: string; port: number }[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const dashed = (ip: string): string => ip.replace(/[.:]/g, '-');

const isHeadless = (svc: Service): boolean => svc.spec?.clusterIP === 'None';

function clusterIPv4s(svc: Service): string[] {
  const ips = svc.spec?.clusterIPs?.length
    ? svc.spec.clusterIPs
    : svc.spec?.clusterIP
      ? [svc.spec.clusterIP]
      : [];
  return ips.filter((ip) => IPV4.test(ip));
}

/** ready IPv4 endpoints of a Service, deduplicated across its slices (publishNotReadyAddresses counts all) */
export function readyEndpoints(svc: Service, slices: EndpointSlice[]): ReadyEndpoint[] {
  const all = svc.spec?.publishNotReadyAddresses === true;
  const byIp = new Map<string, ReadyEndpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4') continue;
    const ports = (slice.ports ?? []).map((p) => ({
      name: (p.name ?? '').toLowerCase(),
      protocol: (p.protocol ?? 'TCP').toLowerCase(),
      port: p.port ?? 0,
    }));
    for (const ep of slice.endpoints ?? []) {
      if (!all && ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses) {
        if (byIp.has(ip)) continue;
        byIp.set(ip, { ip, label: (ep.hostname ?? dashed(ip)).toLowerCase(), ports });
      }
    }
  }
  return [...byIp.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
}

export class ClusterRecords {
  constructor(
    private readonly view: DnsView,
    private readonly opts: RecordOptions,
  ) {}

  answer(q: Question): Answer {
    const name = q.name.toLowerCase().replace(/\.$/, '');
    if (q.class !== CLASS_IN && q.class !== 255) return this.refused();
    const zone = this.opts.zone;
    if (name === zone || name.endsWith(`.${zone}`)) {
      const labels = name === zone ? [] : name.slice(0, -(zone.length + 1)).split('.');
      return this.inZone(q, labels);
    }
    if (name.endsWith('.in-addr.arpa')) return this.reverse(q, name);
    return this.refused();
  }

  private refused(): Answer {
    return { rcode: RCode.REFUSED, authoritative: false, answers: [], authority: [], additional: [] };
  }

  private soa(): ResourceRecord {
    const { zone, ttl, serial } = this.opts;
    return {
      name: zone,
      type: RecordType.SOA,
      class: CLASS_IN,
      ttl,
      data: {
        kind: 'SOA',
        mname: `ns.dns.${zone}`,
        rname: `hostmaster.${zone}`,
        serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: ttl,
      },
    };
  }

  private nxdomain(): Answer {
    return {
      rcode: RCode.NXDOMAIN,
      authoritative: true,
      answers: [],
      authority: [this.soa()],
      additional: [],
    };
  }

  /** the name exists but has no records of the asked type (NODATA) */
  private nodata(): Answer {
    return {
      rcode: RCode.NOERROR,
      authoritative: true,
      answers: [],
      authority: [this.soa()],
      additional: [],
    };
  }

  private found(answers: ResourceRecord[], additional: ResourceRecord[] = []): Answer {
    if (answers.length === 0) return this.nodata();
    return { rcode: RCode.NOERROR, authoritative: true, answers, authority: [], additional };
  }

  private a(name: string, ip: string): ResourceRecord {
    return {
      name,
      type: RecordType.A,
      class: CLASS_IN,
      ttl: this.opts.ttl,
      data: { kind: 'A', address: ip },
    };
  }

  private srv(name: string, port: number, target: string, weight: number): ResourceRecord {
    return {
      name,
      type: RecordType.SRV,
      class: CLASS_IN,
      ttl: this.opts.ttl,
      data: { kind: 'SRV', priority: 0, weight, port, target },
    };
  }

  private inZone(q: Question, labels: string[]): Answer {
    const { zone } = this.opts;
    if (labels.length === 0) {
      if (q.type === RecordType.SOA || q.type === RecordType.ANY) return this.found([this.soa()]);
      if (q.type === RecordType.NS)
        return this.found([
          {
            name: zone,
            type: RecordType.NS,
            class: CLASS_IN,
            ttl: this.opts.ttl,
            data: { kind: 'NAME', target: `ns.dns.${zone}` },
          },
        ]);
      return this.nodata();
    }
    if (labels.length === 1 && labels[0] === 'dns-version') {
      if (q.type !== RecordType.TXT && q.type !== RecordType.ANY) return this.nodata();
      return this.found([
        {
          name: `dns-version.${zone}`,
          type: RecordType.TXT,
          class: CLASS_IN,
          ttl: this.opts.ttl,
          data: { kind: 'TXT', texts: [DNS_SCHEMA_VERSION] },
        },
      ]);
    }
    const kind = labels[labels.length - 1];
    // `svc.<zone>` and `pod.<zone>` exist as parents of real names
    if (labels.length === 1 && (kind === 'svc' || kind === 'pod')) return this.nodata();
    if (kind === 'svc') return this.serviceName(q, labels.slice(0, -1));
    if (kind === 'pod') return this.podName(q, labels.slice(0, -1));
    return this.nxdomain();
  }

  /** `labels` are what comes before `.svc.<zone>`, e.g. `['_http', '_tcp', 'web', 'default']` */
  private serviceName(q: Question, labels: string[]): Answer {
    const namespace = labels[labels.length - 1];
    if (!this.view.namespaceExists(namespace)) return this.nxdomain();
    if (labels.length === 1) return this.nodata();
    const svcName = labels[labels.length - 2];
    const svc = this.view.service(namespace, svcName);
    if (!svc) return this.nxdomain();
    const base = `${svcName}.${namespace}.svc.${this.opts.zone}`;
    const rest = labels.slice(0, -2);
    if (rest.length === 0) return this.serviceRecords(q, svc, base);
    if (rest.length === 2 && rest[0].startsWith('_') && rest[1].startsWith('_'))
      return this.portRecords(q, svc, base, rest[0].slice(1), rest[1].slice(1));
    if (rest.length === 1 && rest[0].startsWith('_')) {
      // `_tcp.<svc>...`: the parent of the port names exists if some port uses that protocol
      const protocol = rest[0].slice(1);
      const used = (svc.spec?.ports ?? []).some((p) => (p.protocol ?? 'TCP').toLowerCase() === protocol);
      return used ? this.nodata() : this.nxdomain();
    }
    if (rest.length === 1 && isHeadless(svc)) {
      const ep = readyEndpoints(svc, this.view.endpointSlices(namespace, svcName)).find(
        (e) => e.label === rest[0],
      );
      if (!ep) return this.nxdomain();
      if (q.type !== RecordType.A && q.type !== RecordType.ANY) return this.nodata();
      return this.found([this.a(`${ep.label}.${base}`, ep.ip)]);
    }
    return this.nxdomain();
  }

  private serviceRecords(q: Question, svc: Service, base: string): Answer {
    if (svc.spec?.type === 'ExternalName' && svc.spec.externalName) {
      return this.found([
        {
          name: base,
          type: RecordType.CNAME,
          class: CLASS_IN,
          ttl: this.opts.ttl,
          data: { kind: 'NAME', target: svc.spec.externalName },
        },
      ]);
    }
    const headless = isHeadless(svc);
    const endpoints = headless
      ? readyEndpoints(svc, this.view.endpointSlices(svc.metadata!.namespace!, svc.metadata!.name!))
      : [];
    const addresses = headless
      ? endpoints.map((e) => this.a(base, e.ip))
      : clusterIPv4s(svc).map((ip) => this.a(base, ip));
    if (q.type === RecordType.A) return this.found(addresses);
    if (q.type === RecordType.SRV || q.type === RecordType.ANY) {
      // SRV on the bare Service name lists every named port, as CoreDNS does
      const answers: ResourceRecord[] = [];
      if (headless) {
        const weight = Math.max(1, Math.floor(100 / Math.max(1, endpoints.length)));
        for (const ep of endpoints)
          for (const p of ep.ports) answers.push(this.srv(base, p.port, `${ep.label}.${base}`, weight));
        const additional = endpoints.map((e) => this.a(`${e.label}.${base}`, e.ip));
        return q.type === RecordType.ANY
          ? this.found([...addresses, ...answers])
          : this.found(answers, additional);
      }
      for (const p of svc.spec?.ports ?? []) answers.push(this.srv(base, p.port, base, 100));
      return q.type === RecordType.ANY
        ? this.found([...addresses, ...answers])
        : this.found(answers, addresses);
    }
    return this.nodata();
  }

  /** `_<port>._<proto>.<svc>.<ns>.svc.<zone>`: SRV records for a named port */
  private portRecords(q: Question, svc: Service, base: string, portName: string, protocol: string): Answer {
    const name = `_${portName}._${protocol}.${base}`;
    const matches = (p: { name?: string; protocol?: string }): boolean =>
      (p.name ?? '').toLowerCase() === portName && (p.protocol ?? 'TCP').toLowerCase() === protocol;
    const port = (svc.spec?.ports ?? []).find(matches);
    if (!port || !port.name) return this.nxdomain();
    if (q.type !== RecordType.SRV && q.type !== RecordType.ANY) return this.nodata();
    if (!isHeadless(svc)) {
      return this.found(
        [this.srv(name, port.port, base, 100)],
        clusterIPv4s(svc).map((ip) => this.a(base, ip)),
      );
    }
    const endpoints = readyEndpoints(
      svc,
      this.view.endpointSlices(svc.metadata!.namespace!, svc.metadata!.name!),
    );
    const answers: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    const weight = Math.max(1, Math.floor(100 / Math.max(1, endpoints.length)));
    for (const ep of endpoints) {
      const epPort = ep.ports.find((p) => p.name === portName && p.protocol === protocol);
      if (!epPort) continue;
      answers.push(this.srv(name, epPort.port, `${ep.label}.${base}`, weight));
      additional.push(this.a(`${ep.label}.${base}`, ep.ip));
    }
    return this.found(answers, additional);
  }

  /** `<a-b-c-d>.<ns>.pod.<zone>`: CoreDNS's `pods insecure` mode — any well-formed IP in an existing namespace */
  private podName(q: Question, labels: string[]): Answer {
    const namespace = labels[labels.length - 1];
    if (!this.view.namespaceExists(namespace)) return this.nxdomain();
    if (labels.length === 1) return this.nodata();
    if (labels.length !== 2) return this.nxdomain();
    const ip = labels[0].replace(/-/g, '.');
    if (!IPV4.test(ip)) return this.nxdomain();
    if (q.type !== RecordType.A && q.type !== RecordType.ANY) return this.nodata();
    return this.found([this.a(`${labels[0]}.${namespace}.pod.${this.opts.zone}`, ip)]);
  }

  /** `d.c.b.a.in-addr.arpa`: the Service owning a ClusterIP, or a headless Service's named endpoint */
  private reverse(q: Question, name: string): Answer {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4) return this.refused();
    const ip = [...octets].reverse().join('.');
    if (!IPV4.test(ip)) return this.refused();
    const targets: string[] = [];
    for (const svc of this.view.allServices()) {
      const ns = svc.metadata?.namespace ?? '';
      const svcName = svc.metadata?.name ?? '';
      const base = `${svcName}.${ns}.svc.${this.opts.zone}`;
      if (clusterIPv4s(svc).includes(ip)) targets.push(base);
      else if (isHeadless(svc))
        for (const ep of readyEndpoints(svc, this.view.endpointSlices(ns, svcName)))
          if (ep.ip === ip) targets.push(`${ep.label}.${base}`);
    }
    // Addresses the cluster does not own are not ours to answer for.
    if (targets.length === 0) return this.refused();
    if (q.type !== RecordType.PTR && q.type !== RecordType.ANY) return this.nodata();
    return this.found(
      targets.map((target) => ({
        name,
        type: RecordType.PTR,
        class: CLASS_IN,
        ttl: this.opts.ttl,
        data: { kind: 'NAME' as const, target },
      })),
    );
  }
}
