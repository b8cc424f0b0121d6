// Serves metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics from the scraper's points, joined with the live pods
// and nodes (for labels, label selectors and existence): a handler wrapper for both faces and a REST route.
import type { IncomingMessage } from 'node:http';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { errors } from '../../api/errors.js';
import { isWatchQuery } from '../../api/query-params.js';
import type { ApiHandler, ApiRequest, ApiResult, KubeList, KubeObject } from '../../api/request.js';
import { rfc3339 } from '../../util/objects.js';
import { partialObjectMetadata, type Table } from '../printers/index.js';
import { parseOptions } from '../rest/parse.js';
import { sendJson, type ExtraRoute } from '../rest/server.js';
import { METRICS_GROUP, METRICS_VERSION } from './resources.js';
import { podHasMetrics, type MetricsProvider, type Usage } from './store.js';

const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** metrics-server's units: nanocores and KiB */
export const cpuQuantity = (nanoCores: number): string => `${Math.max(0, Math.round(nanoCores))}n`;
export const memoryQuantity = (bytes: number): string => `${Math.max(0, Math.floor(bytes / 1024))}Ki`;
const usageOf = (u: Usage): { cpu: string; memory: string } => ({
  cpu: cpuQuantity(u.nanoCores),
  memory: memoryQuantity(u.memoryBytes),
});

