// The nftables proxier's rule generator (upstream pkg/proxy/nftables/proxier.go syncProxyRules): from the Service
// ports and their endpoints, the transaction that makes `table ip kube-proxy` say so. Pure apart from its memory
// of what the kernel holds, which lets a sync rewrite only the Services that changed (a partial sync) and flush
// the whole table only on the first sync or after a failure (a full sync). No I/O: the caller runs the script.
import { categorizeEndpoints } from './categorize.js';
import { ElementStorage } from './element-storage.js';
import {
  CHAIN_PREFIX,
  endpointChainBase,
  isAffinitySetName,
  isServiceChainName,
  servicePortChainBase,
  servicePortNameString,
} from './names.js';
import {
  externallyAccessible,
  usesClusterEndpoints,
  usesLocalEndpoints,
  type IPFamily,
  type NftEndpoint,
  type ServicePortInfo,
} from './service-ports.js';
import { NftTransaction, type ChainSpec, type NftFamily } from './transaction.js';

export const KUBE_PROXY_TABLE = 'kube-proxy';

// the fixed chains, sets and maps, named as upstream
const SERVICES_CHAIN = 'services';
const SERVICE_IPS_MAP = 'service-ips';
const SERVICE_NODEPORTS_MAP = 'service-nodeports';
const NODEPORT_IPS_SET = 'nodeport-ips';
const CLUSTER_IPS_SET = 'cluster-ips';
const SERVICE_ENDPOINTS_CHECK_CHAIN = 'service-endpoints-check';
const NODEPORT_ENDPOINTS_CHECK_CHAIN = 'nodeport-endpoints-check';
const NO_ENDPOINT_SERVICES_MAP = 'no-endpoint-services';
const NO_ENDPOINT_NODEPORTS_MAP = 'no-endpoint-nodeports';
const REJECT_CHAIN = 'reject-chain';
const CLUSTER_IPS_CHECK_CHAIN = 'cluster-ips-check';
const FIREWALL_IPS_MAP = 'firewall-ips';
const FIREWALL_CHECK_CHAIN = 'firewall-check';
const MARK_MASQ_CHAIN = 'mark-for-masquerade';
const MASQUERADING_CHAIN = 'masquerading';

/** base chains: filtering sees pre-DNAT destinations (-110) where it must, the rest after DNAT (0) */
const BASE_CHAINS: [string, ChainSpec][] = [
  ['filter-prerouting-pre-dnat', { type: 'filter', hook: 'prerouting', priority: -110 }],
  ['filter-output-pre-dnat', { type: 'filter', hook: 'output', priority: -110 }],
  ['filter-input', { type: 'filter', hook: 'input', priority: 0 }],
  ['filter-forward', { type: 'filter', hook: 'forward', priority: 0 }],
  ['filter-output', { type: 'filter', hook: 'output', priority: 0 }],
  ['nat-prerouting', { type: 'nat', hook: 'prerouting', priority: -100 }],
  ['nat-output', { type: 'nat', hook: 'output', priority: -100 }],
  ['nat-postrouting', { type: 'nat', hook: 'postrouting', priority: 100 }],
];

/** [to, from, match]: the jumps from base chains into the top-level regular chains */
const JUMP_CHAINS: [string, string, string][] = [
  [NODEPORT_ENDPOINTS_CHECK_CHAIN, 'filter-input', 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK_CHAIN, 'filter-input', 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK_CHAIN, 'filter-forward', 'ct state new'],
  [SERVICE_ENDPOINTS_CHECK_CHAIN, 'filter-output', 'ct state new'],
  [FIREWALL_CHECK_CHAIN, 'filter-prerouting-pre-dnat', 'ct state new'],
  [FIREWALL_CHECK_CHAIN, 'filter-output-pre-dnat', 'ct state new'],
  [SERVICES_CHAIN, 'nat-output', ''],
  [SERVICES_CHAIN, 'nat-prerouting', ''],
  [MASQUERADING_CHAIN, 'nat-postrouting', ''],
  [CLUSTER_IPS_CHECK_CHAIN, 'filter-forward', 'ct state new'],
  [CLUSTER_IPS_CHECK_CHAIN, 'filter-output', 'ct state new'],
];

