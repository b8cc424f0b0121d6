import type { Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { parseResolvConf, podDns } from './dns.js';

const HOST = 'nameserver 10.0.0.53\nnameserver 10.0.0.54 # second\nsearch corp.example\noptions edns0\n';
const cluster = { clusterDNS: '127.96.0.10:53', clusterDomain: 'cluster.local' };
const pod = (spec: Partial<PodSpec> = {}, namespace = 'shop'): Pod => ({
  metadata: { name: 'p', namespace },
  spec: { containers: [{ name: 'c' }], ...spec },
});

describe('podDns', () => {
  it('ClusterFirst (the default): cluster nameserver, namespace search path, ndots:5, KUBEMU_DNS', () => {
    const dns = podDns(pod(), cluster, HOST);
    expect(dns.resolvConf).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\n' +
        'nameserver 127.96.0.10\n' +
        'options ndots:5\n',
    );
    expect(dns.env).toEqual({ KUBEMU_DNS: '127.96.0.10:53' });
  });

  it('keeps the host resolv.conf when the cluster DNS is off port 53 (resolv.conf cannot name a port)', () => {
    const dns = podDns(pod(), { ...cluster, clusterDNS: '127.96.0.10:1053' }, HOST);
    expect(dns.resolvConf).toBeUndefined();
    expect(dns.env).toEqual({ KUBEMU_DNS: '127.96.0.10:1053' });
  });

  it('Default, host network and a kubelet without --cluster-dns give the host resolv.conf', () => {
    expect(podDns(pod({ dnsPolicy: 'Default' }), cluster, HOST)).toEqual({ env: {} });
    expect(podDns(pod({ hostNetwork: true }), cluster, HOST)).toEqual({ env: {} });
    expect(podDns(pod(), { clusterDomain: 'cluster.local' }, HOST)).toEqual({ env: {} });
    // ClusterFirstWithHostNet keeps cluster DNS on the host network
    const withHostNet = podDns(
      pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }),
      cluster,
      HOST,
    );
    expect(withHostNet.resolvConf).toContain('nameserver 127.96.0.10\n');
  });

  it('merges dnsConfig: nameservers and searches appended without duplicates, options replaced by name', () => {
    const dns = podDns(
      pod({
        dnsConfig: {
          nameservers: ['1.2.3.4', '127.96.0.10'],
          searches: ['extra.local', 'cluster.local'],
          options: [{ name: 'ndots', value: '2' }, { name: 'single-request' }],
        },
      }),
      cluster,
      HOST,
    );
    expect(dns.resolvConf).toBe(
      'search shop.svc.cluster.local svc.cluster.local cluster.local corp.example extra.local\n' +
        'nameserver 127.96.0.10\nnameserver 1.2.3.4\n' +
        'options ndots:2 single-request\n',
    );
  });

  it('None uses only dnsConfig; Default with dnsConfig extends the host one', () => {
    const none = podDns(
      pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'], searches: ['a.example'] } }),
      cluster,
      HOST,
    );
    expect(none).toEqual({ resolvConf: 'search a.example\nnameserver 9.9.9.9\n', env: {} });
    const def = podDns(pod({ dnsPolicy: 'Default', dnsConfig: { searches: ['b.example'] } }), cluster, HOST);
    expect(def.resolvConf).toBe(
      'search corp.example b.example\nnameserver 10.0.0.53\nnameserver 10.0.0.54\noptions edns0\n',
    );
  });
});

describe('resolv.conf limits (upstream formDNSConfigFitsLimits)', () => {
  it('keeps 3 nameservers and 32 search domains, saying what it cut (DNSConfigForming)', () => {
    const searches = Array.from({ length: 40 }, (_, i) => `s${i}.example`);
    const dns = podDns(
      pod({
        dnsPolicy: 'None',
        dnsConfig: { nameservers: ['1.1.1.1', '2.2.2.2', '3.3.3.3', '4.4.4.4'], searches },
      }),
      cluster,
      HOST,
    );
    expect(dns.resolvConf).toBe(
      `search ${searches.slice(0, 32).join(' ')}\nnameserver 1.1.1.1\nnameserver 2.2.2.2\nnameserver 3.3.3.3\n`,
    );
    expect(dns.warnings).toEqual([
      'Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3',
      `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.slice(0, 32).join(' ')}`,
    ]);
  });
});

describe('parseResolvConf', () => {
  it('reads nameservers, the last search line and options, ignoring comments', () => {
    expect(
      parseResolvConf('# x\nsearch a b\ndomain c\nnameserver 1.1.1.1\noptions ndots:1 rotate\n'),
    ).toEqual({
      nameservers: ['1.1.1.1'],
      searches: ['c'],
      options: ['ndots:1', 'rotate'],
    });
  });
});
