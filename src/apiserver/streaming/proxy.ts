// pods/proxy and services/proxy (`kubectl proxy` + `/api/v1/namespaces/NS/services/web:80/proxy/`): HTTP requests the
// apiserver forwards to a pod, or to a ready endpoint of a service's port, as upstream's ProxyREST does (the
// apiserver dials the pod IP itself; the kubelet is not involved). Names take upstream's `[scheme:]name[:port]`.
import http from 'node:http';
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { ApiError, errors } from '../../api/errors.js';
import type { ApiHandler, UserInfo } from '../../api/request.js';
import type { Logger } from '../../util/logger.js';
import type { ExtraRoute } from '../rest/server.js';

const PROXY_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services)\/([^/]+)\/proxy(\/.*)?$/;

/** hop-by-hop headers and the caller's credentials stay here */
const DROPPED = new Set([
  'authorization',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

interface Target {
  host: string;
  port: number;
}

/** upstream's SplitSchemeNamePort: `name`, `name:port`, `scheme:name:port` */
export function splitSchemeNamePort(id: string): { scheme: string; name: string; port: string } | undefined {
  const parts = id.split(':');
  if (parts.length === 1) return { scheme: '', name: parts[0], port: '' };
  if (parts.length === 2) return { scheme: '', name: parts[0], port: parts[1] };
  if (parts.length === 3 && (parts[0] === 'http' || parts[0] === 'https' || parts[0] === ''))
    return { scheme: parts[0], name: parts[1], port: parts[2] };
  return undefined;
}

function podTarget(pod: Pod, port: string): Target {
  const name = pod.metadata?.name ?? '';
  const ip = pod.status?.podIP;
  if (!ip) throw new ApiError('ServiceUnavailable', `pod ${name} has no IP address yet`);
  if (port === '') {
    const first = pod.spec?.containers?.flatMap((c) => c.ports ?? [])[0]?.containerPort;
    if (first === undefined) return { host: ip, port: 80 };
    return { host: ip, port: first };
  }
  if (/^\d+$/.test(port)) return { host: ip, port: Number(port) };
  const named = pod.spec?.containers?.flatMap((c) => c.ports ?? []).find((p) => p.name === port);
  if (!named) throw errors.badRequest(`no such port "${port}" on pod ${name}`);
  return { host: ip, port: named.containerPort };
}

function serviceTarget(svc: Service, endpoints: Endpoints | undefined, port: string): Target {
  const name = svc.metadata?.name ?? '';
  const ports = svc.spec?.ports ?? [];
  const svcPort = port === '' ? ports[0] : ports.find((p) => p.name === port || String(p.port) === port);
  if (!svcPort)
    throw new ApiError('ServiceUnavailable', `no service port "${port}" found for service "${name}"`);
  const candidates: Target[] = [];
  for (const subset of endpoints?.subsets ?? []) {
    const epPort = (subset.ports ?? []).find((p) => (p.name ?? '') === (svcPort.name ?? ''));
    if (!epPort) continue;
    for (const a of subset.addresses ?? []) candidates.push({ host: a.ip, port: epPort.port });
  }
  if (candidates.length === 0)
    throw new ApiError('ServiceUnavailable', `no endpoints available for service "${name}"`);
  return candidates[Math.floor(Math.random() * candidates.length)];
}

export function proxyRoute(deps: { handler: ApiHandler; logger: Logger }): ExtraRoute {
  const get = async <T>(resource: string, namespace: string, name: string, user: UserInfo): Promise<T> =>
    (
      await deps.handler.handle({
        verb: 'get',
        group: '',
        version: 'v1',
        resource,
        namespace,
        name,
        options: {},
        user,
      })
    ).body as T;

  return async (req, res, { url, user }) => {
    const m = PROXY_PATH.exec(url.pathname);
    if (!m || !user) return false;
    const namespace = decodeURIComponent(m[1]);
    const kind = m[2] as 'pods' | 'services';
    const id = splitSchemeNamePort(decodeURIComponent(m[3]));
    if (!id) throw errors.badRequest(`invalid ${kind === 'pods' ? 'pod' : 'service'} request "${m[3]}"`);
    if (id.scheme === 'https') throw errors.badRequest('https is not supported by this proxy');
    let target: Target;
    if (kind === 'pods') target = podTarget(await get<Pod>('pods', namespace, id.name, user), id.port);
    else {
      const svc = await get<Service>('services', namespace, id.name, user);
      const eps = await get<Endpoints>('endpoints', namespace, id.name, user).catch(() => undefined);
      target = serviceTarget(svc, eps, id.port);
    }
    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!DROPPED.has(k) && v !== undefined) headers[k] = v;
    headers['host'] = `${target.host}:${target.port}`;
    headers['x-forwarded-uri'] = url.pathname;
    const path = `${m[4] ?? '/'}${url.search}`;
    await new Promise<void>((resolve, reject) => {
      const upstream = http.request(
        { host: target.host, port: target.port, method: req.method, path, headers, timeout: 30_000 },
        (up) => {
          const out: http.OutgoingHttpHeaders = {};
          for (const [k, v] of Object.entries(up.headers)) if (!DROPPED.has(k) && v !== undefined) out[k] = v;
          res.writeHead(up.statusCode ?? 502, out);
          up.pipe(res);
          up.once('end', resolve);
          up.once('error', () => resolve());
          res.once('close', () => {
            up.destroy();
            resolve();
          });
        },
      );
      upstream.once('timeout', () => upstream.destroy(new Error('timeout awaiting response headers')));
      upstream.once('error', (err: NodeJS.ErrnoException) => {
        const dial = `dial tcp ${target.host}:${target.port}`;
        const cause = err.code === 'ECONNREFUSED' ? `${dial}: connect: connection refused` : err.message;
        reject(
          new ApiError(
            'ServiceUnavailable',
            `error trying to reach ${kind === 'pods' ? 'pod' : 'service'}: ${cause}`,
          ),
        );
      });
      req.pipe(upstream);
    });
    deps.logger.debug({ kind, name: id.name, target }, 'proxied');
    return true;
  };
}