/** how long a chain stays flushed before it is deleted (upstream: kernels before 6.2 need the pause) */
export const STALE_CHAIN_DELETE_AFTER_MS = 1000;

export interface GeneratorConfig {
  family: IPFamily;
  /** `0x4000`, from --masquerade-bit 14 */
  masqueradeMark: string;
  /** --cluster-cidr (detect-local-mode ClusterCIDR): pod sources; empty: local traffic not detected */
  localCIDRs: readonly string[];
  /** the IPs that accept NodePorts (--nodeport-addresses, default "primary": the node IP); 'all': every local IP */
  nodePortIPs: readonly string[] | 'all';
  /** this node's IP: a LoadBalancer source range holding it lets the node reach its own LB IPs */
  nodeIP?: string;
  /** the cluster's Service CIDRs: traffic to an unallocated ClusterIP in them is dropped */
  serviceCIDRs: readonly string[];
  /** --masquerade-all */
  masqueradeAll?: boolean;
}

/** what the kernel holds of our table, listed before a full sync (names of chains and sets) */
export interface ExistingObjects {
  chains: readonly string[];
  sets: readonly string[];
}

export interface SyncPlan {
  /** `nft -f -` input; empty when nothing is to change */
  script: string;
  full: boolean;
  /** chains and set names written, for logs and metrics */
  stats: { servicePorts: number; rewritten: number; lines: number };
  /** the script was applied: remember what the kernel now holds */
  commit(): void;
  /** the script failed: the next sync is a full one */
  abort(): void;
}

export class NftRuleGenerator {
  private readonly cfg: GeneratorConfig;
  private readonly ipX: 'ip' | 'ip6';
  private readonly addrType: string;
  private readonly nftFamily: NftFamily;
  private needFullSync = true;
  /** whether the first full sync replaced the base chains (a property change would fail an `add`) */
  private baseChainsRecreated = false;
  /** per-Service and per-endpoint chains the kernel has (active and stale) */
  private readonly chains = new Set<string>();
  /** Service key → the chains and affinity sets its ports use */
  private chainsByService = new Map<string, Set<string>>();
  private affinityByService = new Map<string, Set<string>>();
  /** affinity sets the kernel has, listed on a full sync: those no Service uses are deleted */
  private readonly listedAffinitySets = new Set<string>();
  /** chain → when it was flushed; deleted STALE_CHAIN_DELETE_AFTER_MS later */
  private readonly staleChains = new Map<string, number>();
  private readonly clusterIPs = new ElementStorage('set', CLUSTER_IPS_SET);
  private readonly serviceIPs = new ElementStorage('map', SERVICE_IPS_MAP);
  private readonly firewallIPs = new ElementStorage('map', FIREWALL_IPS_MAP);
  private readonly noEndpointServices = new ElementStorage('map', NO_ENDPOINT_SERVICES_MAP);
  private readonly noEndpointNodePorts = new ElementStorage('map', NO_ENDPOINT_NODEPORTS_MAP);
  private readonly serviceNodePorts = new ElementStorage('map', SERVICE_NODEPORTS_MAP);
  private readonly nameCache = new Map<string, string>();

  constructor(cfg: GeneratorConfig) {
    this.cfg = cfg;
    const v6 = cfg.family === 'IPv6';
    this.ipX = v6 ? 'ip6' : 'ip';
    this.nftFamily = v6 ? 'ip6' : 'ip';
    this.addrType = v6 ? 'ipv6_addr' : 'ipv4_addr';
  }

  get family(): NftFamily {
    return this.nftFamily;
  }

  /** the next sync rewrites everything (after a failure, or a change the partial path cannot express) */
  requestFullSync(): void {
    this.needFullSync = true;
  }

  isFullSyncNeeded(): boolean {
    return this.needFullSync;
  }

  hasStaleChains(): boolean {
    return this.staleChains.size > 0;
  }

  private newTx(): NftTransaction {
    return new NftTransaction(this.nftFamily, KUBE_PROXY_TABLE);
  }

