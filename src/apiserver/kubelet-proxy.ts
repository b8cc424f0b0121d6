// pods/log: finds the pod's node and streams `GET /containerLogs/...` from that node's kubelet back to the client.
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError, errors } from '../api/errors.js';
import { decodePodLogOptions, encodePodLogOptions, validatePodLogOptions } from '../api/query-params.js';
import type { ApiHandler } from '../api/request.js';
import type { Logger } from '../util/logger.js';
import { getCoreObject, kubeletEndpoint, readBody, type KubeletClient } from './kubelet-client.js';
import type { ExtraRoute } from './rest/server.js';

export interface KubeletProxyDeps {
  handler: ApiHandler;
  /** the apiserver's client for kubelets: its own certificate, the kubelet's verified, never a token */
  kubelets: KubeletClient;
  logger: Logger;
  /** for tests */
  timeoutMs?: number;
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

/** A kubelet's non-2xx answer as upstream's GenericHttpResponseChecker turns it into a Status (pods/log). */
function kubeletAnswerError(status: number, text: string, name: string): ApiError {
  const of = ` ( pods/log ${name})`;
  const details = { name, kind: 'pods/log' };
  if (status === 400) return errors.badRequest(text);
  if (status === 404) return new ApiError('NotFound', text, { name, kind: 'pods' });
  if (status === 500) return errors.internal(text);
  if (status === 401)
    return new ApiError(
      'Unauthorized',
      `the server has asked for the client to provide credentials${of}`,
      details,
    );
  if (status === 403) return new ApiError('Forbidden', `${text}${of}`, details);
  return errors.internal(
    text || `the server responded with the status code ${status} but did not return more information${of}`,
  );
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
    const pod = await getCoreObject<Pod>(deps.handler, 'pods', namespace, name, user);
    const container = logContainer(pod, logOptions.container ?? null);
    const nodeName = pod.spec?.nodeName;
    // Not scheduled yet: upstream answers with an empty log.
    if (!nodeName) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end();
      return true;
    }
    const node = await getCoreObject<Node>(deps.handler, 'nodes', undefined, nodeName, user);
    const endpoint = kubeletEndpoint(node);
    if (!endpoint) throw errors.internal(`node "${nodeName}" has no kubelet endpoint`);
    const query = encodePodLogOptions(logOptions).toString();
    const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}${query ? `?${query}` : ''}`;
    const upstream = await deps.kubelets.get(endpoint, path, timeoutMs);
    const status = upstream.statusCode ?? 500;
    if (status < 200 || status > 206) {
      const text = (await readBody(upstream, 64 * 1024).catch(() => '')).trim();
      throw kubeletAnswerError(status, text, name);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    upstream.pipe(res);
    res.once('close', () => upstream.destroy());
    await new Promise<void>((resolve) => {
      upstream.once('close', resolve);
      res.once('close', resolve);
    });
    deps.logger.debug({ pod: `${namespace}/${name}`, container }, 'served pod log');
    return true;
  };
}
