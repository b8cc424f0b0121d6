// ClusterIP and NodePort allocation for Services, as upstream's service REST storage does it: each apiserver picks
// from its own view of what is free (in memory, rebuilt from stored Services at start); with reservations
// (service-reservations.ts) a pick counts once storage holds it for the Service, so that apiservers sharing storage
// never give two Services the same address or port.
import { fe, type FieldError } from '../../api/errors.js';
import type { ServiceRef, ServiceReservations } from './service-reservations.js';

export interface ServiceAllocatorOptions {
  /** e.g. 127.96.0.0/16; the first usable address (x.x.0.1) is reserved for the `kubernetes` Service */
  serviceCidr: string;
  nodePortRange: [number, number];
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function isIPv4(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export class ServiceAllocator {
  private readonly base: number;
  private readonly size: number;
  private readonly usedIps = new Set<number>();
  private readonly usedPorts = new Set<number>();
  /** offsets never handed out automatically: .1 is the `kubernetes` Service's, .10 the cluster DNS's */
  private static readonly RESERVED = new Set([1, 10]);
  private nextIp = 11;
  private nextPort: number;

  constructor(private readonly opts: ServiceAllocatorOptions) {
    const [addr, bits] = opts.serviceCidr.split('/');
    this.size = 2 ** (32 - Number(bits));
    this.base = ipToInt(addr) - (ipToInt(addr) % this.size);
    this.nextPort = opts.nodePortRange[0];
  }

  /** the tenth address of the range: where the cluster DNS listens (upstream's kube-dns convention) */
  dnsIp(): string {
    return intToIp(this.base + 10);
  }

  /** the first address of the range: the `kubernetes` Service's */
  firstIp(): string {
    return intToIp(this.base + 1);
  }

  cidr(): string {
    return this.opts.serviceCidr;
  }

  inRange(ip: string): boolean {
    const n = ipToInt(ip);
    return n > this.base && n < this.base + this.size - 1;
  }

  /** Allocate `requested` or the next free address. Returns a field error instead of throwing. */
  allocateIp(requested: string | undefined, field: string): string | FieldError {
    if (requested) {
      if (!isIPv4(requested) || !this.inRange(requested)) {
        return fe.invalid(
          field,
          [requested],
          `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.opts.serviceCidr}`,
        );
      }
      const n = ipToInt(requested);
      if (this.usedIps.has(n))
        return fe.invalid(
          field,
          [requested],
          `failed to allocate IP ${requested}: provided IP is already allocated`,
        );
      this.usedIps.add(n);
      return requested;
    }
    for (let i = 0; i < this.size - 2; i++) {
      const offset = ((this.nextIp - 1 + i) % (this.size - 2)) + 1;
      const n = this.base + offset;
      if (ServiceAllocator.RESERVED.has(offset)) continue;
      if (!this.usedIps.has(n)) {
        this.usedIps.add(n);
        this.nextIp = offset + 1;
        return intToIp(n);
      }
    }
    return fe.invalid(field, [], 'failed to allocate a serviceIP: range is full');
  }

  ipUsed(ip: string): boolean {
    return isIPv4(ip) && this.usedIps.has(ipToInt(ip));
  }

  portUsed(port: number): boolean {
    return this.usedPorts.has(port);
  }

  releaseIp(ip: string | undefined): void {
    if (ip && isIPv4(ip)) this.usedIps.delete(ipToInt(ip));
  }

  markIp(ip: string | undefined): void {
    if (ip && isIPv4(ip) && this.inRange(ip)) this.usedIps.add(ipToInt(ip));
  }

  allocatePort(requested: number | undefined, field: string): number | FieldError {
    const [lo, hi] = this.opts.nodePortRange;
    if (requested) {
      if (requested < lo || requested > hi) {
        return fe.invalid(
          field,
          requested,
          `provided port is not in the valid range. The range of valid ports is ${lo}-${hi}`,
        );
      }
      if (this.usedPorts.has(requested))
        return fe.invalid(field, requested, 'provided port is already allocated');
      this.usedPorts.add(requested);
      return requested;
    }
    const span = hi - lo + 1;
    for (let i = 0; i < span; i++) {
      const p = lo + ((this.nextPort - lo + i) % span);
      if (!this.usedPorts.has(p)) {
        this.usedPorts.add(p);
        this.nextPort = p + 1 > hi ? lo : p + 1;
        return p;
      }
    }
    return fe.invalid(field, 0, 'range is full');
  }

  releasePort(port: number | undefined): void {
    if (port) this.usedPorts.delete(port);
  }

  markPort(port: number | undefined): void {
    if (port) this.usedPorts.add(port);
  }
}

interface ServicePort {
  port?: number;
  nodePort?: number;
  [k: string]: unknown;
}

export interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: ServicePort[];
  [k: string]: unknown;
}

const needsNodePorts = (type: string | undefined): boolean => type === 'NodePort' || type === 'LoadBalancer';

/**
 * What a write took from the allocator, held until the write is settled (upstream's BeginCreate/BeginUpdate
 * transactions): `commit` once stored, `revert` when the write fails or is a dry run. With errors, nothing is
 * held and both are no-ops.
 */
export interface Allocation {
  errors: FieldError[];
  commit(): void | Promise<void>;
  revert(): void | Promise<void>;
}

/** where a Service's picks are held beside this apiserver's memory, and for whom */
export interface Reserving {
  reservations: ServiceReservations;
  owner: ServiceRef;
  /** a dry run looks whether storage holds a pick, and takes nothing */
  dryRun?: boolean;
}

const settled = (errors: FieldError[]): Allocation => ({ errors, commit() {}, revert() {} });

const ipTaken = (ip: string, field: string): FieldError =>
  fe.invalid(field, [ip], `failed to allocate IP ${ip}: provided IP is already allocated`);

/**
 * `requested` or the next free address, held in storage for the owner too: an address another apiserver gave away
 * is marked used here and the next one tried; a requested one this apiserver thinks taken is looked up, as another
 * apiserver may have freed it.
 */
async function takeIp(
  alloc: ServiceAllocator,
  requested: string | undefined,
  field: string,
  r: Reserving | undefined,
): Promise<string | FieldError> {
  for (;;) {
    if (requested && r && alloc.ipUsed(requested) && !(await r.reservations.ipHeld(requested)))
      alloc.releaseIp(requested);
    const ip = alloc.allocateIp(requested, field);
    if (typeof ip !== 'string' || !r) return ip;
    const ours = r.dryRun ? !(await r.reservations.ipHeld(ip)) : await r.reservations.reserveIp(ip, r.owner);
    if (ours) return ip;
    if (requested) return ipTaken(requested, field);
  }
}

/** the same for a NodePort */
async function takePort(
  alloc: ServiceAllocator,
  requested: number | undefined,
  field: string,
  r: Reserving | undefined,
): Promise<number | FieldError> {
  for (;;) {
    if (requested && r && alloc.portUsed(requested) && !(await r.reservations.portHeld(requested)))
      alloc.releasePort(requested);
    const port = alloc.allocatePort(requested, field);
    if (typeof port !== 'number' || !r) return port;
    const ours = r.dryRun
      ? !(await r.reservations.portHeld(port))
      : await r.reservations.reservePort(port, r.owner);
    if (ours) return port;
    if (requested) return fe.invalid(field, requested, 'provided port is already allocated');
  }
}

/** give back what a Service took: here, and in storage unless a dry run (which took nothing there) */
async function giveBack(
  alloc: ServiceAllocator,
  taken: { ip?: string; ports: number[] },
  r: Reserving | undefined,
): Promise<void> {
  alloc.releaseIp(taken.ip);
  taken.ports.forEach((p) => alloc.releasePort(p));
  if (!r || r.dryRun) return;
  if (taken.ip) await r.reservations.releaseIp(taken.ip, r.owner);
  for (const p of taken.ports) await r.reservations.releasePort(p, r.owner);
}

/** Allocate what a new Service needs, held until commit/revert. */
export async function beginServiceCreate(
  alloc: ServiceAllocator,
  spec: ServiceSpec,
  r?: Reserving,
): Promise<Allocation> {
  const errs: FieldError[] = [];
  const taken: { ip?: string; ports: number[] } = { ports: [] };
  if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
    const ip = await takeIp(alloc, spec.clusterIP || spec.clusterIPs?.[0] || undefined, 'spec.clusterIPs', r);
    if (typeof ip === 'string') {
      taken.ip = ip;
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    } else errs.push(ip);
  } else if (spec.clusterIP === 'None') {
    spec.clusterIPs = ['None'];
  }
  if (needsNodePorts(spec.type)) {
    for (const [i, p] of (spec.ports ?? []).entries()) {
      const port = await takePort(alloc, p.nodePort, `spec.ports[${i}].nodePort`, r);
      if (typeof port === 'number') {
        taken.ports.push(port);
        p.nodePort = port;
      } else errs.push(port);
    }
  }
  if (errs.length) {
    await giveBack(alloc, taken, r);
    return settled(errs);
  }
  return { errors: [], commit() {}, revert: () => giveBack(alloc, taken, r) };
}