  /**
   * The transaction deleting chains flushed at least STALE_CHAIN_DELETE_AFTER_MS before `now`, to run before
   * the sync's own; undefined when there are none. Forgotten either way, as upstream does: a chain that
   * survives a failed delete is found again by the next full sync.
   */
  staleChainCleanup(now: number): string | undefined {
    const tx = this.newTx();
    for (const [chain, at] of this.staleChains) {
      if (now - at < STALE_CHAIN_DELETE_AFTER_MS) continue;
      tx.deleteChain(chain);
      this.staleChains.delete(chain);
      this.chains.delete(chain);
    }
    return tx.length ? tx.toString() : undefined;
  }

  private cachedName(prefix: string, key: string, make: () => string): string {
    let base = this.nameCache.get(key);
    if (base === undefined) {
      base = make();
      this.nameCache.set(key, base);
    }
    return prefix + base;
  }

  private portChainBase(p: ServicePortInfo): string {
    return this.cachedName('', `${p.namespace}/${p.name}/${p.protocol}/${p.portName}`, () =>
      servicePortChainBase(p),
    );
  }

  private endpointBase(p: ServicePortInfo, ep: NftEndpoint): string {
    return this.cachedName(
      '',
      `${p.namespace}/${p.name}/${p.protocol}/${p.portName}__${ep.ip}/${ep.port}`,
      () => endpointChainBase(p, ep.ip, ep.port),
    );
  }

