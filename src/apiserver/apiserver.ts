// Assembles the apiserver: state dir, PKI, tokens, storage, registry, the REST and WebSocket faces.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../api/errors.js';
import type { UserInfo } from '../api/request.js';
import type { Logger } from '../util/logger.js';
import { ensureClusterPki } from '../util/pki.js';
import { writeKubeconfig } from '../util/kubeconfig.js';
import { metricsText, observeRequest, type RequestScope } from '../util/metrics.js';
import {
  ensureTokenFile,
  selfSubjectReview,
  TokenAuthenticator,
  PUBLIC_PATHS,
  AUTHENTICATED_GROUP,
  reviewsRoute,
  withReviews,
  tokenFromHeaders,
  ANONYMOUS_USER,
  UNAUTHENTICATED_GROUP,
  authorizeHttpRequest,
  authorizeAttributes,
  authorizingHandler,
} from './auth/index.js';
import { ensureLocalPathStorage } from './addons/local-path-storage.js';
import { ApiAuthorization, type AuthorizationMode } from './auth/rbac/index.js';
import { peerIdentity } from '../util/peer-identity.js';
import type { TLSSocket } from 'node:tls';
import { SqliteStorage } from './storage/sqlite-storage.js';
import { EncryptionAtRest } from './storage/encryption/encryption-at-rest.js';
import type { Storage } from './storage/storage.js';
import { Registry } from './registry/registry.js';
import type { AdmissionConfig } from './admission/index.js';
import { createRestHandler, sendJson, type ExtraRoute } from './rest/server.js';
import { Offload } from './offload/offload.js';
import { attachWebSocketFace, type WebSocketFace } from './ws/ws-face.js';
import { toTable } from './printers/index.js';
import { handleOpenApi } from './openapi/index.js';
import { KubeletClient } from './kubelet-client.js';
import { kubeletLogsRoute } from './kubelet-proxy.js';
import { createUpgradeProxy, upgradeRequiredRoute } from './streaming/upgrade-proxy.js';
import { proxyRoute } from './streaming/proxy.js';
import { MetricsScraper, metricsApiRoute, withMetricsApi } from './metrics-api/index.js';
import { dashboardRoute, DASHBOARD_PUBLIC_PATHS } from '../dashboard/route.js';
import { etcdMemberStatus } from '../util/etcd-member-status.js';
import { IdentityLease } from './identity-lease.js';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  legacyApiVersions,
  versionInfo,
} from './discovery/index.js';
import { writeFileAtomic } from '../util/atomic-file.js';
import { requestAttributes } from './auth/request-attributes.js';
import { AuthObjects } from './auth/auth-objects.js';
import { TokenIssuer } from './auth/serviceaccount/issuer.js';
import { ServiceAccountTokenAuthenticator } from './auth/serviceaccount/token-authenticator.js';
import { oidcRoutes } from './auth/serviceaccount/oidc.js';
import { healthChecks, serveHealth } from './health.js';

export const WEBSOCKET_PATH = '/kubemu/v1/ws';

export interface ApiServerOptions {
  stateDir: string;
  /** the port the `kubernetes` Service's endpoints name (default: the one it listens on); a balancer's, behind one */
  advertisePort?: number;
  host?: string;
  /** more names for the serving certificate (k3s's --tls-san): addresses clients reach this server at */
  tlsSans?: string[];
  /** 0 picks a free port */
  port?: number;
  logger: Logger;
  serviceCidr?: string;
  nodePortRange?: [number, number];
  notReadyTolerationSeconds?: number;
  bookmarkIntervalMs?: number;
  /** upstream's --event-ttl: how long Events are kept after their last write, in seconds (default 1 h) */
  eventTtlSeconds?: number;
  /** name used for the admin kubeconfig's context (`kubemu-<name>`) */
  clusterName?: string;
  /** storage to use instead of the state dir's SQLite database (tests) */
  storage?: Storage;
  /** where objects live: the state dir's SQLite database (default) or etcd (`--storage etcd`) */
  storageBackend?: 'sqlite' | 'etcd';
  /** upstream's --etcd-servers: etcd client URLs, with storageBackend 'etcd' */
  etcdServers?: string[];
  /** upstream's --etcd-compaction-interval in ms (default 5 min; 0 turns this apiserver's compactor off) */
  etcdCompactionIntervalMs?: number;
  /** events kept for resuming watches; older resourceVersions get 410 Expired */
  watchCacheSize?: number;
  /** admission plugins to enable/disable (upstream's --enable-admission-plugins / --disable-admission-plugins) */
  admission?: AdmissionConfig;
  /** how often kubelets' /stats/summary are scraped for metrics.k8s.io (metrics-server's --metric-resolution); default 1 s */
  metricResolutionMs?: number;
  /** upstream's --authorization-mode: Node,RBAC (default, as kubeadm; system:masters always allowed), RBAC or AlwaysAllow */
  authorizationMode?: AuthorizationMode;
  /** upstream's --anonymous-auth (default true): requests without credentials run as system:anonymous */
  anonymousAuth?: boolean;
  /** upstream's --encryption-provider-config: an EncryptionConfiguration file (encryption at rest; off when unset) */
  encryptionProviderConfig?: string;
  /** upstream's --service-account-issuer (repeatable; the first signs): default https://kubernetes.default.svc.cluster.local */
  serviceAccountIssuers?: string[];
  /** upstream's --api-audiences (default: the issuers) */
  apiAudiences?: string[];
  /** upstream's --service-account-signing-key-file (default: the state dir's pki/sa.key, made on first start) */
  serviceAccountSigningKeyFile?: string;
  /** upstream's --service-account-key-file: more public keys tokens may be signed with (PEM files) */
  serviceAccountKeyFiles?: string[];
}

