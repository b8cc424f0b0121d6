// A pod's DNS as upstream's kubelet configures it (pkg/kubelet/network/dns): dnsPolicy, dnsConfig, resolv.conf.
import type { Pod } from 'kubernetes-types/core/v1.js';

export interface ClusterDnsSettings {
  /** `<ip>:<port>` of the cluster DNS server (the kubelet's --cluster-dns); undefined when there is none */
  clusterDNS?: string;
  /** the kubelet's --cluster-domain */
  clusterDomain: string;
}

export interface ResolvConf {
  nameservers: string[];
  searches: string[];
  options: string[];
}

export interface PodDns {
  /**
   * The resolv.conf the pod's containers see, or undefined to leave them the host's (dnsPolicy Default, or cluster
   * DNS that resolv.conf cannot name because it is not on port 53).
   */
  resolvConf?: string;
  /** environment for programs that ask the cluster DNS themselves (see src/dns/resolve-env.md) */
  env: Record<string, string>;
  /** upstream's DNSConfigForming warnings: what was cut to fit resolv.conf's limits */
  warnings?: string[];
}

/** upstream's limits (validation.MaxDNSNameservers, MaxDNSSearchPathsExpanded, MaxDNSSearchListCharsExpanded) */
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_PATHS = 32;
const MAX_SEARCH_CHARS = 2048;
const MAX_DOMAIN_LENGTH = 253;

/** `127.96.0.10:53` → ip and port (53 when none is given) */
export function splitHostPort(address: string): { ip: string; port: number } {
  const colon = address.lastIndexOf(':');
  if (colon < 0) return { ip: address, port: 53 };
  return { ip: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** The nameserver/search/options lines of a resolv.conf text. */
export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const fields = raw
      .replace(/[#;].*$/, '')
      .trim()
      .split(/\s+/);
    const [key, ...rest] = fields;
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    // as glibc: the last search (or domain) line wins
    else if (key === 'search' || key === 'domain')
      out.searches = rest.filter((s) => s && s !== '.').map((s) => s.replace(/\.$/, ''));
    else if (key === 'options') out.options.push(...rest.filter(Boolean));
  }
  return out;
}

/** As the container runtime (containerd) writes it: search, then the nameservers, then options. */
export function formatResolvConf(c: ResolvConf): string {
  const lines = [
    ...(c.searches.length ? [`search ${c.searches.join(' ')}`] : []),
    ...c.nameservers.map((n) => `nameserver ${n}`),
    ...(c.options.length ? [`options ${c.options.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

const unique = (xs: string[]): string[] => [...new Set(xs)];

/** upstream's mergeDNSOptions: a later option of the same name (before ':') replaces the earlier one */
function mergeOptions(base: string[], extra: { name?: string; value?: string }[]): string[] {
  const byName = new Map<string, string>();
  for (const o of base) byName.set(o.split(':')[0], o);
  for (const o of extra) {
    if (!o.name) continue;
    byName.set(o.name, o.value !== undefined && o.value !== '' ? `${o.name}:${o.value}` : o.name);
  }
  return [...byName.values()];
}

/** upstream's formDNSConfigFitsLimits: at most 3 nameservers, 32 search domains of ≤ 253 characters, 2048 in all */
function fitLimits(conf: ResolvConf): { conf: ResolvConf; warnings: string[] } {
  const warnings: string[] = [];
  let nameservers = conf.nameservers;
  if (nameservers.length > MAX_NAMESERVERS) {
    nameservers = nameservers.slice(0, MAX_NAMESERVERS);
    warnings.push(
      `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${nameservers.join(' ')}`,
    );
  }
  let searches = conf.searches.slice(0, MAX_SEARCH_PATHS).filter((d) => d.length <= MAX_DOMAIN_LENGTH);
  let cut = searches.length < conf.searches.length;
  while (searches.join(' ').length > MAX_SEARCH_CHARS) {
    searches = searches.slice(0, -1);
    cut = true;
  }
  if (cut)
    warnings.push(
      `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}`,
    );
  return { conf: { ...conf, nameservers, searches }, warnings };
}

type EffectivePolicy = 'ClusterFirst' | 'Default' | 'None';

/** upstream's getPodDNSType: ClusterFirst on the host network (or without cluster DNS) falls back to Default */
function effectivePolicy(pod: Pod, settings: ClusterDnsSettings): EffectivePolicy {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'None') return 'None';
  if (policy === 'Default') return 'Default';
  if (!settings.clusterDNS) return 'Default';
  if (policy === 'ClusterFirst' && pod.spec?.hostNetwork) return 'Default';
  return 'ClusterFirst';
}

/**
 * The DNS a pod's containers get. `hostResolvConf` is the node's /etc/resolv.conf text (upstream's --resolv-conf).
 * ClusterFirst: `nameserver <cluster DNS>`, `search <ns>.svc.<domain> svc.<domain> <domain> <host's searches>`,
 * `options ndots:5`; Default: the host's; None: only dnsConfig. dnsConfig is merged into all three.
 */
export function podDns(pod: Pod, settings: ClusterDnsSettings, hostResolvConf: string): PodDns {
  const ns = pod.metadata?.namespace ?? 'default';
  const policy = effectivePolicy(pod, settings);
  const host = parseResolvConf(hostResolvConf);
  const domain = settings.clusterDomain;
  let conf: ResolvConf;
  const env: Record<string, string> = {};
  if (policy === 'ClusterFirst') {
    const dns = splitHostPort(settings.clusterDNS!);
    env['KUBEMU_DNS'] = settings.clusterDNS!;
    if (dns.port === 53) {
      conf = {
        nameservers: [dns.ip],
        searches: unique([`${ns}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches]),
        options: ['ndots:5'],
      };
    } else {
      // resolv.conf cannot name a port: a server off port 53 is reachable only through KUBEMU_DNS
      if (!pod.spec?.dnsConfig) return { env };
      conf = host;
    }
  } else if (policy === 'Default') {
    conf = host;
    if (!pod.spec?.dnsConfig) return { env };
  } else conf = { nameservers: [], searches: [], options: [] };
  const extra = pod.spec?.dnsConfig;
  conf = {
    nameservers: unique([...conf.nameservers, ...(extra?.nameservers ?? [])]),
    searches: unique([...conf.searches, ...(extra?.searches ?? [])]),
    options: mergeOptions(conf.options, extra?.options ?? []),
  };
  const fitted = fitLimits(conf);
  return {
    resolvConf: formatResolvConf(fitted.conf),
    env,
    ...(fitted.warnings.length ? { warnings: fitted.warnings } : {}),
  };
}
