// pods/log: finds the pod's node and streams `GET /containerLogs/...` from that node's kubelet back to the client.
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, errors } from '../api/errors.js';
import { decodePodLogOptions, encodePodLogOptions, validatePodLogOptions } from '../api/query-params.js';
import type { ApiHandler, UserInfo } from '../api/request.js';
import type { Logger } from '../util/logger.js';
import { ADMIN_USER, nodeUser, readTokenFile, tokenFilePath } from './auth/token-file.js';
import type { ExtraRoute } from './rest/server.js';

export interface KubeletProxyDeps {
  handler: ApiHandler;
  /**
   * Bearer tokens to present to a node's kubelet, tried in order on 401. A kubelet accepts the token of its own
   * kubeconfig; `tokensFromStateDir` gives the node's `system:node:<name>` token, then the admin token.
   */
  kubeletTokens(nodeName: string): string[];
  logger: Logger;
  /** for tests */
  timeoutMs?: number;
}

/** The tokens.csv of the apiserver's state dir, read on each call (node tokens are added while it runs). */
export function tokensFromStateDir(stateDir: string): (nodeName: string) => string[] {
  return (nodeName) => {
    const entries = readTokenFile(tokenFilePath(stateDir));
    const pick = (user: string): string[] => entries.filter((e) => e.user === user).map((e) => e.token);
    return [...pick(nodeUser(nodeName)), ...pick(ADMIN_USER)];
  };
}

const LOG_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log\/?$/;

/** Which container: the one named, the only one, or upstream's "a container name must be specified" error. */
export function logContainer(pod: Pod, requested: string | null): string {
  const name = pod.metadata?.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const all = [
    ...(pod.spec?.initContainers ?? []),
    ...containers,
    ...(pod.spec?.ephemeralContainers ?? []),
  ].map((c) => c.name);
  if (!requested) {
    if (containers.length === 1) return containers[0].name;
    if (containers.length === 0)
      throw errors.badRequest(`a container name must be specified for pod ${name}`);
    throw errors.badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`,
    );
  }
  if (!all.includes(requested))
    throw errors.badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

function nodeAddress(node: Node): { host: string; port: number } | undefined {
  const addrs = node.status?.addresses ?? [];
  const host = (addrs.find((a) => a.type === 'InternalIP') ?? addrs[0])?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host && port ? { host, port } : undefined;
}

function get(url: URL, token: string | undefined, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: 'GET',
      // Upstream's default too: without --kubelet-certificate-authority the kubelet's certificate is not verified.
      rejectUnauthorized: false,
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      timeout: timeoutMs,
    });
    req.once('response', resolve);
    req.once('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs}ms`)));
    req.once('error', reject);
    req.end();
  });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      if (body.length < 64 * 1024) body += c;
    });
    res.on('end', () => resolve(body));
    res.on('error', () => resolve(body));
  });
}

export function kubeletLogsRoute(deps: KubeletProxyDeps): ExtraRoute {
  const timeoutMs = deps.timeoutMs ?? 10_000;
  return async (req, res, { url, user }) => {
    const m = LOG_PATH.exec(url.pathname);
    if (!m || req.method !== 'GET' || !user) return false;
    const namespace = decodeURIComponent(m[1]);
    const name = decodeURIComponent(m[2]);
    // as upstream's GetResourceWithOptions and LogREST.Get: decode (400), then validate (422), then the pod
    const logOptions = decodePodLogOptions(url.searchParams);
    validatePodLogOptions(logOptions, name);
    const getObject = async <T>(
      resource: string,
      ns: string | undefined,
      n: string,
      u: UserInfo,
    ): Promise<T> => {
      const r = await deps.handler.handle({
        verb: 'get',
        group: '',
        version: 'v1',
        resource,
        ...(ns ? { namespace: ns } : {}),
        name: n,
        options: {},
        user: u,
      });
      return r.body as T;
    };
    const pod = await getObject<Pod>('pods', namespace, name, user);
    const container = logContainer(pod, logOptions.container ?? null);
    const nodeName = pod.spec?.nodeName;
    // Not scheduled yet: upstream answers with an empty log.
    if (!nodeName) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end();
      return true;
    }
    const node = await getObject<Node>('nodes', undefined, nodeName, user);
    const addr = nodeAddress(node);
    if (!addr) throw errors.internal(`node "${nodeName}" has no kubelet endpoint`);
    const target = new URL(
      `https://${addr.host}:${addr.port}/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}`,
    );
    target.search = encodePodLogOptions(logOptions).toString();
    const tokens = deps.kubeletTokens(nodeName);
    let upstream: IncomingMessage | undefined;
    for (const token of tokens.length ? tokens : [undefined]) {
      try {
        upstream = await get(target, token, timeoutMs);
      } catch (err) {
        throw errors.internal(`error dialing kubelet on node "${nodeName}": ${(err as Error).message}`, err);
      }
      if (upstream.statusCode !== 401) break;
      upstream.resume();
    }
    const status = upstream!.statusCode ?? 500;
    if (status < 200 || status > 206) {
      const text = (await readAll(upstream!)).trim();
      if (status === 400) throw errors.badRequest(text);
      if (status === 404) throw new ApiError('NotFound', text, { name, kind: 'pods' });
      if (status === 401)
        throw errors.internal(`the kubelet on node "${nodeName}" refused the apiserver's credential`);
      throw errors.internal(text || `kubelet answered ${status}`);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    upstream!.pipe(res);
    res.once('close', () => upstream!.destroy());
    await new Promise<void>((resolve) => {
      upstream!.once('close', resolve);
      res.once('close', resolve);
    });
    deps.logger.debug({ pod: `${namespace}/${name}`, container }, 'served pod log');
    return true;
  };
}
