// upstream's pkg/controller/certificates/signer (the `csrsigning` controller): one CertificateController per
// kubernetes.io signer — kube-apiserver-client, kube-apiserver-client-kubelet, kubelet-serving, legacy-unknown — that
// signs approved requests for its signer with the cluster CA. A request that breaks its signer's rules (usages,
// subject, SANs) gets a Failed condition (reason SignerValidationFailure) instead. The certificate lasts
// --cluster-signing-duration (1 year), or spec.expirationSeconds when shorter (10 minutes at least).
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeClient, ResourceClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import type { SharedInformerFactory } from '../common/informers.js';
import type { CertificateRequest } from '../../util/certificate-request.js';
import { CaProvider, signRequest } from './authority.js';
import { CertificateController } from './certificate-controller.js';
import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  KUBE_APISERVER_CLIENT_SIGNER,
  KUBELET_SERVING_SIGNER,
  LEGACY_UNKNOWN_SIGNER,
  apiServerClientUsagesError,
  csrClient,
  hasTrueCondition,
  isApproved,
  kubeletClientError,
  kubeletServingError,
  parseRequest,
} from './csr-util.js';

export const CSR_SIGNING_CONTROLLER_NAME = 'certificatesigningrequest-signing-controller';
const BACKDATE_MS = 5 * 60_000;
const SHORT_MS = 8 * 3_600_000;
const MIN_DURATION_MS = 10 * 60_000;
export const DEFAULT_SIGNING_DURATION_MS = 365 * 24 * 3_600_000;

/** each signer's check of a request (undefined: it fits) */
const SIGNER_RULES: [string, string, (req: CertificateRequest, usages: string[]) => string | undefined][] = [
  ['csrsigning-kubelet-serving', KUBELET_SERVING_SIGNER, (r, u) => kubeletServingError(r, new Set(u))],
  [
    'csrsigning-kubelet-client',
    KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
    (r, u) => kubeletClientError(r, new Set(u)),
  ],
  [
    'csrsigning-kube-apiserver-client',
    KUBE_APISERVER_CLIENT_SIGNER,
    (_r, u) => apiServerClientUsagesError(u),
  ],
  // no restrictions on legacy-unknown (the v1 API refuses to create such requests)
  ['csrsigning-legacy-unknown', LEGACY_UNKNOWN_SIGNER, () => undefined],
];

export interface CSRSigningControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** --cluster-signing-cert-file / --cluster-signing-key-file */
  certFile: string;
  keyFile: string;
  /** --cluster-signing-duration: the longest certificate issued */
  durationMs?: number;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
}

/** the certificate's lifetime: expirationSeconds when shorter than the signer's, never under 10 minutes */
export function signingDuration(certTtlMs: number, expirationSeconds: number | undefined): number {
  if (expirationSeconds === undefined || expirationSeconds === null) return certTtlMs;
  const requested = expirationSeconds * 1000;
  if (requested > certTtlMs) return certTtlMs;
  return Math.max(requested, MIN_DURATION_MS);
}

class Signer {
  constructor(
    private readonly signerName: string,
    private readonly rule: (req: CertificateRequest, usages: string[]) => string | undefined,
    private readonly ca: CaProvider,
    private readonly csrs: ResourceClient<CertificateSigningRequest>,
    private readonly certTtlMs: number,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** signer.handle */
  async handle(csr: CertificateSigningRequest): Promise<void> {
    if (!isApproved(csr) || hasTrueCondition(csr, 'Failed')) return;
    if (csr.spec.signerName !== this.signerName) return;
    let req: CertificateRequest;
    try {
      req = parseRequest(csr);
    } catch (err) {
      throw new Error(`unable to parse csr "${csr.metadata?.name}": ${(err as Error).message}`);
    }
    const usages = csr.spec.usages ?? [];
    const why = this.rule(req, usages);
    const status = (csr.status ??= {});
    if (why) {
      status.conditions = [
        ...(status.conditions ?? []),
        {
          type: 'Failed',
          status: 'True',
          reason: 'SignerValidationFailure',
          message: why,
          lastUpdateTime: new Date(this.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        },
      ];
      this.log.info({ csr: csr.metadata?.name, reason: why }, "request fails its signer's rules");
      await this.csrs.updateStatus(csr);
      return;
    }
    let pem: string;
    try {
      pem = await signRequest(this.ca, req, {
        ttlMs: signingDuration(this.certTtlMs, csr.spec.expirationSeconds),
        usages,
        backdateMs: BACKDATE_MS,
        shortMs: SHORT_MS,
        now: this.clock.now(),
      });
    } catch (err) {
      throw new Error(`error auto signing csr: ${(err as Error).message}`);
    }
    status.certificate = Buffer.from(pem).toString('base64');
    await this.csrs.updateStatus(csr);
    this.log.info({ csr: csr.metadata?.name, signer: this.signerName }, 'signed certificate');
  }
}

export class CSRSigningController {
  private readonly controllers: CertificateController[];

  constructor(opts: CSRSigningControllerOptions) {
    const log = (opts.logger ?? silentLogger()).child({ controller: CSR_SIGNING_CONTROLLER_NAME });
    const ca = new CaProvider(opts.certFile, opts.keyFile);
    const clock = opts.clock ?? realClock;
    const csrs = csrClient(opts.client);
    this.controllers = SIGNER_RULES.map(([name, signerName, rule]) => {
      const signer = new Signer(
        signerName,
        rule,
        ca,
        csrs,
        opts.durationMs ?? DEFAULT_SIGNING_DURATION_MS,
        clock,
        log,
      );
      return new CertificateController(
        name,
        opts.informers,
        (csr) => signer.handle(csr),
        log.child({ signer: signerName }),
        clock,
        opts.workers,
      );
    });
  }

  async run(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.run()));
  }

  stop(): void {
    for (const c of this.controllers) c.stop();
  }

  async stopped(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.stopped()));
  }
}
