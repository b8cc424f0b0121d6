// The rule generator against upstream's expected rules (pkg/proxy/nftables/proxier_test.go, ported), and partial
// syncs that leave the table exactly as a full sync would.
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { FakeNft, canonicalRuleset } from './fake-nft.js';
import { NftRuleGenerator, type GeneratorConfig } from './generator.js';
import { servicePorts, type ServicePortInfo } from './service-ports.js';

// upstream's conventions: pods 10.0.0.0/8, ClusterIPs 172.30.0.0/16, this node 192.168.0.2
const TEST_NODE = 'test-node';
const CONFIG: GeneratorConfig = {
  family: 'IPv4',
  masqueradeMark: '0x4000',
  localCIDRs: ['10.0.0.0/8'],
  nodePortIPs: ['192.168.0.2'],
  nodeIP: '192.168.0.2',
  serviceCIDRs: ['172.30.0.0/16'],
};

type Spec = NonNullable<Service['spec']>;
function svc(ns: string, name: string, spec: Spec, status?: Service['status']): Service {
  return {
    metadata: { namespace: ns, name },
    spec: { type: 'ClusterIP', ...spec },
    ...(status ? { status } : {}),
  };
}
function slice(
  ns: string,
  name: string,
  endpoints: NonNullable<EndpointSlice['endpoints']>,
  ports: NonNullable<EndpointSlice['ports']> = [{ name: 'p80', port: 80, protocol: 'TCP' }],
): EndpointSlice {
  return {
    metadata: { namespace: ns, name: `${name}-1`, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

/** the cluster state a proxier would hold, and a fake kernel to sync it into */
class World {
  readonly services = new Map<string, Service>();
  readonly slices = new Map<string, EndpointSlice[]>();
  readonly nft = new FakeNft('ip', 'kube-proxy');
  readonly gen: NftRuleGenerator;
  now = 1_000_000;

  constructor(cfg: GeneratorConfig = CONFIG) {
    this.gen = new NftRuleGenerator(cfg);
  }

  set(s: Service, sl?: EndpointSlice[]): string {
    const key = `${s.metadata!.namespace}/${s.metadata!.name}`;
    this.services.set(key, s);
    if (sl) this.slices.set(key, sl);
    return key;
  }

  ports(): Map<string, ServicePortInfo[]> {
    return new Map(
      [...this.services].map(([key, s]) => [
        key,
        servicePorts(s, this.slices.get(key) ?? [], 'IPv4', TEST_NODE),
      ]),
    );
  }

  /** one sync as the proxier runs it: stale chains first, then the plan; returns the script */
  sync(changed: Iterable<string> = []): string {
    const cleanup = this.gen.staleChainCleanup(this.now);
    if (cleanup) this.nft.run(cleanup);
    const plan = this.gen.plan(this.ports(), new Set(changed), this.now, {
      chains: this.nft.chainNames(),
      sets: this.nft.setNames(),
    });
    try {
      this.nft.run(plan.script);
      plan.commit();
    } catch (err) {
      plan.abort();
      throw err;
    }
    return plan.script;
  }
}

const BASE_RULES = `
add table ip kube-proxy { comment "rules for kube-proxy" ; }

add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }

add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }

add chain ip kube-proxy cluster-ips-check
add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
add chain ip kube-proxy firewall-check
add chain ip kube-proxy mark-for-masquerade
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain ip kube-proxy services
add chain ip kube-proxy service-endpoints-check

add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"
add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-output ct state new jump cluster-ips-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000
add rule ip kube-proxy masquerading mark and 0x4000 == 0 return
add rule ip kube-proxy masquerading mark set mark xor 0x4000
add rule ip kube-proxy masquerading masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports

add element ip kube-proxy nodeport-ips { 192.168.0.2 }
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
`;

const p80 = (extra: object = {}) => [{ name: 'p80', port: 80, protocol: 'TCP' as const, ...extra }];

/** upstream TestOverallNFTablesRules' Services and EndpointSlices */
function overallWorld(): World {
  const w = new World();
  w.set(svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: p80() }), [
    slice('ns1', 'svc1', [{ addresses: ['10.180.0.1'] }]),
  ]);
  // LoadBalancer with Local traffic policy; its endpoint has no nodeName, so it is not local
  w.set(
    svc(
      'ns2',
      'svc2',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        clusterIP: '172.30.0.42',
        ports: p80({ nodePort: 3001 }),
        externalIPs: ['192.168.99.22'],
        healthCheckNodePort: 30000,
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
    [slice('ns2', 'svc2', [{ addresses: ['10.180.0.2'] }])],
  );
  w.set(svc('ns3', 'svc3', { type: 'NodePort', clusterIP: '172.30.0.43', ports: p80({ nodePort: 3003 }) }), [
    slice('ns3', 'svc3', [{ addresses: ['10.180.0.3'] }]),
  ]);
  w.set(
    svc('ns4', 'svc4', {
      type: 'NodePort',
      clusterIP: '172.30.0.44',
      externalIPs: ['192.168.99.33'],
      ports: p80({ targetPort: 80 }),
    }),
    [
      slice('ns4', 'svc4', [
        { addresses: ['10.180.0.4'] },
        { addresses: ['10.180.0.5'], nodeName: TEST_NODE },
      ]),
    ],
  );
  w.set(
    svc(
      'ns5',
      'svc5',
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Cluster',
        clusterIP: '172.30.0.45',
        ports: p80({ nodePort: 3002 }),
        healthCheckNodePort: 30000,
        // extra whitespace is ignored, as upstream
        loadBalancerSourceRanges: [' 203.0.113.0/25'],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
      },
      { loadBalancer: { ingress: [{ ip: '5.6.7.8' }] } },
    ),
    [slice('ns5', 'svc5', [{ addresses: ['10.180.0.3'] }])],
  );
  w.set(svc('ns6', 'svc6', { clusterIP: '172.30.0.46', ports: p80({ targetPort: 80 }) }));
  return w;
}

const OVERALL_EXPECTED = `
# svc1
add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 }

add chain ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80
add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 ip saddr 10.180.0.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5OJB2KTY-ns1/svc1/tcp/p80__10.180.0.1/80 meta l4proto tcp dnat to 10.180.0.1:80

add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }

# svc2
add chain ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80
add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-42NFTM6N-ns2/svc2/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 }
add chain ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80
add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 ip saddr 10.0.0.0/8 goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit pod traffic"
add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"
add rule ip kube-proxy external-42NFTM6N-ns2/svc2/tcp/p80 fib saddr type local goto service-42NFTM6N-ns2/svc2/tcp/p80 comment "short-circuit local traffic"
add chain ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80
add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 ip saddr 10.180.0.2 jump mark-for-masquerade
add rule ip kube-proxy endpoint-SGOXE6O3-ns2/svc2/tcp/p80__10.180.0.2/80 meta l4proto tcp dnat to 10.180.0.2:80

add element ip kube-proxy cluster-ips { 172.30.0.42 }
add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 80 : goto service-42NFTM6N-ns2/svc2/tcp/p80 }
add element ip kube-proxy service-ips { 192.168.99.22 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }
add element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }
add element ip kube-proxy service-nodeports { tcp . 3001 : goto external-42NFTM6N-ns2/svc2/tcp/p80 }

add element ip kube-proxy no-endpoint-nodeports { tcp . 3001 comment "ns2/svc2:p80" : drop }
add element ip kube-proxy no-endpoint-services { 1.2.3.4 . tcp . 80 comment "ns2/svc2:p80" : drop }
add element ip kube-proxy no-endpoint-services { 192.168.99.22 . tcp . 80 comment "ns2/svc2:p80" : drop }

# svc3
add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 }
add chain ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 jump mark-for-masquerade
add rule ip kube-proxy external-4AT6LBPK-ns3/svc3/tcp/p80 goto service-4AT6LBPK-ns3/svc3/tcp/p80
add chain ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80
add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade
add rule ip kube-proxy endpoint-UEIP74TE-ns3/svc3/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80

add element ip kube-proxy cluster-ips { 172.30.0.43 }
add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }
add element ip kube-proxy service-nodeports { tcp . 3003 : goto external-4AT6LBPK-ns3/svc3/tcp/p80 }

# svc4
add chain ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 ip daddr 172.30.0.44 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-LAUZTJTB-ns4/svc4/tcp/p80 numgen random mod 2 vmap { 0 : goto endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 , 1 : goto endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 }
add chain ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80
add rule ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80 jump mark-for-masquerade
add rule ip kube-proxy external-LAUZTJTB-ns4/svc4/tcp/p80 goto service-LAUZTJTB-ns4/svc4/tcp/p80
add chain ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80
add rule ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 ip saddr 10.180.0.5 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5RFCDDV7-ns4/svc4/tcp/p80__10.180.0.5/80 meta l4proto tcp dnat to 10.180.0.5:80
add chain ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80
add rule ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 ip saddr 10.180.0.4 jump mark-for-masquerade
add rule ip kube-proxy endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80 meta l4proto tcp dnat to 10.180.0.4:80

add element ip kube-proxy cluster-ips { 172.30.0.44 }
add element ip kube-proxy service-ips { 172.30.0.44 . tcp . 80 : goto service-LAUZTJTB-ns4/svc4/tcp/p80 }
add element ip kube-proxy service-ips { 192.168.99.33 . tcp . 80 : goto external-LAUZTJTB-ns4/svc4/tcp/p80 }

# svc5
add set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { type ipv4_addr ; flags dynamic,timeout ; timeout 10800s ; }
add chain ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80
add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip daddr 172.30.0.45 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80
add rule ip kube-proxy service-HVFWP5L3-ns5/svc5/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 }
add chain ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80
add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 jump mark-for-masquerade
add rule ip kube-proxy external-HVFWP5L3-ns5/svc5/tcp/p80 goto service-HVFWP5L3-ns5/svc5/tcp/p80

add chain ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80
add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 ip saddr 10.180.0.3 jump mark-for-masquerade
add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 update @affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 { ip saddr }
add rule ip kube-proxy endpoint-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80 meta l4proto tcp dnat to 10.180.0.3:80

add chain ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80
add rule ip kube-proxy firewall-HVFWP5L3-ns5/svc5/tcp/p80 ip saddr != { 203.0.113.0/25 } drop

add element ip kube-proxy cluster-ips { 172.30.0.45 }
add element ip kube-proxy service-ips { 172.30.0.45 . tcp . 80 : goto service-HVFWP5L3-ns5/svc5/tcp/p80 }
add element ip kube-proxy service-ips { 5.6.7.8 . tcp . 80 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }
add element ip kube-proxy service-nodeports { tcp . 3002 : goto external-HVFWP5L3-ns5/svc5/tcp/p80 }
add element ip kube-proxy firewall-ips { 5.6.7.8 . tcp . 80 : goto firewall-HVFWP5L3-ns5/svc5/tcp/p80 }

# svc6
add element ip kube-proxy cluster-ips { 172.30.0.46 }
add element ip kube-proxy no-endpoint-services { 172.30.0.46 . tcp . 80 comment "ns6/svc6:p80" : goto reject-chain }
`;

describe('NftRuleGenerator', () => {
  it('writes upstream TestOverallNFTablesRules exactly', () => {
    const w = overallWorld();
    w.sync();
    expect(canonicalRuleset(w.nft.dump())).toBe(canonicalRuleset(BASE_RULES + OVERALL_EXPECTED));
  });

  it('a partial sync rewrites only the changed Service and ends where a full sync would', () => {
    const w = overallWorld();
    w.sync();
    // svc1 gains an endpoint, svc3 loses its only one
    w.set(svc('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: p80() }), [
      slice('ns1', 'svc1', [{ addresses: ['10.180.0.1'] }, { addresses: ['10.180.0.9'] }]),
    ]);
    w.slices.set('ns3/svc3', []);
    w.now += 10;
    const script = w.sync(['ns1/svc1', 'ns3/svc3']);
    expect(script).not.toContain('add table');
    expect(script).not.toMatch(/ns2\/svc2|ns4\/svc4|ns5\/svc5/);
    expect(script).toContain('numgen random mod 2 vmap');
    expect(script).toContain(
      'add element ip kube-proxy no-endpoint-nodeports { tcp . 3003 comment "ns3/svc3:p80" : goto reject-chain }',
    );
    expect(script).toContain('delete element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 }');
    // svc3's chains are flushed now, deleted a second later
    expect(script).toContain('flush chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80');
    expect(w.nft.chainNames()).toContain('service-4AT6LBPK-ns3/svc3/tcp/p80');
    w.now += 1500;
    w.sync();
    expect(w.nft.chainNames().filter((c) => c.includes('ns3/svc3'))).toEqual([]);

    const fresh = new World();
    for (const [k, s] of w.services) fresh.set(s, w.slices.get(k));
    fresh.sync();
    expect(canonicalRuleset(w.nft.dump())).toBe(canonicalRuleset(fresh.nft.dump()));
  });

  it('a partial sync of a deleted Service removes its elements and chains', () => {
    const w = overallWorld();
    w.sync();
    w.services.delete('ns4/svc4');
    const script = w.sync(['ns4/svc4']);
    expect(script).toContain('delete element ip kube-proxy service-ips { 192.168.99.33 . tcp . 80 }');
    expect(script).toContain('delete element ip kube-proxy cluster-ips { 172.30.0.44 }');
    w.now += 1500;
    w.sync();
    expect(w.nft.chainNames().some((c) => c.includes('ns4/svc4'))).toBe(false);
    const fresh = new World();
    for (const [k, s] of w.services) fresh.set(s, w.slices.get(k));
    fresh.sync();
    expect(canonicalRuleset(w.nft.dump())).toBe(canonicalRuleset(fresh.nft.dump()));
  });

  it('an unchanged resync writes nothing', () => {
    const w = overallWorld();
    w.sync();
    expect(w.sync()).toBe('');
  });

  it('after a failed transaction the next sync is a full one that lists and cleans what the kernel holds', () => {
    const w = overallWorld();
    w.sync();
    w.services.delete('ns1/svc1');
    const plan = w.gen.plan(w.ports(), new Set(['ns1/svc1']), w.now);
    plan.abort(); // as if nft had failed
    expect(w.gen.isFullSyncNeeded()).toBe(true);
    const script = w.sync();
    expect(script).toContain('add table ip kube-proxy');
    expect(script).toContain('flush chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80');
    w.now += 2000;
    w.sync();
    expect(w.nft.chainNames().some((c) => c.includes('ns1/svc1'))).toBe(false);
  });

  it('removing session affinity deletes the affinity sets', () => {
    const w = overallWorld();
    w.sync();
    const s5 = structuredClone(w.services.get('ns5/svc5')!);
    s5.spec!.sessionAffinity = 'None';
    delete s5.spec!.sessionAffinityConfig;
    w.set(s5);
    const script = w.sync(['ns5/svc5']);
    expect(script).toContain('delete set ip kube-proxy affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80');
    expect(w.nft.setNames().some((s) => s.startsWith('affinity-'))).toBe(false);
  });
});

describe('endpoint selection (upstream TestInternalTrafficPolicy / terminating endpoints)', () => {
  const local = (ip: string, extra: object = {}) => ({ addresses: [ip], nodeName: TEST_NODE, ...extra });
  const remote = (ip: string, extra: object = {}) => ({ addresses: [ip], nodeName: 'node2', ...extra });
  const terminating = { conditions: { ready: false, serving: true, terminating: true } };
  const vmapOf = (w: World, chainPrefix: string): string =>
    w.nft
      .dump()
      .split('\n')
      .filter((l) => l.includes(`add rule ip kube-proxy ${chainPrefix}`) && l.includes('numgen'))
      .join('\n');

  it("internalTrafficPolicy Local uses only this node's endpoints, and drops when there are none", () => {
    const w = new World();
    w.set(svc('ns1', 'svc1', { clusterIP: '172.30.1.1', internalTrafficPolicy: 'Local', ports: p80() }), [
      slice('ns1', 'svc1', [local('10.0.1.1'), remote('10.0.1.2'), local('10.0.1.3')]),
    ]);
    w.sync();
    const vmap = vmapOf(w, 'local-');
    expect(vmap).toContain('mod 2');
    expect(vmap).toContain('10.0.1.1/80');
    expect(vmap).toContain('10.0.1.3/80');
    expect(vmap).not.toContain('10.0.1.2');
    w.slices.set('ns1/svc1', [slice('ns1', 'svc1', [remote('10.0.1.2')])]);
    w.sync(['ns1/svc1']);
    expect(w.nft.dump()).toContain(
      'add element ip kube-proxy no-endpoint-services { 172.30.1.1 . tcp . 80 comment "ns1/svc1:p80" : drop }',
    );
  });

  it('externalTrafficPolicy Local sends external traffic to local endpoints only, keeping the client IP', () => {
    const w = new World();
    w.set(
      svc('ns1', 'svc1', {
        type: 'NodePort',
        clusterIP: '172.30.1.1',
        externalTrafficPolicy: 'Local',
        ports: p80({ nodePort: 30080 }),
      }),
      [slice('ns1', 'svc1', [local('10.0.1.1'), remote('10.0.1.2')])],
    );
    w.sync();
    const dump = w.nft.dump();
    expect(vmapOf(w, 'local-')).toMatch(/mod 1 vmap \{ 0 : goto endpoint-\S+10\.0\.1\.1\/80 \}/);
    expect(vmapOf(w, 'service-')).toContain('mod 2');
    // no masquerade for external traffic under Local policy: only local-origin traffic is marked
    expect(dump).not.toMatch(/add rule ip kube-proxy external-\S+ jump mark-for-masquerade$/m);
    expect(dump).toMatch(/add rule ip kube-proxy external-\S+ goto local-/);
  });

  it('terminating endpoints serve only when no endpoint is ready', () => {
    const w = new World();
    w.set(svc('ns1', 'svc1', { clusterIP: '172.30.1.1', ports: p80() }), [
      slice('ns1', 'svc1', [local('10.0.1.1'), remote('10.0.1.2', terminating)]),
    ]);
    w.sync();
    expect(vmapOf(w, 'service-')).toContain('mod 1');
    expect(vmapOf(w, 'service-')).toContain('10.0.1.1/80');
    w.slices.set('ns1/svc1', [
      slice('ns1', 'svc1', [
        local('10.0.1.1', { conditions: { ready: false } }),
        remote('10.0.1.2', terminating),
      ]),
    ]);
    w.sync(['ns1/svc1']);
    expect(vmapOf(w, 'service-')).toMatch(/mod 1 vmap \{ 0 : goto endpoint-\S+10\.0\.1\.2\/80 \}/);
    // not serving and terminating: nothing usable, so the Service rejects
    w.slices.set('ns1/svc1', [
      slice('ns1', 'svc1', [
        remote('10.0.1.2', { conditions: { ready: false, serving: false, terminating: true } }),
      ]),
    ]);
    w.sync(['ns1/svc1']);
    expect(w.nft.dump()).toContain(
      'no-endpoint-services { 172.30.1.1 . tcp . 80 comment "ns1/svc1:p80" : goto reject-chain }',
    );
  });
});
