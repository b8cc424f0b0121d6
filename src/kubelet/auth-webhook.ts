// The kubelet's delegated authentication and authorization (upstream's webhook mode, which kubeadm configures):
// a bearer token is checked with a TokenReview and a request is authorized with a SubjectAccessReview, both
// created at the apiserver with the kubelet's own credential (the `system:node` role may create both).
import https from 'node:https';
import type { UserInfo } from '../api/request.js';

export interface KubeletAccessAttributes {
  verb: string;
  resource: 'nodes';
  subresource: string;
  /** the node's name: upstream's kubelet authorizes nodes/<subresource> of its own Node */
  name: string;
}

export interface AccessDecision {
  allowed: boolean;
  reason?: string;
}

/** what the kubelet asks the apiserver; a rejected promise is an error (not a denial), as upstream tells them apart */
export interface AuthReviewer {
  /** the user behind a bearer token, or undefined when the apiserver does not authenticate it */
  reviewToken(token: string): Promise<UserInfo | undefined>;
  reviewAccess(user: UserInfo, attrs: KubeletAccessAttributes): Promise<AccessDecision>;
}

export interface ApiserverReviewerOptions {
  /** the apiserver as the kubelet's kubeconfig has it: `https://127.0.0.1:6443` */
  server: string;
  /** the kubelet's bearer token */
  token: string;
  /** the cluster CA (PEM) the apiserver's serving certificate chains to */
  caPem?: string;
  /** per review; upstream's webhook clients give up after 30 s, a kubelet caller should not wait that long */
  timeoutMs?: number;
}

interface ReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[] };
  allowed?: boolean;
  reason?: string;
  error?: string;
  evaluationError?: string;
}

/** TokenReview and SubjectAccessReview over HTTPS, on one kept-alive connection pool. */
export class ApiserverReviewer implements AuthReviewer {
  private readonly agent: https.Agent;
  private readonly url: URL;

  constructor(private readonly opts: ApiserverReviewerOptions) {
    this.url = new URL(opts.server);
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 4,
      ...(opts.caPem ? { ca: opts.caPem } : {}),
    });
  }

  async reviewToken(token: string): Promise<UserInfo | undefined> {
    const status = await this.create('/apis/authentication.k8s.io/v1/tokenreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenReview',
      spec: { token },
    });
    if (!status.authenticated || !status.user?.username) return undefined;
    return {
      username: status.user.username,
      groups: status.user.groups ?? [],
      ...(status.user.uid ? { uid: status.user.uid } : {}),
    };
  }

  async reviewAccess(user: UserInfo, attrs: KubeletAccessAttributes): Promise<AccessDecision> {
    const status = await this.create('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        resourceAttributes: {
          verb: attrs.verb,
          version: 'v1',
          resource: attrs.resource,
          subresource: attrs.subresource,
          name: attrs.name,
        },
        user: user.username,
        groups: user.groups,
        ...(user.uid ? { uid: user.uid } : {}),
      },
    });
    if (status.evaluationError && !status.allowed) throw new Error(status.evaluationError);
    return { allowed: status.allowed === true, ...(status.reason ? { reason: status.reason } : {}) };
  }

  close(): void {
    this.agent.destroy();
  }

  private create(path: string, body: unknown): Promise<ReviewStatus> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port,
          path,
          method: 'POST',
          agent: this.agent,
          timeout: this.opts.timeoutMs ?? 10_000,
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'Content-Length': Buffer.byteLength(payload),
            Authorization: `Bearer ${this.opts.token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.once('error', reject);
          res.once('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode !== 201 && res.statusCode !== 200) {
              reject(new Error(`${path}: ${res.statusCode ?? 0}: ${text.slice(0, 300)}`));
              return;
            }
            try {
              resolve((JSON.parse(text) as { status?: ReviewStatus }).status ?? {});
            } catch {
              reject(new Error(`${path}: not a JSON answer: ${text.slice(0, 300)}`));
            }
          });
        },
      );
      req.once('timeout', () => req.destroy(new Error(`${path}: no answer from the apiserver`)));
      req.once('error', reject);
      req.end(payload);
    });
  }
}
