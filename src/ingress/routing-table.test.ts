import { describe, it, expect } from 'vitest';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { HTTPIngressPath, Ingress, IngressRule } from 'kubernetes-types/networking/v1.js';
import {
  RoutingTable,
  isOurIngress,
  ourClassIsDefault,
  parseSize,
  prefixMatches,
  type RoutingInputs,
} from './routing-table.js';

const path = (p: string, svc: string, pathType = 'Prefix'): HTTPIngressPath => ({
  path: p,
  pathType,
  backend: { service: { name: svc, port: { number: 80 } } },
});

function ingress(
  name: string,
  rules: IngressRule[],
  extra: Partial<Ingress['spec']> = {},
  created = '2024-01-01T00:00:00Z',
): Ingress {
  return { metadata: { name, namespace: 'default', creationTimestamp: created }, spec: { rules, ...extra } };
}

const svc = (name: string): Service => ({
  metadata: { name, namespace: 'default' },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
});
const slice = (name: string, ip: string, ready = true): EndpointSlice => ({
  metadata: { name: `${name}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080 }],
  endpoints: [{ addresses: [ip], conditions: { ready } }],
});

const SERVICES = ['sales', 'users', 'catch', 'api', 'wild', 'root', 'exact', 'other'];
function table(ingresses: Ingress[], extra: Partial<RoutingInputs> = {}): RoutingTable {
  return RoutingTable.build({
    ingresses,
    services: SERVICES.map(svc),
    endpointSlices: SERVICES.map((s, i) => slice(s, `127.244.9.${i + 1}`)),
    ...extra,
  });
}
const to = (t: RoutingTable, host: string | undefined, p: string): string | undefined =>
  t.lookup(host, p).route.backend?.service;

describe('RoutingTable', () => {
  const shop = ingress(
    'shop',
    [
      { http: { paths: [path('/sales', 'sales'), path('/users', 'users')] } },
      { host: 'api.shop.example', http: { paths: [path('/', 'api')] } },
    ],
    { defaultBackend: { service: { name: 'catch', port: { number: 80 } } } },
  );

  it('routes the course scenario: paths, a host rule, and a catch-all', () => {
    const t = table([shop]);
    expect(to(t, 'shop.example', '/sales')).toBe('sales');
    expect(to(t, 'shop.example', '/users/42?x=1')).toBe('users');
    expect(to(t, 'shop.example', '/other')).toBe('catch');
    expect(to(t, 'api.shop.example:8080', '/sales')).toBe('api');
    expect(to(t, 'API.Shop.Example', '/')).toBe('api');
  });

  it('resolves a Service port to ready endpoints via the slice port name', () => {
    const t = table([shop], {
      endpointSlices: [slice('sales', '127.244.9.1'), slice('sales', '127.244.9.2', false)],
    });
    expect(t.lookup('x', '/sales').route.backend?.endpoints).toEqual([{ ip: '127.244.9.1', port: 8080 }]);
    expect(t.lookup('x', '/users').route.backend?.endpoints).toEqual([]);
  });

  it('resolves a backend by Service port name', () => {
    const ing = ingress('n', [
      {
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'root', port: { name: 'http' } } } },
          ],
        },
      },
    ]);
    expect(table([ing]).lookup('x', '/').route.backend?.endpoints[0]?.port).toBe(8080);
  });

  it('matches Prefix element-wise', () => {
    const t = table([ingress('p', [{ http: { paths: [path('/foo', 'sales'), path('/', 'root')] } }])]);
    expect(to(t, 'h', '/foo')).toBe('sales');
    expect(to(t, 'h', '/foo/')).toBe('sales');
    expect(to(t, 'h', '/foo/bar')).toBe('sales');
    expect(to(t, 'h', '/foobar')).toBe('root');
    expect(prefixMatches('/', '/anything')).toBe(true);
  });

  it('treats a Prefix with a trailing slash like one without', () => {
    const t = table([ingress('p', [{ http: { paths: [path('/foo/', 'sales')] } }])]);
    expect(to(t, 'h', '/foo')).toBe('sales');
    expect(to(t, 'h', '/foo/x')).toBe('sales');
  });

  it('matches Exact only exactly, and prefers it over a Prefix of equal length', () => {
    const t = table([
      ingress('e', [{ http: { paths: [path('/foo', 'sales'), path('/foo', 'exact', 'Exact')] } }]),
    ]);
    expect(to(t, 'h', '/foo')).toBe('exact');
    expect(to(t, 'h', '/foo/')).toBe('sales');
  });

  it('treats ImplementationSpecific as Prefix', () => {
    const t = table([ingress('i', [{ http: { paths: [path('/img', 'sales', 'ImplementationSpecific')] } }])]);
    expect(to(t, 'h', '/img/a.png')).toBe('sales');
    expect(to(t, 'h', '/imgs')).toBeUndefined();
  });

  it('lets the longest match win', () => {
    const t = table([
      ingress('l', [
        { http: { paths: [path('/a', 'sales'), path('/a/b/c', 'users'), path('/a/b', 'api')] } },
      ]),
    ]);
    expect(to(t, 'h', '/a/b/c/d')).toBe('users');
    expect(to(t, 'h', '/a/b/x')).toBe('api');
    expect(to(t, 'h', '/a/x')).toBe('sales');
  });

  it('matches a wildcard host on exactly one label, exact hosts first', () => {
    const t = table([
      ingress('w', [
        { host: '*.example.com', http: { paths: [path('/', 'wild')] } },
        { host: 'foo.example.com', http: { paths: [path('/', 'exact')] } },
      ]),
    ]);
    expect(to(t, 'bar.example.com', '/')).toBe('wild');
    expect(to(t, 'foo.example.com', '/')).toBe('exact');
    expect(to(t, 'a.b.example.com', '/')).toBeUndefined();
    expect(to(t, 'example.com', '/')).toBeUndefined();
  });

  it('merges several Ingresses per host; the oldest keeps a contested path', () => {
    const a = ingress(
      'a',
      [{ host: 'h', http: { paths: [path('/a', 'sales'), path('/x', 'users')] } }],
      {},
      '2024-01-01T00:00:00Z',
    );
    const b = ingress(
      'b',
      [{ host: 'h', http: { paths: [path('/b', 'api'), path('/x', 'other')] } }],
      {},
      '2024-01-02T00:00:00Z',
    );
    const t = table([b, a]);
    expect(to(t, 'h', '/a')).toBe('sales');
    expect(to(t, 'h', '/b')).toBe('api');
    expect(to(t, 'h', '/x')).toBe('users');
    expect(t.lookup('h', '/b').route.ingress).toBe('default/b');
  });

  it('falls back to the built-in default backend (no backend: 404) without a defaultBackend', () => {
    const t = table([ingress('n', [{ http: { paths: [path('/sales', 'sales')] } }])]);
    const { route } = t.lookup('h', '/nope');
    expect(route.backend).toBeUndefined();
    expect(route.ingress).toBe('');
    expect(RoutingTable.empty().lookup('h', '/').route.backend).toBeUndefined();
  });

  it('uses spec.defaultBackend as the catch-all for unknown hosts and unmatched host paths', () => {
    const t = table([shop]);
    expect(to(t, 'unknown.example', '/x')).toBe('catch');
    expect(to(t, undefined, '/x')).toBe('catch');
  });

  it('gives a missing Service or port no endpoints (503), not a crash', () => {
    const t = table([ingress('m', [{ http: { paths: [path('/', 'ghost')] } }])]);
    expect(t.lookup('h', '/').route.backend).toMatchObject({ service: 'ghost', endpoints: [] });
  });

  it('records TLS hosts, their Secrets, annotations', () => {
    const ing = ingress('t', [{ host: 'a.example', http: { paths: [path('/', 'sales')] } }], {
      tls: [{ hosts: ['a.example', '*.w.example'], secretName: 'a-tls' }],
    });
    ing.metadata!.annotations = {
      'nginx.ingress.kubernetes.io/ssl-redirect': 'false',
      'nginx.ingress.kubernetes.io/proxy-body-size': '8k',
    };
    const t = table([ing]);
    expect(t.tlsFor('A.example')).toEqual({ ingress: 'default/t', secret: 'default/a-tls' });
    expect(t.tlsFor('x.w.example')?.secret).toBe('default/a-tls');
    expect(t.tlsFor('b.example')).toBeUndefined();
    const hit = t.lookup('a.example', '/');
    expect(hit.tlsHost).toBe(true);
    expect(hit.route.sslRedirect).toBe(false);
    expect(hit.route.bodyLimit).toBe(8192);
  });
});

describe('class selection and sizes', () => {
  it('takes Ingresses of class kubemu, and unclassed ones when kubemu is the default', () => {
    const ing = (cls?: string): Ingress => ({
      metadata: { name: 'x' },
      spec: cls ? { ingressClassName: cls } : {},
    });
    expect(isOurIngress(ing('kubemu'), false)).toBe(true);
    expect(isOurIngress(ing('nginx'), true)).toBe(false);
    expect(isOurIngress(ing(), true)).toBe(true);
    expect(isOurIngress(ing(), false)).toBe(false);
    expect(
      ourClassIsDefault([
        {
          metadata: {
            name: 'kubemu',
            annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
          },
        },
      ]),
    ).toBe(true);
    expect(ourClassIsDefault([{ metadata: { name: 'kubemu' } }])).toBe(false);
  });

  it('parses nginx sizes', () => {
    expect(parseSize('1m', 0)).toBe(1048576);
    expect(parseSize('10K', 0)).toBe(10240);
    expect(parseSize('0', 5)).toBe(Infinity);
    expect(parseSize('junk', 5)).toBe(5);
  });
});
