// A pod's /etc/hosts, as upstream's kubelet writes it (pkg/kubelet/kubelet_pods.go: managedHostsFileContent,
// nodeHostsFileContent, hostsEntriesFromHostAliases), for pods with a network namespace of their own.
import type { HostAlias, Pod } from 'kubernetes-types/core/v1.js';

const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
const MANAGED_HOSTS_HEADER_WITH_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';
/** upstream's longest hostname (a DNS label): a longer pod name is cut, without a trailing '-' or '.' */
const MAX_HOSTNAME = 63;

/** upstream's GeneratePodHostNameAndDomain: spec.hostname or the name (63 characters), and the subdomain's domain */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  let hostname = pod.spec?.hostname || pod.metadata?.name || 'pod';
  if (hostname.length > MAX_HOSTNAME) hostname = hostname.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '');
  const subdomain = pod.spec?.subdomain;
  const domain = subdomain ? `${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** The hostname the pod's UTS namespace gets: the FQDN with setHostnameAsFQDN and a subdomain (upstream). */
export function podHostname(pod: Pod, clusterDomain: string): string {
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  return pod.spec?.setHostnameAsFQDN && domain ? `${hostname}.${domain}` : hostname;
}

function hostAliasEntries(aliases: HostAlias[] | undefined): string {
  if (!aliases?.length) return '';
  let text = '\n# Entries added by HostAliases.\n';
  for (const alias of aliases) for (const name of alias.hostnames ?? []) text += `${alias.ip}\t${name}\n`;
  return text;
}

/**
 * The pod's /etc/hosts: localhost, the IPv6 names, the pod's own IPs with its hostname (and FQDN with a
 * subdomain), then spec.hostAliases; a hostNetwork pod gets the node's file instead, with the aliases after it.
 */
export function podHostsFile(
  pod: Pod,
  podIPs: string[],
  clusterDomain: string,
  nodeHostsFile: string,
): string {
  if (pod.spec?.hostNetwork) {
    return MANAGED_HOSTS_HEADER_WITH_HOST_NETWORK + nodeHostsFile + hostAliasEntries(pod.spec.hostAliases);
  }
  const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
  let text =
    MANAGED_HOSTS_HEADER +
    '127.0.0.1\tlocalhost\n' +
    '::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\n' +
    'fe00::0\tip6-mcastprefix\n' +
    'fe00::1\tip6-allnodes\n' +
    'fe00::2\tip6-allrouters\n';
  for (const ip of podIPs)
    text += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  return text + hostAliasEntries(pod.spec?.hostAliases);
}
