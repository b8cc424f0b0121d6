// The apiserver's identity Lease (upstream's APIServerIdentity, on by default since 1.26): every apiserver holds a
// Lease in kube-system named after its host, `apiserver-<hash>` (k8s.io/apiserver's APIServerID: the first 16
// bytes of the SHA-256 of the length-prefixed host name and "kube-apiserver", base32, lower case), labelled
// `apiserver.kubernetes.io/identity=kube-apiserver` and `kubernetes.io/hostname=<host>`, held as
// `<lease>_<uuid>` (a restarted apiserver takes its host's Lease over with a new identity), leaseDurationSeconds
// 3600, renewed every 10 s. Each apiserver also deletes the identity Leases that expired (renewTime +
// leaseDurationSeconds past) once an hour, as upstream's apiserverleasegc. So `kubectl -n kube-system get lease
// -l apiserver.kubernetes.io/identity=kube-apiserver` lists the control plane's apiservers, as upstream's docs show.
import { createHash, randomUUID } from 'node:crypto';
import { hostname as osHostname } from 'node:os';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../api/errors.js';
import type { ApiHandler, ApiRequest } from '../api/request.js';
import { rfc3339Micro } from '../util/objects.js';
import type { Logger } from '../util/logger.js';

export const IDENTITY_LEASE_LABEL = 'apiserver.kubernetes.io/identity';
export const KUBE_APISERVER = 'kube-apiserver';
export const IDENTITY_LEASE_SELECTOR = `${IDENTITY_LEASE_LABEL}=${KUBE_APISERVER}`;
/** upstream's IdentityLeaseDurationSeconds, IdentityLeaseRenewIntervalPeriod and IdentityLeaseGCPeriod */
export const IDENTITY_LEASE_DURATION_SECONDS = 3600;
export const IDENTITY_LEASE_RENEW_MS = 10_000;
export const IDENTITY_LEASE_GC_MS = 3_600_000;

const NAMESPACE = 'kube-system';
const SYSTEM = { username: 'system:apiserver', groups: ['system:masters'] };

/** base32 (RFC 4648, upper case, no padding), as Go's base32.StdEncoding.WithPadding(NoPadding) */
function base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** cryptobyte's AddUint16LengthPrefixed */
function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(2);
  length.writeUInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** upstream's APIServerID for a host: the identity Lease's name */
export function apiServerId(host: string): string {
  const hash = createHash('sha256')
    .update(Buffer.concat([lengthPrefixed(host), lengthPrefixed(KUBE_APISERVER)]))
    .digest();
  return `apiserver-${base32(hash.subarray(0, 16)).toLowerCase()}`;
}

/**
 * The host an apiserver names itself by: KUBEMU_HOSTNAME, the control-plane member it stands for (`kubemu up
 * --control-plane 3` runs every member on one host, where upstream's os.Hostname() would name them all alike), else
 * the machine's name.
 */
export function apiServerHost(): string {
  return process.env['KUBEMU_HOSTNAME'] || osHostname();
}

export interface IdentityLeaseOptions {
  handler: ApiHandler;
  log: Logger;
  host?: string;
  now?: () => number;
  renewIntervalMs?: number;
  gcPeriodMs?: number;
}

export class IdentityLease {
  readonly host: string;
  readonly name: string;
  readonly holderIdentity: string;
  private readonly now: () => number;
  private timers: NodeJS.Timeout[] = [];
  private renewing: Promise<void> | undefined;

  constructor(private readonly opts: IdentityLeaseOptions) {
    this.host = opts.host ?? apiServerHost();
    this.name = apiServerId(this.host);
    this.holderIdentity = `${this.name}_${randomUUID()}`;
    this.now = opts.now ?? Date.now;
  }

  /** the post-start hooks start-kube-apiserver-identity-lease-controller and ...-garbage-collector */
  start(): void {
    const renew = (): void => {
      // one renewal at a time: a slow storage must not pile them up
      this.renewing ??= this.renew()
        .catch((err: unknown) => this.opts.log.warn({ err, lease: this.name }, 'identity lease not renewed'))
        .finally(() => (this.renewing = undefined));
    };
    const collect = (): void => {
      this.collectGarbage().catch((err: unknown) =>
        this.opts.log.warn({ err }, 'expired apiserver identity leases not collected'),
      );
    };
    renew();
    collect();
    this.timers.push(setInterval(renew, this.opts.renewIntervalMs ?? IDENTITY_LEASE_RENEW_MS));
    this.timers.push(setInterval(collect, this.opts.gcPeriodMs ?? IDENTITY_LEASE_GC_MS));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private request(verb: ApiRequest['verb'], extra: Partial<ApiRequest> = {}): Promise<unknown> {
    return this.opts.handler
      .handle({
        verb,
        group: 'coordination.k8s.io',
        version: 'v1',
        resource: 'leases',
        namespace: NAMESPACE,
        user: SYSTEM,
        options: {},
        ...extra,
      })
      .then((r) => r.body);
  }

  /** creates the Lease, or renews it: this holder, now, the labels (upstream's lease controller with its label func) */
  async renew(): Promise<void> {
    const spec = {
      holderIdentity: this.holderIdentity,
      leaseDurationSeconds: IDENTITY_LEASE_DURATION_SECONDS,
      renewTime: rfc3339Micro(this.now()),
    };
    const labels = { [IDENTITY_LEASE_LABEL]: KUBE_APISERVER, 'kubernetes.io/hostname': this.host };
    let current: Lease | undefined;
    try {
      current = (await this.request('get', { name: this.name })) as Lease;
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
    }
    if (!current) {
      const body: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.name, namespace: NAMESPACE, labels },
        spec: { ...spec, acquireTime: spec.renewTime },
      };
      await this.request('create', { body });
      return;
    }
    const taken = current.spec?.holderIdentity !== this.holderIdentity;
    // what the registry hands out is shared (frozen): the update is a copy
    const body = structuredClone(current);
    body.metadata = { ...body.metadata, labels: { ...body.metadata?.labels, ...labels } };
    body.spec = { ...body.spec, ...spec, ...(taken ? { acquireTime: spec.renewTime } : {}) };
    await this.request('update', { name: this.name, body });
  }

  /** deletes the identity Leases whose holders stopped renewing over leaseDurationSeconds ago (apiserverleasegc) */
  async collectGarbage(): Promise<number> {
    const list = (await this.request('list', {
      options: { labelSelector: IDENTITY_LEASE_SELECTOR },
    })) as { items: Lease[] };
    let deleted = 0;
    for (const lease of list.items) {
      const renewed = Date.parse(lease.spec?.renewTime ?? '');
      const duration = lease.spec?.leaseDurationSeconds ?? IDENTITY_LEASE_DURATION_SECONDS;
      if (!Number.isFinite(renewed) || renewed + duration * 1000 >= this.now()) continue;
      try {
        await this.request('delete', {
          name: lease.metadata!.name!,
          options: { preconditions: { resourceVersion: lease.metadata?.resourceVersion } },
        });
        deleted++;
      } catch (e) {
        // renewed or deleted meanwhile (by its apiserver, or another one's collector)
        if (!(e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'NotFound'))) throw e;
      }
    }
    return deleted;
  }
}