/** Go's time.Duration String() for what windows look like: `1s`, `1.004s`, `500ms` */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms) / 1000;
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${Math.round((s - m * 60) * 1000) / 1000}s`;
}

interface MetricsObject extends KubeObject {
  timestamp: string;
  window: string;
}

function podMetrics(pod: Pod, provider: MetricsProvider, nowMs: number): MetricsObject | undefined {
  const m = pod.metadata ?? {};
  if (!podHasMetrics(pod)) return undefined;
  const point = provider.pod(m.namespace ?? '', m.name ?? '');
  if (!point) return undefined;
  return {
    kind: 'PodMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      creationTimestamp: rfc3339(nowMs),
      ...(m.labels ? { labels: { ...m.labels } } : {}),
    },
    timestamp: rfc3339(point.timestampMs),
    window: goDuration(point.windowMs),
    containers: point.containers.map((c) => ({ name: c.name, usage: usageOf(c.usage) })),
  };
}

function nodeMetrics(node: Node, provider: MetricsProvider, nowMs: number): MetricsObject | undefined {
  const m = node.metadata ?? {};
  const point = provider.node(m.name ?? '');
  if (!point) return undefined;
  return {
    kind: 'NodeMetrics',
    apiVersion: API_VERSION,
    metadata: {
      name: m.name,
      creationTimestamp: rfc3339(nowMs),
      ...(m.labels ? { labels: { ...m.labels } } : {}),
    },
    timestamp: rfc3339(point.timestampMs),
    window: goDuration(point.windowMs),
    usage: usageOf(point.usage),
  };
}

export const isMetricsRequest = (req: Pick<ApiRequest, 'group'>): boolean => req.group === METRICS_GROUP;

/** One metrics.k8s.io request: the pods or nodes are read through `inner` as the caller, so selectors and 404s are upstream's. */
export async function handleMetricsRequest(
  inner: ApiHandler,
  provider: MetricsProvider,
  req: ApiRequest,
  nowMs: number = Date.now(),
): Promise<ApiResult> {
  const resource = req.resource;
  const isPods = resource === 'pods';
  if (req.version !== METRICS_VERSION || (!isPods && resource !== 'nodes') || req.subresource)
    throw errors.notFound({
      group: METRICS_GROUP,
      kind: isPods ? 'PodMetrics' : 'NodeMetrics',
      resource,
      name: req.name ?? '',
    });
  if (req.verb !== 'get' && req.verb !== 'list')
    throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  const kind = isPods ? 'PodMetrics' : 'NodeMetrics';
  const source: ApiRequest = {
    verb: req.verb,
    group: '',
    version: 'v1',
    resource,
    ...(isPods && req.namespace ? { namespace: req.namespace } : {}),
    ...(req.name ? { name: req.name } : {}),
    options: {
      ...(req.options.labelSelector ? { labelSelector: req.options.labelSelector } : {}),
      ...(req.options.fieldSelector ? { fieldSelector: req.options.fieldSelector } : {}),
    },
    user: req.user,
  };
  const toMetrics = (obj: KubeObject): MetricsObject | undefined =>
    isPods ? podMetrics(obj as Pod, provider, nowMs) : nodeMetrics(obj as Node, provider, nowMs);
  if (req.verb === 'get') {
    const notFound = errors.notFound({
      group: METRICS_GROUP,
      kind: isPods ? 'PodMetrics' : 'NodeMetrics',
      resource,
      name: req.name ?? '',
    });
    let obj: KubeObject;
    try {
      obj = (await inner.handle(source)).body as KubeObject;
    } catch (err) {
      throw (err as { reason?: string }).reason === 'NotFound' ? notFound : err;
    }
    const metrics = toMetrics(obj);
    if (!metrics) throw notFound;
    return { code: 200, body: metrics };
  }
  const list = (await inner.handle(source)).body as KubeList;
  const items = list.items.flatMap((o) => toMetrics(o) ?? []);
  return { code: 200, body: { kind: `${kind}List`, apiVersion: API_VERSION, metadata: {}, items } };
}

/** The API both faces serve: metrics.k8s.io answered from the provider, everything else by `inner` (the registry). */
export function withMetricsApi(inner: ApiHandler, provider: MetricsProvider): ApiHandler {
  return {
    handle: (req) => (isMetricsRequest(req) ? handleMetricsRequest(inner, provider, req) : inner.handle(req)),
    watch: (req, sink) => {
      if (isMetricsRequest(req))
        return Promise.reject(
          errors.methodNotAllowed('the server does not allow this method on the requested resource'),
        );
      return inner.watch(req, sink);
    },
  };
}

const COLUMNS = ['Name', 'CPU', 'Memory', 'Window'];

/** metrics-server's table: Name, CPU, Memory, Window (a pod's usage summed over its containers) */
export function metricsTable(items: MetricsObject[]): Table {
  const total = (o: MetricsObject): { cpu: number; mem: number } => {
    const usages = (o['containers'] as { usage: { cpu: string; memory: string } }[] | undefined)?.map(
      (c) => c.usage,
    ) ?? [o['usage'] as { cpu: string; memory: string }];
    return {
      cpu: usages.reduce((a, u) => a + Number.parseInt(u.cpu, 10), 0),
      mem: usages.reduce((a, u) => a + Number.parseInt(u.memory, 10), 0),
    };
  };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: COLUMNS.map((name) => ({
      name,
      type: 'string',
      format: name === 'Name' ? 'name' : '',
      description: '',
      priority: 0,
    })),
    rows: items.map((o) => {
      const t = total(o);
      return {
        cells: [o.metadata?.name ?? '', cpuQuantity(t.cpu), `${t.mem}Ki`, o.window],
        object: partialObjectMetadata(o),
      };
    }),
  };
}

const PATH = /^\/apis\/metrics\.k8s\.io\/([^/]+)\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?\/?$/;

const wantsTable = (req: IncomingMessage): boolean => {
  const accept = (req.headers.accept ?? '').replace(/\s/g, '');
  return accept.split(',').some((c) => c.includes('as=Table') && c.includes('g=meta.k8s.io'));
};

/** The REST face's metrics.k8s.io route (the resource table has no storage for these kinds). */
export function metricsApiRoute(inner: ApiHandler, provider: MetricsProvider): ExtraRoute {
  return async (req, res, { url, user }) => {
    const m = PATH.exec(url.pathname);
    if (!m || !user) return false;
    const [, version, namespace, resource, name] = m.map((s) =>
      s === undefined ? s : decodeURIComponent(s),
    );
    if (req.method !== 'GET')
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const q = url.searchParams;
    if (isWatchQuery(q))
      throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
    const result = await handleMetricsRequest(inner, provider, {
      verb: name ? 'get' : 'list',
      group: METRICS_GROUP,
      version: version,
      resource: resource,
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
      options: parseOptions(q, name ? 'get' : 'list'),
      user,
    });
    let body = result.body;
    if (wantsTable(req)) {
      const items = name ? [body as MetricsObject] : (body as { items: MetricsObject[] }).items;
      body = metricsTable(items);
    }
    sendJson(res, result.code, body);
    return true;
  };
}
