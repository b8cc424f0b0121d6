// The gateway's routing table: built from plain Ingress/Service/EndpointSlice objects, immutable, swapped whole.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Ingress, IngressBackend, IngressClass } from 'kubernetes-types/networking/v1.js';

export const CONTROLLER_NAME = 'kubemu.dev/ingress';
export const CLASS_NAME = 'kubemu';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** the pre-v1 way of choosing a class, still honoured by ingress-nginx */
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const SSL_REDIRECT_ANNOTATION = 'nginx.ingress.kubernetes.io/ssl-redirect';
export const BODY_SIZE_ANNOTATION = 'nginx.ingress.kubernetes.io/proxy-body-size';
export const READ_TIMEOUT_ANNOTATION = 'nginx.ingress.kubernetes.io/proxy-read-timeout';
export const CONNECT_TIMEOUT_ANNOTATION = 'nginx.ingress.kubernetes.io/proxy-connect-timeout';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** ingress-nginx's defaults: client_max_body_size 1m, proxy-read-timeout 60 s, proxy-connect-timeout 5 s */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_READ_TIMEOUT_MS = 60_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

export interface Endpoint {
  ip: string;
  port: number;
}

/** Where a request goes: a Service port resolved to its ready endpoints (empty: 503). */
export interface Backend {
  namespace: string;
  service: string;
  /** the Service port as written in the Ingress (number or name), for logs */
  servicePort: string;
  endpoints: readonly Endpoint[];
}

/** What applies to a request once its route is known: from the owning Ingress and its annotations. */
export interface Route {
  /** `namespace/name` of the Ingress that declared the route ('' for the built-in default backend) */
  ingress: string;
  /** undefined: the built-in default backend (404) */
  backend: Backend | undefined;
  sslRedirect: boolean;
  bodyLimit: number;
  readTimeoutMs: number;
  connectTimeoutMs: number;
}

type PathType = 'Exact' | 'Prefix';

interface PathRoute {
  path: string;
  type: PathType;
  route: Route;
}

interface HostRoutes {
  /** longest path first; Exact before Prefix at equal length */
  paths: PathRoute[];
  /** the spec.defaultBackend of an Ingress naming this host, if any */
  fallback: Route | undefined;
  tls: boolean;
}

/** One TLS certificate choice: the Secret holding it, for the hosts listed with it. */
export interface TlsBinding {
  ingress: string;
  secret: string;
}

export interface RoutingInputs {
  ingresses: readonly Ingress[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
}

function annotation(ing: Ingress, key: string): string | undefined {
  return ing.metadata?.annotations?.[key];
}

/** nginx size syntax: `1m`, `512k`, `8g`, plain bytes; `0` means unlimited */
export function parseSize(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^\s*(\d+)\s*([kKmMgG]?)\s*$/.exec(value);
  if (!m) return fallback;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[1]) * mult;
  return n === 0 ? Infinity : n;
}

function parseSeconds(value: string | undefined, fallbackMs: number): number {
  if (value === undefined) return fallbackMs;
  const n = Number(value.trim().replace(/s$/, ''));
  return Number.isFinite(n) && n > 0 ? n * 1000 : fallbackMs;
}

/** Does this Ingress belong to the kubemu class? `defaultIsOurs`: our IngressClass is the cluster default. */
export function isOurIngress(ing: Ingress, defaultIsOurs: boolean): boolean {
  const cls = ing.spec?.ingressClassName ?? annotation(ing, LEGACY_CLASS_ANNOTATION);
  return cls === undefined || cls === '' ? defaultIsOurs : cls === CLASS_NAME;
}

/** Whether our class is the default: it says so itself (another class claiming default doesn't unseat it). */
export function ourClassIsDefault(classes: readonly IngressClass[]): boolean {
  const ours = classes.find((c) => c.metadata?.name === CLASS_NAME);
  return ours?.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** `/foo/` and `/foo` are the same Prefix; `/` stays `/` */
function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.replace(/\/+$/, '') || '/' : p;
}

/** element-wise prefix match: `/foo` matches `/foo`, `/foo/`, `/foo/bar`, not `/foobar` */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path[prefix.length] === '/';
}