export interface RunningApiServer {
  url: string;
  port: number;
  caPem: string;
  adminToken: string;
  /** a kubeconfig for the admin, written in the state dir */
  kubeconfig: string;
  registry: Registry;
  close(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const log = opts.logger;
  const host = opts.host ?? '127.0.0.1';
  // a bad file stops the apiserver before anything else, as upstream's does
  const encryption = opts.encryptionProviderConfig
    ? EncryptionAtRest.fromFile(opts.encryptionProviderConfig)
    : undefined;
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const pki = await ensureClusterPki(join(opts.stateDir, 'pki'), { hosts: [host, ...(opts.tlsSans ?? [])] });
  const { file: tokenFile, adminToken } = ensureTokenFile(opts.stateDir);
  const authenticator = TokenAuthenticator.fromFile(tokenFile, log);
  const storageOpts = {
    logger: log.child({ module: 'storage' }),
    ...(opts.watchCacheSize ? { watchCacheSize: opts.watchCacheSize } : {}),
    ...(encryption ? { transformer: encryption } : {}),
  };
  // etcd's client is loaded only for etcd: etcd3 brings grpc-js and protobufjs, ~0.3 s of CPU at every start otherwise
  const openEtcd = async (): Promise<Storage> => {
    const { EtcdStorage } = await import('./storage/etcd-storage.js');
    return EtcdStorage.open({
      ...storageOpts,
      endpoints: opts.etcdServers ?? [],
      ...(opts.etcdCompactionIntervalMs !== undefined
        ? { compactionIntervalMs: opts.etcdCompactionIntervalMs }
        : {}),
    });
  };
  const storage =
    opts.storage ??
    (opts.storageBackend === 'etcd'
      ? await openEtcd()
      : SqliteStorage.open({ ...storageOpts, path: join(opts.stateDir, 'state.db') }));
  // CPU-heavy steps of large requests (YAML decoding, the field manager) run on this worker thread
  const offload = new Offload({ logger: log.child({ module: 'offload' }) });
  const authorization = new ApiAuthorization(opts.authorizationMode ?? 'Node,RBAC');
  const tokenIssuer = new TokenIssuer({
    signingKeyPem: opts.serviceAccountSigningKeyFile
      ? readFileSync(opts.serviceAccountSigningKeyFile, 'utf8')
      : pki.serviceAccountKeyPem,
    verificationKeyPems: (opts.serviceAccountKeyFiles ?? []).map((f) => readFileSync(f, 'utf8')),
    ...(opts.serviceAccountIssuers ? { issuers: opts.serviceAccountIssuers } : {}),
    ...(opts.apiAudiences ? { apiAudiences: opts.apiAudiences } : {}),
  });
  const registry = new Registry({
    storage,
    policyChecks: authorization.policyChecks,
    authorizer: () => authorization.authorizer,
    tokenIssuer: () => tokenIssuer,
    offload,
    ...(opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {}),
    ...(opts.nodePortRange ? { nodePortRange: opts.nodePortRange } : {}),
    ...(opts.notReadyTolerationSeconds !== undefined
      ? { notReadyTolerationSeconds: opts.notReadyTolerationSeconds }
      : {}),
    ...(opts.bookmarkIntervalMs !== undefined ? { bookmarkIntervalMs: opts.bookmarkIntervalMs } : {}),
    ...(opts.eventTtlSeconds !== undefined ? { eventTtlSeconds: opts.eventTtlSeconds } : {}),
    ...(opts.admission ? { admission: opts.admission } : {}),
    log: log.child({ module: 'crd-controller' }),
  });
  await registry.init();
  // the objects bound tokens and the Node authorizer's graph depend on, mirrored before anyone is served
  const authObjects = new AuthObjects(registry, log.child({ module: 'auth-objects' }));
  await authObjects.start();
  const serviceAccountTokens = new ServiceAccountTokenAuthenticator({
    issuers: tokenIssuer.issuers,
    apiAudiences: tokenIssuer.apiAudiences,
    publicKeys: tokenIssuer.publicKeys,
    objects: authObjects,
  });
  // upstream's rbac/bootstrap-roles post-start hook, then the authorizer's first sync, before anyone is served
  await authorization.start(registry, log, authObjects.graph);
  // the local-path provisioner's ServiceAccount, role and binding, and the default StorageClass `standard`
  await ensureLocalPathStorage(registry, log.child({ module: 'addons' }));
  // every call to a kubelet goes through this one client: the apiserver's certificate, the kubelet's verified
  const kubelets = new KubeletClient({
    caPem: pki.caCertPem,
    certPem: pki.kubeletClientCertPem,
    keyPem: pki.kubeletClientKeyPem,
  });
  const metricsScraper = new MetricsScraper({
    handler: registry,
    kubelets,
    logger: log.child({ module: 'metrics-scraper' }),
    ...(opts.metricResolutionMs !== undefined ? { resolutionMs: opts.metricResolutionMs } : {}),
  });
  // both faces serve metrics.k8s.io from the scraper; everything else is the registry's
  const api = withMetricsApi(registry, metricsScraper.store);

  /** bearer tokens: the token file, then ServiceAccount tokens (bound and legacy), as upstream's union */
  const authenticateBearer = (
    token: string,
    audiences?: readonly string[],
  ): { user: UserInfo; audiences?: string[] } | { error: string } | undefined => {
    const fromFile = authenticator.authenticateToken(token);
    if (fromFile) return { user: fromFile };
    const result = serviceAccountTokens.authenticate(token, audiences);
    // upstream's group adder wraps the whole chain, TokenReview's answers included
    if (result && 'user' in result && !result.user.groups.includes(AUTHENTICATED_GROUP))
      result.user.groups.push(AUTHENTICATED_GROUP);
    return result;
  };
  const bearerUser = (req: IncomingMessage): UserInfo | undefined => {
    const token = tokenFromHeaders(req.headers);
    if (token === undefined) return undefined;
    const result = authenticateBearer(token);
    return result && 'user' in result ? result.user : undefined;
  };
  // x509 client certificates signed by the cluster CA (CN user, O groups), then bearer tokens, as upstream's chain
  const authenticate = (req: IncomingMessage): UserInfo | undefined => {
    const user = peerIdentity(req.socket as TLSSocket) ?? bearerUser(req);
    if (!user) return undefined;
    return user.groups.includes(AUTHENTICATED_GROUP)
      ? user
      : { ...user, groups: [...user.groups, AUTHENTICATED_GROUP] };
  };
  const anonymousAuth = opts.anonymousAuth ?? true;
  /** the REST face: a request with no credentials at all is system:anonymous (a wrong token stays a 401) */
  const authenticateRest = (req: IncomingMessage): UserInfo | undefined =>
    authenticate(req) ??
    (anonymousAuth && tokenFromHeaders(req.headers) === undefined
      ? { username: ANONYMOUS_USER, groups: [UNAUTHENTICATED_GROUP] }
      : undefined);
  /** pods/exec, attach, portforward: authorized as upstream, which also asks `create` of a GET upgrade */
  const authenticateUpgrade = (req: IncomingMessage): UserInfo | undefined => {
    const user = authenticate(req);
    if (!user) return undefined;
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const effective = authorizeHttpRequest(authorization.authorizer, req, url, user);
    if (req.method === 'GET') {
      const attrs = requestAttributes('POST', url);
      authorizeAttributes(authorization.authorizer, effective, attrs);
    }
    return effective;
  };

  const reviewOptions = {
    get authorizer() {
      return authorization.authorizer;
    },
    authenticateToken: authenticateBearer,
  };
  let shuttingDown = false;
  const health = healthChecks({
    storage: () => storage.checkHealth?.() ?? Promise.resolve(),
    shuttingDown: () => shuttingDown,
  });
  const healthLog = log.child({ module: 'health' });
  const routes: ExtraRoute[] = [
    (_req, res, { url }) => serveHealth(res, url, health, healthLog),
    versionRoute(),
    discoveryRoutes(),
    (req, res, { url, user }) => !!user && handleOpenApi(req, res, url),
    metricsRoute(),
    whoamiRoute(),
    reviewsRoute(reviewOptions),
    oidcRoutes(
      () => tokenIssuer,
      () =>
        `${host.includes(':') ? `[${host}]` : host}:${(server.address() as AddressInfo | null)?.port ?? opts.port ?? 6443}`,
    ),
    kubeletLogsRoute({
      handler: registry,
      kubelets,
      logger: log.child({ module: 'kubelet-proxy' }),
    }),
    upgradeRequiredRoute(),
    proxyRoute({ handler: registry, logger: log.child({ module: 'proxy' }) }),
    dashboardRoute({
      handler: registry,
      logger: log.child({ module: 'dashboard' }),
      ...(opts.storageBackend === 'etcd' && opts.etcdServers
        ? { etcdMembers: () => Promise.all(opts.etcdServers!.map((e) => etcdMemberStatus(e))) }
        : {}),
    }),
    metricsApiRoute(registry, metricsScraper.store),
  ];
  const rest = createRestHandler({
    handler: registry,
    offload,
    authenticate: authenticateRest,
    authorize: (req, url, user) => authorizeHttpRequest(authorization.authorizer, req, url, user),
    // with RBAC, /healthz, /livez, /readyz and /version are system:public-info-viewer's to allow
    publicPaths: new Set(
      authorization.mode !== 'AlwaysAllow'
        ? DASHBOARD_PUBLIC_PATHS
        : [...PUBLIC_PATHS, ...DASHBOARD_PUBLIC_PATHS],
    ),
    logger: log.child({ module: 'rest' }),
    routes,
    toTable: (ri, objects, o) => toTable(ri, objects, o),
    observe: (labels, seconds) => observeRequest({ ...labels, scope: labels.scope as RequestScope }, seconds),
  });
  const server: Server = createServer(
    {
      cert: pki.servingCertPem,
      key: pki.servingKeyPem,
      keepAliveTimeout: 60_000,
      // client certificates are asked for, never required: the authenticator reads those that verify
      requestCert: true,
      rejectUnauthorized: false,
      ca: pki.caCertPem,
    },
    rest,
  );
  server.headersTimeout = 30_000;
  server.requestTimeout = 0; // watches are long-lived
  const ws: WebSocketFace = attachWebSocketFace(server, {
    path: WEBSOCKET_PATH,
    handler: authorizingHandler(withReviews(api, reviewOptions), () => authorization.authorizer),
    authenticate,
    // a controller-manager's per-controller ServiceAccount tokens on its one connection
    authenticateToken: (token) => {
      const result = authenticateBearer(token);
      if (!result || !('user' in result)) return undefined;
      const u = result.user;
      return u.groups.includes(AUTHENTICATED_GROUP)
        ? u
        : { ...u, groups: [...u.groups, AUTHENTICATED_GROUP] };
    },
    logger: log.child({ module: 'ws' }),
  });
  // pods/exec, attach, portforward: relayed to the kubelet as upgraded connections
  server.on(
    'upgrade',
    createUpgradeProxy({
      handler: registry,
      kubelets,
      authenticate: authenticateUpgrade,
      otherPaths: new Set([WEBSOCKET_PATH]),
      logger: log.child({ module: 'stream-proxy' }),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(
              `port ${opts.port ?? 6443} on ${host} is already in use: another apiserver or program holds it`,
              { cause: e },
            )
          : e,
      );
    });
    server.listen(opts.port ?? 6443, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;
  // behind a balancer (an HA control plane) every apiserver names the balancer's port, so they agree
  await registry.reconcileKubernetesEndpoints(host, opts.advertisePort ?? port);
  metricsScraper.start();
  // upstream's start-kube-apiserver-identity-lease-controller and -garbage-collector post-start hooks
  const identityLease = new IdentityLease({
    handler: registry,
    log: log.child({ module: 'identity-lease' }),
  });
  identityLease.start();
  const kubeconfig = join(opts.stateDir, 'admin.kubeconfig');
  writeKubeconfig(kubeconfig, {
    name: opts.clusterName ?? 'kubemu',
    server: url,
    caPem: pki.caCertPem,
    token: adminToken,
    setCurrent: true,
    // YAML's parser took the apiserver ~100 ms of CPU to load, just as the kubelets' first requests arrived
    format: 'json',
  });
  writeFileAtomic(
    join(opts.stateDir, 'apiserver.json'),
    JSON.stringify({ url, port, pid: process.pid }, null, 2),
    0o600,
  );
  log.info({ url }, 'apiserver serving');

  const sockets = new Set<import('node:stream').Duplex>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  return {
    url,
    port,
    caPem: pki.caCertPem,
    adminToken,
    kubeconfig,
    registry,
    async close() {
      shuttingDown = true;
      identityLease.stop();
      registry.stop();
      authorization.stop();
      authObjects.stop();
      metricsScraper.stop();
      kubelets.close();
      await ws.close();
      await offload.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await storage.close();
    },
  };
}

function versionRoute(): ExtraRoute {
  return (req, res, { url }) => {
    const p = url.pathname;
    if (p === '/version') {
      sendJson(res, 200, versionInfo());
      return true;
    }
    void req;
    return false;
  };
}

function discoveryRoutes(): ExtraRoute {
  return (req, res, { url, user }) => {
    if (req.method !== 'GET' || !user) return false;
    const p = url.pathname.replace(/\/+$/, '');
    const accept = req.headers.accept ?? '';
    const aggregated = /as=APIGroupDiscoveryList/.test(accept);
    const aggVersion: 'v2' | 'v2beta1' | undefined = !aggregated
      ? undefined
      : /g=apidiscovery\.k8s\.io;\s*v=v2(;|,|$)|v=v2;g=apidiscovery/.test(accept.replace(/\s/g, '')) ||
          accept.includes('v=v2;') ||
          /v=v2[^b]/.test(accept)
        ? 'v2'
        : 'v2beta1';
    const sendAggregated = (scope: 'api' | 'apis'): void => {
      const body = aggregatedDiscovery(scope, aggVersion!);
      const text = JSON.stringify(body);
      res.writeHead(200, {
        'Content-Type': `application/json;g=apidiscovery.k8s.io;v=${aggVersion!};as=APIGroupDiscoveryList`,
        'Content-Length': String(Buffer.byteLength(text)),
        Vary: 'Accept',
      });
      res.end(text);
    };
    if (p === '/api') {
      if (aggVersion) sendAggregated('api');
      else sendJson(res, 200, legacyApiVersions());
      return true;
    }
    if (p === '/apis') {
      if (aggVersion) sendAggregated('apis');
      else sendJson(res, 200, apiGroupList());
      return true;
    }
    const segs = p.split('/').filter(Boolean);
    if (segs[0] === 'api' && segs.length === 2) {
      const list = apiResourceList('', segs[1]);
      if (!list)
        throw errors.notFound({ group: '', resource: 'apiversions', kind: 'APIResourceList', name: segs[1] });
      sendJson(res, 200, list);
      return true;
    }
    if (segs[0] === 'apis' && segs.length === 2) {
      const g = apiGroup(segs[1]);
      if (!g) return false;
      sendJson(res, 200, g);
      return true;
    }
    if (segs[0] === 'apis' && segs.length === 3) {
      const list = apiResourceList(segs[1], segs[2]);
      if (!list) return false;
      sendJson(res, 200, list);
      return true;
    }
    return false;
  };
}

function metricsRoute(): ExtraRoute {
  return async (req, res, { url, user }) => {
    if (url.pathname !== '/metrics' || req.method !== 'GET' || !user) return false;
    const { contentType, body } = await metricsText();
    res.writeHead(200, { 'Content-Type': contentType }).end(body);
    return true;
  };
}

function whoamiRoute(): ExtraRoute {
  return (req, res: ServerResponse, { url, user }) => {
    if (!user || req.method !== 'POST') return false;
    const m = url.pathname.match(/^\/apis\/authentication\.k8s\.io\/(v1|v1beta1)\/selfsubjectreviews\/?$/);
    if (!m) return false;
    const review = selfSubjectReview(user);
    sendJson(res, 201, { ...review, apiVersion: `authentication.k8s.io/${m[1]}` });
    return true;
  };
}
