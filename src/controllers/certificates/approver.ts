// upstream's pkg/controller/certificates/approver/sarapprove.go (the `csrapproving` controller): approves a
// kubelet's client certificate request (signer kube-apiserver-client-kubelet, O=system:nodes, CN=system:node:…) when
// a SubjectAccessReview says its requester may `create` certificatesigningrequests/selfnodeclient (the request is
// for the requester's own node name) or certificatesigningrequests/nodeclient (any node).
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { KubeClient, ObjectWithMeta } from '../../client/index.js';
import type { Clock } from '../../util/clock.js';
import { silentLogger, type Logger } from '../../util/logger.js';
import type { SharedInformerFactory } from '../common/informers.js';
import type { CertificateRequest } from '../../util/certificate-request.js';
import { CertificateController, IgnorableError } from './certificate-controller.js';
import {
  KUBE_APISERVER_CLIENT_KUBELET_SIGNER,
  approvalState,
  kubeletClientError,
  parseRequest,
  usageSet,
} from './csr-util.js';

export const CSR_APPROVING_CONTROLLER_NAME = 'certificatesigningrequest-approving-controller';

interface ResourceAttributes {
  group: string;
  resource: string;
  verb: string;
  subresource: string;
  version: string;
}

/** a SubjectAccessReview's spec and the answer's `allowed` */
export type SubjectAccessReviewer = (spec: {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes: ResourceAttributes;
}) => Promise<boolean>;

const isNodeClientCert = (csr: CertificateSigningRequest, req: CertificateRequest): boolean =>
  csr.spec.signerName === KUBE_APISERVER_CLIENT_KUBELET_SIGNER && !kubeletClientError(req, usageSet(csr));

const isSelfNodeClientCert = (csr: CertificateSigningRequest, req: CertificateRequest): boolean =>
  csr.spec.username === req.subject.commonName && isNodeClientCert(csr, req);

const permission = (subresource: string): ResourceAttributes => ({
  group: 'certificates.k8s.io',
  resource: 'certificatesigningrequests',
  verb: 'create',
  subresource,
  version: '*',
});

const RECOGNIZERS: {
  recognize: (csr: CertificateSigningRequest, req: CertificateRequest) => boolean;
  permission: ResourceAttributes;
  successMessage: string;
}[] = [
  {
    recognize: isSelfNodeClientCert,
    permission: permission('selfnodeclient'),
    successMessage: 'Auto approving self kubelet client certificate after SubjectAccessReview.',
  },
  {
    recognize: isNodeClientCert,
    permission: permission('nodeclient'),
    successMessage: 'Auto approving kubelet client certificate after SubjectAccessReview.',
  },
];

/** a SubjectAccessReview through the client, as client-go's SubjectAccessReviews().Create */
export function clientReviewer(client: KubeClient): SubjectAccessReviewer {
  const sars = client.resource<ObjectWithMeta & { status?: { allowed?: boolean } }>(
    'authorization.k8s.io',
    'v1',
    'subjectaccessreviews',
  );
  return async (spec) => {
    const answer = await sars.create({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec,
    } as never);
    return answer.status?.allowed === true;
  };
}

export interface CSRApprovingControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  /** how SubjectAccessReviews are asked (default: created through `client`) */
  reviewer?: SubjectAccessReviewer;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
}

export class CSRApprovingController {
  private readonly controller: CertificateController;
  private readonly reviewer: SubjectAccessReviewer;
  private readonly log: Logger;

  constructor(private readonly opts: CSRApprovingControllerOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ controller: CSR_APPROVING_CONTROLLER_NAME });
    this.reviewer = opts.reviewer ?? clientReviewer(opts.client);
    this.controller = new CertificateController(
      'csrapproving',
      opts.informers,
      (csr) => this.handle(csr),
      this.log,
      opts.clock,
      opts.workers,
    );
  }

  run(): Promise<void> {
    return this.controller.run();
  }

  stop(): void {
    this.controller.stop();
  }

  stopped(): Promise<void> {
    return this.controller.stopped();
  }

  /** sarApprover.handle */
  async handle(csr: CertificateSigningRequest): Promise<void> {
    if (csr.status?.certificate) return;
    const { approved, denied } = approvalState(csr);
    if (approved || denied) return;
    let req: CertificateRequest;
    try {
      req = parseRequest(csr);
    } catch (err) {
      throw new Error(`unable to parse csr "${csr.metadata?.name}": ${(err as Error).message}`);
    }
    const tried: string[] = [];
    for (const r of RECOGNIZERS) {
      if (!r.recognize(csr, req)) continue;
      tried.push(r.permission.subresource);
      const allowed = await this.reviewer({
        ...(csr.spec.username ? { user: csr.spec.username } : {}),
        ...(csr.spec.uid ? { uid: csr.spec.uid } : {}),
        ...(csr.spec.groups ? { groups: csr.spec.groups } : {}),
        ...(csr.spec.extra ? { extra: csr.spec.extra } : {}),
        resourceAttributes: r.permission,
      });
      if (!allowed) continue;
      const status = (csr.status ??= {});
      status.conditions = [
        ...(status.conditions ?? []),
        { type: 'Approved', status: 'True', reason: 'AutoApproved', message: r.successMessage },
      ];
      await this.opts.client.transport.request({
        verb: 'update',
        group: 'certificates.k8s.io',
        version: 'v1',
        resource: 'certificatesigningrequests',
        name: csr.metadata!.name!,
        subresource: 'approval',
        body: { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', ...csr },
        options: {},
      });
      this.log.info({ csr: csr.metadata?.name, message: r.successMessage }, 'approved');
      return;
    }
    if (tried.length)
      throw new IgnorableError(
        `recognized csr "${csr.metadata?.name}" as [${tried.join(' ')}] but subject access review was not approved`,
      );
  }
}