class BackendResolver {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice[]>();

  constructor(inputs: RoutingInputs) {
    for (const s of inputs.services) this.services.set(`${s.metadata?.namespace}/${s.metadata?.name}`, s);
    for (const slice of inputs.endpointSlices) {
      const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
      if (!svc) continue;
      const key = `${slice.metadata?.namespace}/${svc}`;
      const list = this.slices.get(key) ?? [];
      list.push(slice);
      this.slices.set(key, list);
    }
  }

  resolve(namespace: string, b: IngressBackend | undefined): Backend | undefined {
    const svcRef = b?.service;
    if (!svcRef) return undefined;
    const wanted = svcRef.port?.name ?? svcRef.port?.number;
    const backend = { namespace, service: svcRef.name, servicePort: String(wanted ?? '') };
    const svc = this.services.get(`${namespace}/${svcRef.name}`);
    const port = svc?.spec?.ports?.find((p) =>
      svcRef.port?.name !== undefined ? p.name === svcRef.port.name : p.port === svcRef.port?.number,
    );
    if (!svc || !port || svc.spec?.type === 'ExternalName') return { ...backend, endpoints: [] };
    // The slices' port carries the Service port's name and the resolved targetPort number.
    const portName = port.name ?? '';
    const endpoints: Endpoint[] = [];
    const seen = new Set<string>();
    for (const slice of this.slices.get(`${namespace}/${svcRef.name}`) ?? []) {
      if (slice.addressType === 'IPv6') continue;
      const number = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
      if (number === undefined) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const ip of ep.addresses.slice(0, 1)) {
          const key = `${ip}:${number}`;
          if (seen.has(key)) continue;
          seen.add(key);
          endpoints.push({ ip, port: number });
        }
      }
    }
    return { ...backend, endpoints };
  }
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/\.$/, '');
}

/** Request Host header → bare lowercase host name (port stripped, IPv6 brackets kept) */
export function hostOf(header: string | undefined): string {
  if (!header) return '';
  const h = header.startsWith('[') ? header.slice(0, header.indexOf(']') + 1) : header.split(':', 1)[0];
  return normalizeHost(h);
}

export class RoutingTable {
  private constructor(
    private readonly exact: ReadonlyMap<string, HostRoutes>,
    /** `*.example.com` stored under `example.com` */
    private readonly wildcard: ReadonlyMap<string, HostRoutes>,
    /** rules without a host */
    private readonly anyHost: HostRoutes,
    private readonly catchAll: Route,
    /** TLS host (exact or `*.x`) → certificate binding, first Ingress (by creation, then name) wins */
    readonly tls: ReadonlyMap<string, TlsBinding>,
    readonly ingresses: readonly Ingress[],
  ) {}

  static empty(): RoutingTable {
    return RoutingTable.build({ ingresses: [], services: [], endpointSlices: [] });
  }

