// upstream's pkg/controller/certificates/cleaner (the `csrcleaner` controller): every hour, deletes requests that
// are done with — approved and issued, denied, or failed for over an hour, pending for over a day, or whose
// certificate has expired — so automated requests do not pile up.
import { X509Certificate } from 'node:crypto';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { Informer, KubeClient, ResourceClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import { isNotFound } from '../common/controller-ref.js';
import type { SharedInformerFactory } from '../common/informers.js';
import { csrClient, csrInformer } from './csr-util.js';

export const CSR_CLEANER_CONTROLLER_NAME = 'certificatesigningrequest-cleaner-controller';
const HOUR = 3_600_000;
export const POLLING_INTERVAL_MS = HOUR;
const APPROVED_EXPIRATION_MS = HOUR;
const DENIED_EXPIRATION_MS = HOUR;
const FAILED_EXPIRATION_MS = HOUR;
const PENDING_EXPIRATION_MS = 24 * HOUR;

/** isOlderThan: a set time more than `ms` ago */
const olderThan = (t: string | undefined, ms: number, now: number): boolean =>
  !!t && now - Date.parse(t) > ms;

/** isExpired: the first certificate's NotAfter has passed (throws on a certificate that does not parse) */
function certificateExpired(csr: CertificateSigningRequest, now: number): boolean {
  if (!csr.status?.certificate) return false;
  const pem = Buffer.from(csr.status.certificate, 'base64').toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----\r?\n([\s\S]*?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('expected the certificate associated with the CSR to be PEM encoded');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
  } catch (err) {
    throw new Error(`unable to parse certificate data: ${(err as Error).message}`);
  }
  return now > Date.parse(cert.validTo);
}

/** why `csr` is to be deleted now, or undefined */
export function cleanupReason(csr: CertificateSigningRequest, now: number): string | undefined {
  const conditions = csr.status?.conditions ?? [];
  const issued = !!csr.status?.certificate;
  for (const c of conditions) {
    if (c.type === 'Approved' && issued && olderThan(c.lastUpdateTime, APPROVED_EXPIRATION_MS, now))
      return 'it is more than 1h0m0s old and approved';
    if (c.type === 'Denied' && olderThan(c.lastUpdateTime, DENIED_EXPIRATION_MS, now))
      return 'it is more than 1h0m0s old and denied';
    if (c.type === 'Failed' && olderThan(c.lastUpdateTime, FAILED_EXPIRATION_MS, now))
      return 'it is more than 1h0m0s old and failed';
  }
  if (conditions.length === 0 && olderThan(csr.metadata?.creationTimestamp, PENDING_EXPIRATION_MS, now))
    return 'it is more than 24h0m0s old and unhandled';
  if (conditions.some((c) => c.type === 'Approved') && issued && certificateExpired(csr, now))
    return 'the associated certificate is expired';
  return undefined;
}

export interface CSRCleanerControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
}

export class CSRCleanerController {
  private readonly csrs: ResourceClient<CertificateSigningRequest>;
  private readonly informer: Informer<CertificateSigningRequest>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private timer: { cancel(): void } | undefined;
  private stopping = false;

  constructor(private readonly opts: CSRCleanerControllerOptions) {
    this.csrs = csrClient(opts.client);
    this.informer = csrInformer(opts.informers);
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: CSR_CLEANER_CONTROLLER_NAME });
  }

  async run(): Promise<void> {
    this.opts.informers.start();
    await this.informer.waitForSync();
    if (this.stopping) return;
    const tick = (): void => {
      void this.sweep().finally(() => {
        if (!this.stopping) this.timer = this.clock.setTimeout(tick, POLLING_INTERVAL_MS);
      });
    };
    tick();
  }

  stop(): void {
    this.stopping = true;
    this.timer?.cancel();
  }

  /** worker: one pass over every cached request */
  async sweep(): Promise<void> {
    const now = this.clock.now();
    for (const csr of this.informer.store.list()) {
      const name = csr.metadata?.name ?? '';
      try {
        const why = cleanupReason(csr, now);
        if (!why) continue;
        this.log.info({ csr: name }, `Cleaning CSR "${name}" as ${why}.`);
        await this.csrs.delete(name);
      } catch (err) {
        if (isNotFound(err)) continue;
        this.log.error({ csr: name, err }, 'error while attempting to clean CSR');
      }
    }
  }
}