/** Allocate what a new Service needs (in memory only). On error nothing stays allocated. */
export async function allocateForCreate(alloc: ServiceAllocator, spec: ServiceSpec): Promise<FieldError[]> {
  const a = await beginServiceCreate(alloc, spec);
  await a.commit();
  return a.errors;
}

/** upstream's dropTypeDependentFields: what a type change away from NodePort/LoadBalancer leaves behind */
function dropTypeDependentFields(spec: ServiceSpec, old: ServiceSpec): void {
  if (needsNodePorts(old.type) && !needsNodePorts(spec.type)) {
    if (spec['externalTrafficPolicy'] === old['externalTrafficPolicy']) delete spec['externalTrafficPolicy'];
    if (spec['healthCheckNodePort'] === old['healthCheckNodePort']) delete spec['healthCheckNodePort'];
  }
  if (old.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (spec['allocateLoadBalancerNodePorts'] === old['allocateLoadBalancerNodePorts'])
      delete spec['allocateLoadBalancerNodePorts'];
    if (spec['loadBalancerClass'] === old['loadBalancerClass']) delete spec['loadBalancerClass'];
  }
}

/**
 * Keep the old ClusterIP, allocate NodePorts the update adds (held until commit/revert); the ones it drops are
 * released on commit.
 */
