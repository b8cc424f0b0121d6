// The controller-manager's --use-service-account-credentials (k8s.io/controller-manager/pkg/clientbuilder,
// DynamicControllerClientBuilder): each controller gets a client of its own ServiceAccount in kube-system, which the
// builder creates when missing, with tokens from the TokenRequest API (asked for at the client's first request; an
// hour, renewed once 80 % of it has passed, or after a 401), so the apiserver authenticates each controller's requests as
// `system:serviceaccount:kube-system:<name>` and RBAC allows them what its `system:controller:<name>` role allows.
// All of them share the controller-manager's one connection (ApiConnection.withCredential), as client-go's clients
// share one HTTP/2 connection; the shared informers keep the controller-manager's own identity, as upstream's do.
import type { ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { ApiError } from '../../api/errors.js';
import { KubeClient, type ApiConnection, type TokenSource } from '../../client/index.js';
import type { Logger } from '../../util/logger.js';

/** upstream's defaultExpirationSeconds and defaultLeewayPercent */
const EXPIRATION_SECONDS = 3600;
const LEEWAY_PERCENT = 20;
/** upstream's pin for a token whose lifetime looks short (clock skew) */
const MIN_LIFETIME_MS = 10 * 60 * 1000;
/** upstream retries getting a token 4 times, from 500 ms doubling */
const TOKEN_ATTEMPTS = 4;
const TOKEN_BACKOFF_MS = 500;

export interface ServiceAccountClientsOptions {
  /** the controller-manager's own client: it creates the ServiceAccounts and requests their tokens */
  root: KubeClient;
  connection: ApiConnection;
  /** upstream: metav1.NamespaceSystem */
  namespace?: string;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export class ServiceAccountClients {
  private readonly namespace: string;
  private readonly clients = new Map<string, KubeClient>();
  private readonly sources: ServiceAccountTokenSource[] = [];

  constructor(private readonly opts: ServiceAccountClientsOptions) {
    this.namespace = opts.namespace ?? 'kube-system';
  }

  /**
   * the client of ServiceAccount `name` (one per name); its token is asked for at its first request, as upstream's
   * cached token source does: a controller that writes nothing at start costs the apiserver nothing at start
   */
  client(name: string): KubeClient {
    let client = this.clients.get(name);
    if (client) return client;
    const source = new ServiceAccountTokenSource({ ...this.opts, namespace: this.namespace, name });
    this.sources.push(source);
    client = new KubeClient(this.opts.connection.withCredential(source));
    this.clients.set(name, client);
    return client;
  }

  /** waits until every client's first token came (or failed) */
  async ready(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.token().catch(() => undefined)));
  }
}

interface SourceOptions extends ServiceAccountClientsOptions {
  namespace: string;
  name: string;
}

/** upstream's tokenSourceImpl behind transport.NewCachedTokenSource */
class ServiceAccountTokenSource implements TokenSource {
  private cached: { token: string; refreshAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: SourceOptions) {
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  token(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  reset(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < TOKEN_ATTEMPTS; attempt++) {
      if (attempt > 0) await this.sleep(TOKEN_BACKOFF_MS * 2 ** (attempt - 1));
      try {
        // upstream gets (or creates) the ServiceAccount, then asks for a token; asking first saves the get on every
        // start but the first (a missing ServiceAccount answers 404 just the same)
        let tr: TokenRequest;
        try {
          tr = await this.requestToken();
        } catch (err) {
          if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
          await this.getOrCreateServiceAccount();
          tr = await this.requestToken();
        }
        const token = tr.status?.token;
        const expires = Date.parse(tr.status?.expirationTimestamp ?? '');
        if (!token || Number.isNaN(expires)) throw new Error('the TokenRequest came back without a token');
        const now = this.now();
        const lifetime = Math.max(expires - now, MIN_LIFETIME_MS);
        this.cached = { token, refreshAt: now + lifetime - (lifetime * LEEWAY_PERCENT) / 100 };
        return token;
      } catch (err) {
        lastErr = err;
        this.opts.logger.info(
          { err, namespace: this.opts.namespace, serviceAccount: this.opts.name },
          'get token failed',
        );
      }
    }
    throw new Error(
      `failed to get token for ${this.opts.namespace}/${this.opts.name}: ${lastErr instanceof Error ? lastErr.message : String(lastErr)}`,
      { cause: lastErr },
    );
  }

  private requestToken(): Promise<TokenRequest> {
    return this.opts.root.serviceAccounts.createSubresource<TokenRequest, TokenRequest>(
      this.opts.name,
      'token',
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { audiences: [], expirationSeconds: EXPIRATION_SECONDS },
      },
      { namespace: this.opts.namespace },
    );
  }

  /** upstream's getOrCreateServiceAccount (the namespace is the apiserver's to create here: kube-system always is) */
  private async getOrCreateServiceAccount(): Promise<void> {
    const sas = this.opts.root.serviceAccounts;
    const { namespace, name } = this.opts;
    try {
      await sas.get(name, namespace);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound')) throw err;
    }
    const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } };
    try {
      await sas.create(sa, { namespace });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
