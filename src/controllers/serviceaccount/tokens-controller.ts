// The ServiceAccount token controller (upstream pkg/controller/serviceaccount/tokens_controller.go): a Secret of type
// kubernetes.io/service-account-token naming a ServiceAccount (annotation kubernetes.io/service-account.name) gets a
// legacy token signed with the cluster's ServiceAccount key, ca.crt and namespace; the Secret is deleted when its
// ServiceAccount is gone (or was replaced: another uid). Since 1.24 upstream creates no such Secret by itself.
import type { KeyObject } from 'node:crypto';
import type { Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { WorkQueue, type Informer, type KubeClient } from '../../client/index.js';
import { legacyClaims } from '../../api/serviceaccount-claims.js';
import { signJwt } from '../../util/jwt.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { SharedInformerFactory } from '../common/informers.js';

export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';
export const SERVICE_ACCOUNT_UID_ANNOTATION = 'kubernetes.io/service-account.uid';

export interface TokensControllerOptions {
  client: KubeClient;
  informers?: SharedInformerFactory;
  logger: Logger;
  /** --service-account-private-key-file */
  signingKey: KeyObject;
  /** --root-ca-file: what goes into the Secrets' ca.crt */
  rootCa: string;
  clock?: Clock;
  workers?: number;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

export class TokensController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly secrets: Informer<Secret>;
  private readonly serviceAccounts: Informer<ServiceAccount>;
  readonly queue: WorkQueue<string>;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly opts: TokensControllerOptions) {
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'serviceaccount-token' });
    const clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'serviceaccount_tokens_secret', clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ?? new SharedInformerFactory({ client: this.client, clock, logger: this.log });
    this.secrets = this.informers.forResource('secrets', this.client.secrets);
    this.serviceAccounts = this.informers.forResource('serviceaccounts', this.client.serviceAccounts);
    const enqueue = (s: Secret): void => {
      if (s.type === SERVICE_ACCOUNT_TOKEN_TYPE)
        this.queue.add(`${s.metadata?.namespace}/${s.metadata?.name}`);
    };
    this.secrets.addEventHandler({ onAdd: enqueue, onUpdate: (_o, s) => enqueue(s) });
    // a ServiceAccount going or coming: its token Secrets are looked at again
    const saChanged = (sa: ServiceAccount): void => {
      for (const s of this.secrets.store.listNamespace(sa.metadata?.namespace ?? ''))
        if (s.metadata?.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION] === sa.metadata?.name) enqueue(s);
    };
    this.serviceAccounts.addEventHandler({ onAdd: saChanged, onDelete: saChanged });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.secrets.waitForSync(), this.serviceAccounts.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.opts.workers ?? 5, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** upstream's syncSecret */
  async sync(key: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const secret = this.secrets.store.getByName(namespace, name);
    if (!secret || secret.type !== SERVICE_ACCOUNT_TOKEN_TYPE || secret.metadata?.deletionTimestamp) return;
    const annotations = secret.metadata?.annotations ?? {};
    const saName = annotations[SERVICE_ACCOUNT_NAME_ANNOTATION] ?? '';
    const wantUid = annotations[SERVICE_ACCOUNT_UID_ANNOTATION];
    const sa = this.serviceAccounts.store.getByName(namespace, saName);
    try {
      if (!sa || (wantUid && sa.metadata?.uid !== wantUid)) {
        // the ServiceAccount is gone (or another one has its name): its token must not outlive it
        if (!sa && !(await this.serviceAccountExists(namespace, saName))) {
          await this.client.secrets.delete(name, {
            namespace,
            preconditions: { uid: secret.metadata?.uid ?? '' },
          });
          this.log.info(
            { namespace, secret: name, serviceAccount: saName },
            'deleted token secret of a deleted ServiceAccount',
          );
        }
        return;
      }
      const data = secret.data ?? {};
      if (data['token'] && data['ca.crt'] && data['namespace'] && wantUid) return;
      const uid = sa.metadata?.uid ?? '';
      const token =
        data['token'] && wantUid
          ? Buffer.from(data['token'], 'base64').toString('utf8')
          : signJwt(legacyClaims(namespace, { name: saName, uid }, name), this.opts.signingKey);
      await this.client.secrets.update(
        {
          ...secret,
          metadata: {
            ...secret.metadata,
            annotations: { ...annotations, [SERVICE_ACCOUNT_UID_ANNOTATION]: uid },
          },
          data: { ...data, token: b64(token), 'ca.crt': b64(this.opts.rootCa), namespace: b64(namespace) },
        },
        { namespace },
      );
    } catch (err) {
      if (err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'NotFound')) return;
      throw err;
    }
  }

  private async serviceAccountExists(namespace: string, name: string): Promise<boolean> {
    try {
      await this.client.serviceAccounts.get(name, namespace);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return false;
      throw err;
    }
  }
}