export async function beginServiceUpdate(
  alloc: ServiceAllocator,
  spec: ServiceSpec,
  old: ServiceSpec,
  r?: Reserving,
): Promise<Allocation> {
  dropTypeDependentFields(spec, old);
  const errs: FieldError[] = [];
  if (!spec.clusterIP && old.clusterIP) spec.clusterIP = old.clusterIP;
  if (!spec.clusterIPs?.length && old.clusterIPs) spec.clusterIPs = old.clusterIPs;
  const oldPorts = new Set((old.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p));
  const keep = new Set<number>();
  const newlyTaken: number[] = [];
  if (needsNodePorts(spec.type)) {
    for (const [i, p] of (spec.ports ?? []).entries()) {
      if (p.nodePort && oldPorts.has(p.nodePort)) {
        keep.add(p.nodePort);
        continue;
      }
      // a port kept under another index of the same Service is still ours
      const prior = (old.ports ?? []).find((o) => o.port === p.port && o.nodePort && !keep.has(o.nodePort));
      if (!p.nodePort && prior?.nodePort) {
        p.nodePort = prior.nodePort;
        keep.add(prior.nodePort);
        continue;
      }
      const got = await takePort(alloc, p.nodePort, `spec.ports[${i}].nodePort`, r);
      if (typeof got === 'number') {
        p.nodePort = got;
        newlyTaken.push(got);
      } else errs.push(got);
    }
  } else {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  const revert = (): Promise<void> => giveBack(alloc, { ports: newlyTaken }, r);
  if (errs.length) {
    await revert();
    return settled(errs);
  }
  return {
    errors: [],
    commit: () => giveBack(alloc, { ports: [...oldPorts].filter((p) => !keep.has(p)) }, r),
    revert,
  };
}

/** Keep the old ClusterIP, allocate/release NodePorts as the type or ports change (in memory only). */
export async function allocateForUpdate(
  alloc: ServiceAllocator,
  spec: ServiceSpec,
  old: ServiceSpec,
): Promise<FieldError[]> {
  const a = await beginServiceUpdate(alloc, spec, old);
  await a.commit();
  return a.errors;
}

/** what a deleted Service held goes back, here and (with reservations) in storage */
export async function releaseService(
  alloc: ServiceAllocator,
  spec: ServiceSpec | undefined,
  r?: Reserving,
): Promise<void> {
  if (!spec) return;
  const ip = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
  const ports = (spec.ports ?? []).map((p) => p.nodePort).filter((p): p is number => !!p);
  await giveBack(alloc, { ...(ip ? { ip } : {}), ports }, r);
}

export function markService(alloc: ServiceAllocator, spec: ServiceSpec | undefined): void {
  if (!spec) return;
  alloc.markIp(spec.clusterIP);
  for (const p of spec.ports ?? []) alloc.markPort(p.nodePort);
}
