// Services' ClusterIPs and NodePorts held in storage, so that apiservers sharing it (an HA control plane on etcd)
// never hand out the same one twice. A ClusterIP is an IPAddress object (networking.k8s.io/v1) named by the address,
// with the Service as its parentRef — what upstream's allocator (MultiCIDRServiceAllocator, on by default since 1.33)
// writes, and what `kubectl get ipaddresses` lists. A NodePort is a record under /registry/ranges/servicenodeports/
// (upstream keeps one bitmap at /registry/ranges/servicenodeports; a key a port lets storage's create, which fails
// when the key exists, be the lock). Each apiserver still picks from its own in-memory view (allocators.ts); the
// create here is what decides.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../api/request.js';
import { storageKey, storagePrefix } from '../../api/resources.js';
import { rfc3339 } from '../../util/objects.js';
import type { Clock } from '../../util/clock.js';
import { StorageError, type Storage } from '../storage/storage.js';

/** the Service a reservation belongs to */
export interface ServiceRef {
  namespace: string;
  name: string;
}

/** what allocators.ts asks of the shared store */
export interface ServiceReservations {
  /** true: `ip` is now the Service's (or was already); false: another Service holds it */
  reserveIp(ip: string, owner: ServiceRef): Promise<boolean>;
  /** the same for a NodePort */
  reservePort(port: number, owner: ServiceRef): Promise<boolean>;
  /** whether anything holds `ip` / `port` in storage (a dry run looks, and takes nothing) */
  ipHeld(ip: string): Promise<boolean>;
  portHeld(port: number): Promise<boolean>;
  /** give back what `owner` holds (someone else's reservation of the same address stays) */
  releaseIp(ip: string, owner: ServiceRef): Promise<void>;
  releasePort(port: number, owner: ServiceRef): Promise<void>;
}

const IPADDRESSES = { group: 'networking.k8s.io', resource: 'ipaddresses', namespaced: false };
const NODEPORTS_PREFIX = '/registry/ranges/servicenodeports/';

/** an orphan (its Service never written, e.g. the apiserver died between the two writes) younger than this may still be
 * another apiserver's create in progress */
const ORPHAN_AGE_MS = 60_000;

const ipKey = (ip: string): string => storageKey(IPADDRESSES, undefined, ip);
const portKey = (port: number): string => `${NODEPORTS_PREFIX}${port}`;

interface Reservation extends KubeObject {
  spec?: { parentRef?: { group?: string; resource?: string; namespace?: string; name?: string } };
}

const ownedBy = (r: Reservation | undefined, owner: ServiceRef): boolean =>
  r?.spec?.parentRef?.namespace === owner.namespace && r.spec.parentRef.name === owner.name;

export class StorageServiceReservations implements ServiceReservations {
  constructor(
    private readonly storage: Storage,
    private readonly clock: Clock,
  ) {}

  private record(kind: 'IPAddress' | 'NodePort', name: string, owner: ServiceRef): KubeObject {
    const parentRef = { group: '', resource: 'services', namespace: owner.namespace, name: owner.name };
    const metadata = { name, uid: randomUUID(), creationTimestamp: rfc3339(this.clock.now()) };
    return kind === 'IPAddress'
      ? {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'IPAddress',
          metadata: {
            ...metadata,
            labels: {
              'ipaddress.kubernetes.io/ip-family': 'IPv4',
              'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
            },
          },
          spec: { parentRef },
        }
      : { apiVersion: 'v1', kind: 'NodePortReservation', metadata, spec: { parentRef } };
  }

  private async reserve(key: string, record: KubeObject, owner: ServiceRef): Promise<boolean> {
    try {
      await this.storage.create(key, record);
      return true;
    } catch (err) {
      if (!(err instanceof StorageError) || err.code !== 'AlreadyExists') throw err;
      // ours already (an update that keeps it, a retried write): still ours
      return ownedBy((await this.storage.get(key))?.object, owner);
    }
  }

  reserveIp(ip: string, owner: ServiceRef): Promise<boolean> {
    return this.reserve(ipKey(ip), this.record('IPAddress', ip, owner), owner);
  }

  reservePort(port: number, owner: ServiceRef): Promise<boolean> {
    return this.reserve(portKey(port), this.record('NodePort', String(port), owner), owner);
  }

  async ipHeld(ip: string): Promise<boolean> {
    return (await this.storage.get(ipKey(ip))) !== undefined;
  }

  async portHeld(port: number): Promise<boolean> {
    return (await this.storage.get(portKey(port))) !== undefined;
  }

  private async release(key: string, owner: ServiceRef): Promise<void> {
    const found = await this.storage.get(key);
    if (!found || !ownedBy(found.object, owner)) return;
    try {
      await this.storage.delete(key, found.rv);
    } catch (err) {
      // gone or changed meanwhile: no longer ours to delete
      if (!(err instanceof StorageError) || (err.code !== 'NotFound' && err.code !== 'Conflict')) throw err;
    }
  }

  releaseIp(ip: string, owner: ServiceRef): Promise<void> {
    return this.release(ipKey(ip), owner);
  }

  releasePort(port: number, owner: ServiceRef): Promise<void> {
    return this.release(portKey(port), owner);
  }

  /**
   * At an apiserver's start (upstream's repair loops): every stored Service's ClusterIP and NodePorts get their
   * reservation if they have none (Services stored before reservations existed), and reservations whose Service
   * does not hold them go once they are older than a minute. Returns what it did, for the log.
   */
  async repair(services: KubeObject[]): Promise<{ created: number; removed: number }> {
    const want = new Map<string, { kind: 'IPAddress' | 'NodePort'; name: string; owner: ServiceRef }>();
    for (const s of services) {
      const owner = { namespace: s.metadata?.namespace ?? '', name: s.metadata?.name ?? '' };
      const spec = (s['spec'] ?? {}) as { clusterIP?: string; ports?: { nodePort?: number }[] };
      if (spec.clusterIP && spec.clusterIP !== 'None')
        want.set(ipKey(spec.clusterIP), { kind: 'IPAddress', name: spec.clusterIP, owner });
      for (const p of spec.ports ?? [])
        if (p.nodePort) want.set(portKey(p.nodePort), { kind: 'NodePort', name: String(p.nodePort), owner });
    }
    let created = 0;
    let removed = 0;
    const held = [
      ...(await this.storage.list(storagePrefix(IPADDRESSES))).items,
      ...(await this.storage.list(NODEPORTS_PREFIX)).items,
    ];
    const now = this.clock.now();
    for (const r of held) {
      const w = want.get(r.key);
      if (w && ownedBy(r.object, w.owner)) {
        want.delete(r.key);
        continue;
      }
      const managed =
        r.object.kind === 'NodePortReservation' ||
        r.object.metadata?.labels?.['ipaddress.kubernetes.io/managed-by'] === 'ipallocator.k8s.io';
      const age = now - Date.parse(r.object.metadata?.creationTimestamp ?? '');
      // a user's own IPAddress (another manager) stays; so does a young one
      if (!managed || !(age > ORPHAN_AGE_MS)) {
        want.delete(r.key);
        continue;
      }
      await this.release(r.key, {
        namespace: (r.object as Reservation).spec?.parentRef?.namespace ?? '',
        name: (r.object as Reservation).spec?.parentRef?.name ?? '',
      });
      removed++;
    }
    for (const [key, w] of want) {
      if (await this.reserve(key, this.record(w.kind, w.name, w.owner), w.owner)) created++;
    }
    return { created, removed };
  }
}