  private setupTable(tx: NftTransaction): void {
    const { ipX, addrType } = this;
    const noLocalhost = ipX === 'ip' ? 'ip daddr != 127.0.0.0/8' : 'ip6 daddr != ::1';
    tx.addTable('rules for kube-proxy');
    if (!this.baseChainsRecreated) {
      for (const [name] of BASE_CHAINS) {
        tx.addChain(name);
        tx.deleteChain(name);
      }
    }
    for (const [name, spec] of BASE_CHAINS) {
      tx.addChain(name, spec);
      tx.flushChain(name);
    }
    const created = new Set<string>();
    const ensure = (chain: string): void => {
      if (created.has(chain)) return;
      created.add(chain);
      tx.addChain(chain);
      tx.flushChain(chain);
    };
    for (const [to, from, match] of JUMP_CHAINS) {
      ensure(to);
      tx.addRule(from, `${match ? `${match} ` : ''}jump ${to}`);
    }
    for (const chain of [SERVICES_CHAIN, CLUSTER_IPS_CHECK_CHAIN, MASQUERADING_CHAIN, MARK_MASQ_CHAIN])
      ensure(chain);
    const mark = this.cfg.masqueradeMark;
    tx.addRule(MARK_MASQ_CHAIN, `mark set mark or ${mark}`);
    tx.addRule(MASQUERADING_CHAIN, `mark and ${mark} == 0 return`);
    tx.addRule(MASQUERADING_CHAIN, `mark set mark xor ${mark}`);
    tx.addRule(MASQUERADING_CHAIN, 'masquerade fully-random');

    tx.addSet('set', CLUSTER_IPS_SET, { type: addrType, comment: 'Active ClusterIPs' });
    tx.addRule(
      CLUSTER_IPS_CHECK_CHAIN,
      `${ipX} daddr @${CLUSTER_IPS_SET} reject`,
      'Reject traffic to invalid ports of ClusterIPs',
    );
    if (this.cfg.serviceCIDRs.length)
      tx.addRule(
        CLUSTER_IPS_CHECK_CHAIN,
        `${ipX} daddr { ${this.cfg.serviceCIDRs.join(', ')} } drop`,
        'Drop traffic to unallocated ClusterIPs',
      );

    tx.addSet('set', NODEPORT_IPS_SET, { type: addrType, comment: 'IPs that accept NodePort traffic' });
    const nodePortIPs = this.cfg.nodePortIPs;
    if (nodePortIPs === 'all') tx.deleteSet('set', NODEPORT_IPS_SET);
    else {
      tx.flushSet('set', NODEPORT_IPS_SET);
      for (const ip of nodePortIPs) tx.addElement(NODEPORT_IPS_SET, [ip]);
    }

    tx.addSet('map', NO_ENDPOINT_SERVICES_MAP, {
      type: `${addrType} . inet_proto . inet_service : verdict`,
      comment: 'vmap to drop or reject packets to services with no endpoints',
    });
    tx.addSet('map', NO_ENDPOINT_NODEPORTS_MAP, {
      type: 'inet_proto . inet_service : verdict',
      comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
    });
    tx.addChain(REJECT_CHAIN, undefined, 'helper for @no-endpoint-services / @no-endpoint-nodeports');
    tx.flushChain(REJECT_CHAIN);
    tx.addRule(REJECT_CHAIN, 'reject');
    tx.addRule(
      SERVICE_ENDPOINTS_CHECK_CHAIN,
      `${ipX} daddr . meta l4proto . th dport vmap @${NO_ENDPOINT_SERVICES_MAP}`,
    );
    const nodePortMatch = nodePortIPs === 'all' ? noLocalhost : `${ipX} daddr @${NODEPORT_IPS_SET}`;
    tx.addRule(
      NODEPORT_ENDPOINTS_CHECK_CHAIN,
      `${nodePortMatch} meta l4proto . th dport vmap @${NO_ENDPOINT_NODEPORTS_MAP}`,
    );

    tx.addSet('map', FIREWALL_IPS_MAP, {
      type: `${addrType} . inet_proto . inet_service : verdict`,
      comment: 'destinations that are subject to LoadBalancerSourceRanges',
    });
    ensure(FIREWALL_CHECK_CHAIN);
    tx.addRule(FIREWALL_CHECK_CHAIN, `${ipX} daddr . meta l4proto . th dport vmap @${FIREWALL_IPS_MAP}`);

    tx.addSet('map', SERVICE_IPS_MAP, {
      type: `${addrType} . inet_proto . inet_service : verdict`,
      comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
    });
    tx.addSet('map', SERVICE_NODEPORTS_MAP, {
      type: 'inet_proto . inet_service : verdict',
      comment: 'NodePort traffic',
    });
    tx.addRule(SERVICES_CHAIN, `${ipX} daddr . meta l4proto . th dport vmap @${SERVICE_IPS_MAP}`);
    tx.addRule(
      SERVICES_CHAIN,
      nodePortIPs === 'all'
        ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @${SERVICE_NODEPORTS_MAP}`
        : `${ipX} daddr @${NODEPORT_IPS_SET} meta l4proto . th dport vmap @${SERVICE_NODEPORTS_MAP}`,
    );

    for (const s of this.storages()) s.reset(tx);
  }

  private storages(): ElementStorage[] {
    return [
      this.clusterIPs,
      this.serviceIPs,
      this.firewallIPs,
      this.noEndpointServices,
      this.noEndpointNodePorts,
      this.serviceNodePorts,
    ];
  }

  private ifLocal(): string | undefined {
    const cidrs = this.cfg.localCIDRs;
    if (!cidrs.length) return undefined;
    return cidrs.length === 1 ? `${this.ipX} saddr ${cidrs[0]}` : `${this.ipX} saddr { ${cidrs.join(', ')} }`;
  }

  private ifNotLocal(): string | undefined {
    const cidrs = this.cfg.localCIDRs;
    if (!cidrs.length) return undefined;
    return cidrs.length === 1
      ? `${this.ipX} saddr != ${cidrs[0]}`
      : `${this.ipX} saddr != { ${cidrs.join(', ')} }`;
  }

  /**
   * The transaction for this sync. `ports` holds every Service's ports (by `namespace/name`); `changed` names
   * the Services whose Service or EndpointSlices changed since the last committed sync. A partial sync looks at
   * those Services only; a full one rewrites everything, reading `existing` (the table as listed) so chains
   * and sets left by an earlier run are cleaned up.
   */
  plan(
    ports: ReadonlyMap<string, readonly ServicePortInfo[]>,
    changed: ReadonlySet<string>,
    now: number,
    existing?: ExistingObjects,
  ): SyncPlan {
    const full = this.needFullSync;
    const tx = this.newTx();
    if (full) {
      this.setupTable(tx);
      if (existing) {
        for (const c of existing.chains) if (isServiceChainName(c)) this.chains.add(c);
        for (const s of existing.sets) if (isAffinitySetName(s)) this.listedAffinitySets.add(s);
      }
    }
    const serviceKeys = full ? [...ports.keys()] : [...changed];
    const newChains = new Map<string, Set<string>>();
    const newAffinity = new Map<string, Set<string>>();
    let count = 0;
    for (const key of serviceKeys) {
      const activeChains = new Set<string>();
      const activeAffinitySets = new Set<string>();
      newChains.set(key, activeChains);
      newAffinity.set(key, activeAffinitySets);
      const ensureChain = (chain: string): void => {
        if (activeChains.has(chain)) return;
        activeChains.add(chain);
        tx.addChain(chain);
        tx.flushChain(chain);
      };
      for (const svc of ports.get(key) ?? []) {
        count++;
        this.writeServicePort(tx, key, svc, ensureChain, activeAffinitySets);
      }
    }

    // chains no Service uses any more are flushed now and deleted a second later; affinity sets at once
    const newlyStale: string[] = [];
    const deadSets: string[] = [];
    if (full) {
      const allActive = new Set([...newChains.values()].flatMap((c) => [...c]));
      const allSets = new Set([...newAffinity.values()].flatMap((c) => [...c]));
      for (const chain of this.chains)
        if (!allActive.has(chain) && !this.staleChains.has(chain)) newlyStale.push(chain);
      const known = new Set([
        ...this.listedAffinitySets,
        ...[...this.affinityByService.values()].flatMap((c) => [...c]),
      ]);
      for (const set of known) if (!allSets.has(set)) deadSets.push(set);
    } else {
      for (const key of serviceKeys) {
        const now_ = newChains.get(key)!;
        for (const chain of this.chainsByService.get(key) ?? [])
          if (!now_.has(chain) && !this.staleChains.has(chain)) newlyStale.push(chain);
        const sets = newAffinity.get(key)!;
        for (const set of this.affinityByService.get(key) ?? []) if (!sets.has(set)) deadSets.push(set);
      }
    }
    for (const chain of newlyStale) tx.flushChain(chain);
    for (const set of deadSets) tx.deleteSet('set', set);
    const owners = full ? undefined : changed;
    for (const st of this.storages()) st.cleanupLeftovers(tx, owners);

    const script = tx.toString();
    return {
      script,
      full,
      stats: { servicePorts: count, rewritten: serviceKeys.length, lines: tx.length },
      commit: () => {
        this.needFullSync = false;
        this.baseChainsRecreated = true;
        if (full) {
          this.chainsByService = new Map();
          this.affinityByService = new Map();
          this.listedAffinitySets.clear();
        }
        for (const [key, chains] of newChains) {
          for (const c of chains) {
            this.chains.add(c);
            this.staleChains.delete(c);
          }
          if (chains.size) this.chainsByService.set(key, chains);
          else this.chainsByService.delete(key);
        }
        for (const [key, sets] of newAffinity) {
          if (sets.size) this.affinityByService.set(key, sets);
          else this.affinityByService.delete(key);
        }
        for (const c of newlyStale) this.staleChains.set(c, now);
      },
      abort: () => {
        this.needFullSync = true;
        // what the kernel holds is listed again before the full sync
        this.chains.clear();
        this.staleChains.clear();
      },
    };
  }

  /** the chains, rules and elements of one Service port (upstream's loop body in syncProxyRules) */
  private writeServicePort(
    tx: NftTransaction,
    owner: string,
    svc: ServicePortInfo,
    ensureChain: (chain: string) => void,
    activeAffinitySets: Set<string>,
  ): void {
    const { ipX, addrType } = this;
    const protocol = svc.protocol;
    const port = String(svc.port);
    const portName = servicePortNameString(svc);
    const { clusterEndpoints, localEndpoints, allReachableEndpoints, hasAnyEndpoints } =
      categorizeEndpoints(svc);
    const base = this.portChainBase(svc);
    const epChain = (ep: NftEndpoint): string => CHAIN_PREFIX.endpoint + this.endpointBase(svc, ep);
    const affinitySet = (ep: NftEndpoint): string => CHAIN_PREFIX.affinity + this.endpointBase(svc, ep);
    const affinity = svc.stickyMaxAgeSeconds !== undefined;

    for (const ep of allReachableEndpoints) {
      ensureChain(epChain(ep));
      if (affinity) activeAffinitySets.add(affinitySet(ep));
    }
    const clusterPolicyChain = CHAIN_PREFIX.clusterPolicy + base;
    const usesClusterPolicyChain = clusterEndpoints.length > 0 && usesClusterEndpoints(svc);
    if (usesClusterPolicyChain) ensureChain(clusterPolicyChain);
    const localPolicyChain = CHAIN_PREFIX.localPolicy + base;
    const usesLocalPolicyChain = localEndpoints.length > 0 && usesLocalEndpoints(svc);
    if (usesLocalPolicyChain) ensureChain(localPolicyChain);

    let internalTrafficChain = clusterPolicyChain;
    let hasInternalEndpoints = hasAnyEndpoints;
    if (svc.internalPolicyLocal) {
      internalTrafficChain = localPolicyChain;
      if (!localEndpoints.length) hasInternalEndpoints = false;
    }
    let externalPolicyChain = clusterPolicyChain;
    let hasExternalEndpoints = hasAnyEndpoints;
    if (svc.externalPolicyLocal) {
      externalPolicyChain = localPolicyChain;
      if (!localEndpoints.length) hasExternalEndpoints = false;
    }
    const externalTrafficChain = CHAIN_PREFIX.external + base;
    const usesExternalTrafficChain = hasAnyEndpoints && externallyAccessible(svc);
    if (usesExternalTrafficChain) ensureChain(externalTrafficChain);

    let internalVerdict = '';
    let externalVerdict = '';
    if (!hasAnyEndpoints) {
      internalVerdict = `goto ${REJECT_CHAIN}`;
      externalVerdict = `goto ${REJECT_CHAIN}`;
    } else {
      // a Local policy without local endpoints: drop what the external chain did not short-circuit
      if (!hasInternalEndpoints) internalVerdict = 'drop';
      if (!hasExternalEndpoints) externalVerdict = 'drop';
    }

    this.clusterIPs.ensure(tx, owner, [svc.clusterIP]);
    if (hasInternalEndpoints)
      this.serviceIPs.ensure(tx, owner, [svc.clusterIP, protocol, port], `goto ${internalTrafficChain}`);
    else
      this.noEndpointServices.ensure(tx, owner, [svc.clusterIP, protocol, port], internalVerdict, portName);

    for (const ip of svc.externalIPs) {
      if (hasAnyEndpoints)
        this.serviceIPs.ensure(tx, owner, [ip, protocol, port], `goto ${externalTrafficChain}`);
      if (!hasExternalEndpoints)
        this.noEndpointServices.ensure(tx, owner, [ip, protocol, port], externalVerdict, portName);
    }

    const usesFirewallChain = svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
    const firewallChain = CHAIN_PREFIX.firewall + base;
    if (usesFirewallChain) ensureChain(firewallChain);
    for (const ip of svc.loadBalancerVIPs) {
      if (hasAnyEndpoints)
        this.serviceIPs.ensure(tx, owner, [ip, protocol, port], `goto ${externalTrafficChain}`);
      if (usesFirewallChain)
        this.firewallIPs.ensure(tx, owner, [ip, protocol, port], `goto ${firewallChain}`);
    }
    if (!hasExternalEndpoints)
      for (const ip of svc.loadBalancerVIPs)
        this.noEndpointServices.ensure(tx, owner, [ip, protocol, port], externalVerdict, portName);

    if (svc.nodePort) {
      const key = [protocol, String(svc.nodePort)];
      if (hasAnyEndpoints) this.serviceNodePorts.ensure(tx, owner, key, `goto ${externalTrafficChain}`);
      if (!hasExternalEndpoints) this.noEndpointNodePorts.ensure(tx, owner, key, externalVerdict, portName);
    }

    if (hasInternalEndpoints) {
      const notLocal = this.ifNotLocal();
      if (this.cfg.masqueradeAll)
        tx.addRule(
          internalTrafficChain,
          `${ipX} daddr ${svc.clusterIP} ${protocol} dport ${port} jump ${MARK_MASQ_CHAIN}`,
        );
      else if (notLocal)
        // off-cluster traffic to a ClusterIP (a static route to the Service range) may leave the node
        tx.addRule(internalTrafficChain, `${ipX} daddr ${svc.clusterIP} ${notLocal} jump ${MARK_MASQ_CHAIN}`);
    }

    if (usesExternalTrafficChain) {
      if (!svc.externalPolicyLocal) {
        // endpoints may be on other nodes: masquerade so replies come back through this one
        tx.addRule(externalTrafficChain, `jump ${MARK_MASQ_CHAIN}`);
      } else {
        const local = this.ifLocal();
        if (local)
          // pods going to an external IP are served as if through the load balancer: no policy applies
          tx.addRule(
            externalTrafficChain,
            `${local} goto ${clusterPolicyChain}`,
            'short-circuit pod traffic',
          );
        tx.addRule(
          externalTrafficChain,
          `fib saddr type local jump ${MARK_MASQ_CHAIN}`,
          'masquerade local traffic',
        );
        tx.addRule(
          externalTrafficChain,
          `fib saddr type local goto ${clusterPolicyChain}`,
          'short-circuit local traffic',
        );
      }
      if (hasExternalEndpoints) tx.addRule(externalTrafficChain, `goto ${externalPolicyChain}`);
    }

    if (usesFirewallChain) {
      const sources = [...svc.loadBalancerSourceRanges];
      if (this.cfg.nodeIP && svc.loadBalancerSourceRanges.some((c) => cidrContains(c, this.cfg.nodeIP!)))
        sources.push(...svc.loadBalancerVIPs);
      tx.addRule(firewallChain, `${ipX} saddr != { ${sources.join(', ')} } drop`);
    }

    if (affinity)
      for (const ep of allReachableEndpoints)
        tx.addSet('set', affinitySet(ep), {
          type: addrType,
          flags: ['dynamic', 'timeout'],
          timeoutSeconds: svc.stickyMaxAgeSeconds,
        });

    const writeServiceToEndpoints = (chain: string, endpoints: NftEndpoint[]): void => {
      if (affinity)
        for (const ep of endpoints) tx.addRule(chain, `${ipX} saddr @${affinitySet(ep)} goto ${epChain(ep)}`);
      const vmap = endpoints.map((ep, i) => `${i} : goto ${epChain(ep)}`).join(' , ');
      tx.addRule(chain, `numgen random mod ${endpoints.length} vmap { ${vmap} }`);
    };
    if (usesClusterPolicyChain) writeServiceToEndpoints(clusterPolicyChain, clusterEndpoints);
    if (usesLocalPolicyChain) writeServiceToEndpoints(localPolicyChain, localEndpoints);

    for (const ep of allReachableEndpoints) {
      const chain = epChain(ep);
      // hairpin: a pod reaching itself through its Service must see the reply come from the node
      tx.addRule(chain, `${ipX} saddr ${ep.ip} jump ${MARK_MASQ_CHAIN}`);
      if (affinity) tx.addRule(chain, `update @${affinitySet(ep)} { ${ipX} saddr }`);
      const dest = ipX === 'ip6' ? `[${ep.ip}]:${ep.port}` : `${ep.ip}:${ep.port}`;
      tx.addRule(chain, `meta l4proto ${protocol} dnat to ${dest}`);
    }
  }
}

/** IPv4 `a.b.c.d/n` (or a bare address) contains `ip`; IPv6 ranges compare by exact prefix text only */
export function cidrContains(cidr: string, ip: string): boolean {
  const [net, bitsText] = cidr.split('/');
  if (!net) return false;
  if (net.includes(':') || ip.includes(':')) return bitsText === undefined && net === ip;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!(bits >= 0 && bits <= 32)) return false;
  const toInt = (s: string): bigint => s.split('.').reduce((a, o) => a * 256n + BigInt(Number(o) | 0), 0n);
  const mask = ((1n << BigInt(bits)) - 1n) << BigInt(32 - bits);
  return (toInt(net) & mask) === (toInt(ip) & mask);
}