  /** `inputs.ingresses` must already be filtered to our class */
  static build(inputs: RoutingInputs): RoutingTable {
    const resolver = new BackendResolver(inputs);
    // ingress-nginx orders Ingresses by creation time, then name: the older one wins conflicts
    const ingresses = [...inputs.ingresses].sort(
      (a, b) =>
        (a.metadata?.creationTimestamp ?? '').localeCompare(b.metadata?.creationTimestamp ?? '') ||
        `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
          `${b.metadata?.namespace}/${b.metadata?.name}`,
        ),
    );
    const exact = new Map<string, HostRoutes>();
    const wildcard = new Map<string, HostRoutes>();
    const anyHost: HostRoutes = { paths: [], fallback: undefined, tls: false };
    const tls = new Map<string, TlsBinding>();
    let catchAll: Route | undefined;
    const hostRoutes = (host: string): HostRoutes => {
      if (!host) return anyHost;
      const h = normalizeHost(host);
      const [map, key] = h.startsWith('*.') ? [wildcard, h.slice(2)] : [exact, h];
      let hr = map.get(key);
      if (!hr) map.set(key, (hr = { paths: [], fallback: undefined, tls: false }));
      return hr;
    };
    for (const ing of ingresses) {
      const namespace = ing.metadata?.namespace ?? 'default';
      const ingKey = `${namespace}/${ing.metadata?.name}`;
      const base = {
        ingress: ingKey,
        sslRedirect: annotation(ing, SSL_REDIRECT_ANNOTATION) !== 'false',
        bodyLimit: parseSize(annotation(ing, BODY_SIZE_ANNOTATION), DEFAULT_BODY_LIMIT),
        readTimeoutMs: parseSeconds(annotation(ing, READ_TIMEOUT_ANNOTATION), DEFAULT_READ_TIMEOUT_MS),
        connectTimeoutMs: parseSeconds(
          annotation(ing, CONNECT_TIMEOUT_ANNOTATION),
          DEFAULT_CONNECT_TIMEOUT_MS,
        ),
      };
      const route = (b: IngressBackend | undefined): Route => ({
        ...base,
        backend: resolver.resolve(namespace, b),
      });
      const defaultRoute = ing.spec?.defaultBackend ? route(ing.spec.defaultBackend) : undefined;
      if (defaultRoute) catchAll ??= defaultRoute;
      for (const t of ing.spec?.tls ?? []) {
        for (const h of t.hosts ?? []) {
          const host = normalizeHost(h);
          if (t.secretName && !tls.has(host))
            tls.set(host, { ingress: ingKey, secret: `${namespace}/${t.secretName}` });
          hostRoutes(host).tls = true;
        }
      }
      for (const rule of ing.spec?.rules ?? []) {
        const hr = hostRoutes(rule.host ?? '');
        if (rule.host && defaultRoute) hr.fallback ??= defaultRoute;
        for (const p of rule.http?.paths ?? []) {
          const type: PathType = p.pathType === 'Exact' ? 'Exact' : 'Prefix';
          const path = type === 'Prefix' ? trimSlash(p.path || '/') : p.path || '/';
          // the same host+path+type in two Ingresses: the first (oldest) keeps it, as in ingress-nginx
          if (hr.paths.some((x) => x.path === path && x.type === type)) continue;
          hr.paths.push({ path, type, route: route(p.backend) });
        }
      }
    }
    const order = (a: PathRoute, b: PathRoute): number =>
      b.path.length - a.path.length || (a.type === b.type ? 0 : a.type === 'Exact' ? -1 : 1);
    for (const hr of [anyHost, ...exact.values(), ...wildcard.values()]) hr.paths.sort(order);
    const builtIn: Route = {
      ingress: '',
      backend: undefined,
      sslRedirect: true,
      bodyLimit: DEFAULT_BODY_LIMIT,
      readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
    };
    return new RoutingTable(exact, wildcard, anyHost, catchAll ?? builtIn, tls, ingresses);
  }

  private hostRoutesFor(host: string): HostRoutes | undefined {
    const hit = this.exact.get(host);
    if (hit) return hit;
    const dot = host.indexOf('.');
    // a wildcard covers exactly one label
    return dot > 0 ? this.wildcard.get(host.slice(dot + 1)) : undefined;
  }

  /** The route for a request: host (from Host/:authority, any form) and path (query allowed). */
  lookup(hostHeader: string | undefined, rawPath: string): { route: Route; tlsHost: boolean } {
    const host = hostOf(hostHeader);
    const q = rawPath.search(/[?#]/);
    const path = q < 0 ? rawPath : rawPath.slice(0, q);
    const hr = this.hostRoutesFor(host) ?? this.anyHost;
    for (const p of hr.paths) {
      if (p.type === 'Exact' ? p.path === path : prefixMatches(p.path, path))
        return { route: p.route, tlsHost: hr.tls };
    }
    return { route: hr.fallback ?? this.catchAll, tlsHost: hr.tls };
  }

  /** The certificate binding for an SNI name: exact host first, then a `*.` wildcard one label up. */
  tlsFor(serverName: string): TlsBinding | undefined {
    const host = normalizeHost(serverName);
    const hit = this.tls.get(host);
    if (hit) return hit;
    const dot = host.indexOf('.');
    return dot > 0 ? this.tls.get(`*${host.slice(dot)}`) : undefined;
  }
}
