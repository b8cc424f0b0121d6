// Prometheus metrics: one registry per process, a tiny /metrics server, and the apiserver's request metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Counter, Histogram, Registry } from 'prom-client';
import type { Verb } from '../api/resources.js';
import { makeDeclaredMetrics } from './deferred-metrics.js';
import { refusalStatus, type AccessResult, type RequestAuthorizer } from './delegated-auth.js';

type PromClient = typeof import('prom-client');
let promClientLoaded: PromClient | undefined;

/**
 * prom-client (with the @opentelemetry/api it loads) costs ~80 ms of CPU to load: it is loaded with the first
 * metric, so a component that makes none before /metrics is scraped (a kubelet, the DNS server) never pays it at start.
 */
export function promClient(): PromClient {
  return (promClientLoaded ??= createRequire(import.meta.url)('prom-client') as PromClient);
}

let registry: Registry | undefined;

/** This process's registry, with the default process/Node.js metrics, made on first use. */
export function metricsRegistry(): Registry {
  if (!registry) {
    const { Registry, collectDefaultMetrics } = promClient();
    registry = new Registry();
    collectDefaultMetrics({ register: registry });
  }
  return registry;
}

/** upstream's buckets for apiserver_request_duration_seconds (k8s.io/apiserver endpoints/metrics) */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];

const DURATION_LABELS = [
  'verb',
  'dry_run',
  'group',
  'version',
  'resource',
  'subresource',
  'scope',
  'component',
] as const;
const TOTAL_LABELS = [...DURATION_LABELS, 'code'] as const;

interface RequestMetrics {
  total: Counter<(typeof TOTAL_LABELS)[number]>;
  duration: Histogram<(typeof DURATION_LABELS)[number]>;
}

let requestMetrics: RequestMetrics | undefined;

function apiserverRequestMetrics(): RequestMetrics {
  if (!requestMetrics) {
    const registers = [metricsRegistry()];
    const { Counter, Histogram } = promClient();
    requestMetrics = {
      total: new Counter({
        name: 'apiserver_request_total',
        help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
        labelNames: TOTAL_LABELS,
        registers,
      }),
      duration: new Histogram({
        name: 'apiserver_request_duration_seconds',
        help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
        labelNames: DURATION_LABELS,
        buckets: [...REQUEST_DURATION_BUCKETS],
        registers,
      }),
    };
  }
  return requestMetrics;
}

/** upstream reports HTTP-ish verbs: create is POST, update PUT, apply-patches APPLY, deletecollection DELETE */
const METRIC_VERBS: Readonly<Record<Verb, string>> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

/** The `verb` label upstream would report for a request. */
export function metricsVerb(verb: string, opts: { apply?: boolean } = {}): string {
  if (verb === 'patch' && opts.apply) return 'APPLY';
  return METRIC_VERBS[verb as Verb] ?? verb.toUpperCase();
}

export type RequestScope = 'cluster' | 'namespace' | 'resource' | '';

export interface RequestLabels {
  /** a kubemu verb (`list`, `create`, …, mapped to upstream's GET/LIST/POST/…) or an upstream verb such as CONNECT */
  verb: string;
  /** server-side apply patch: reported as APPLY */
  apply?: boolean;
  dryRun?: boolean;
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  /** upstream: `resource` for a named object, `namespace` for a namespaced collection, `cluster` otherwise */
  scope: RequestScope;
  code: number;
}

/**
 * Requests finished before the request metrics exist: loading prom-client (and its default metrics' GC observer) on
 * the apiserver's first request put ~0.1 s of CPU in front of that request, the first /readyz `kubemu up` waits for,
 * while the cluster boots. They are recorded, in order and exactly, a little later or at the first scrape.
 */
let pending: { labels: RequestLabels; seconds: number }[] | undefined;
/** how long after the first request the metrics are made; past the boot of `kubemu up`'s cluster */
const DEFER_MS = 5_000;
/** a burst this large is recorded at once rather than held */
const MAX_PENDING = 10_000;

function recordPending(): void {
  const held = pending ?? [];
  pending = undefined;
  for (const p of held) record(p.labels, p.seconds);
}

/** Records one finished API request in apiserver_request_total and apiserver_request_duration_seconds. */
export function observeRequest(labels: RequestLabels, seconds: number): void {
  if (!requestMetrics) {
    if (!pending) {
      pending = [];
      // unref'd: a process about to exit need not wait for its metrics
      setTimeout(recordPending, DEFER_MS).unref();
    }
    pending.push({ labels, seconds });
    if (pending.length >= MAX_PENDING) recordPending();
    return;
  }
  record(labels, seconds);
}

function record(labels: RequestLabels, seconds: number): void {
  const metrics = apiserverRequestMetrics();
  const common = {
    verb: metricsVerb(labels.verb, { apply: labels.apply ?? false }),
    dry_run: labels.dryRun ? 'All' : '',
    group: labels.group,
    version: labels.version,
    resource: labels.resource,
    subresource: labels.subresource ?? '',
    scope: labels.scope,
    component: 'apiserver',
  };
  metrics.total.inc({ ...common, code: String(labels.code) });
  metrics.duration.observe(common, seconds);
}

/** The text exposition of this process's registry. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  recordPending();
  makeDeclaredMetrics();
  const reg = metricsRegistry();
  return { contentType: reg.contentType, body: await reg.metrics() };
}

export interface MetricsServer {
  server: Server;
  /** the bound port (useful with port 0) */
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` and `/healthz` for processes other than the apiserver (which serves both itself).
 * `healthy` decides what /healthz answers; default always ok. With `authorize` (delegated-auth.ts), /metrics
 * answers only a caller the apiserver authenticates and allows `get /metrics`, as upstream's
 * kube-controller-manager and kube-scheduler do; /healthz stays open to anyone.
 */
export async function serveMetrics(
  port: number,
  host = '127.0.0.1',
  healthy: () => boolean = () => true,
  authorize?: RequestAuthorizer,
): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/metrics') {
      const allowed = authorize ? authorize(req, path) : Promise.resolve<AccessResult>({ code: 200 });
      allowed
        .then(async (access) => {
          if (access.code !== 200) {
            res.writeHead(access.code, { 'content-type': 'application/json' }).end(refusalStatus(access));
            return;
          }
          const { contentType, body } = await metricsText();
          res.writeHead(200, { 'content-type': contentType }).end(body);
        })
        .catch((err: unknown) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${String(err)}\n`);
        });
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'unhealthy');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
