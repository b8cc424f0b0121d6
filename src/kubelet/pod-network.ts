// The kubelet's side of the netns pod network (#19): each pod's network and UTS namespace (src/netns/pod-net.ts),
// made before its containers start and removed after they have stopped; the pause is watched like a container,
// so it dies with the kubelet however the kubelet dies.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { PodNet } from '../netns/pod-net.js';

/** `loopback`: every pod on the node's loopback (the default until #19 lands); `netns`: a namespace per pod. */
export type PodNetworkMode = 'loopback' | 'netns';

export interface ProcessGroupWatch {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
}

/** Upstream's longest hostname (a DNS label): a longer pod name is cut, without a trailing '-' or '.'. */
const MAX_HOSTNAME = 63;

/**
 * The pod's hostname, as upstream's kubelet computes it (GeneratePodHostNameAndDomain, truncatePodHostnameIfNeeded):
 * spec.hostname or the pod's name, at most 63 characters; with setHostnameAsFQDN and a subdomain, the FQDN.
 */
export function podHostname(pod: Pod, clusterDomain: string): string {
  let hostname = pod.spec?.hostname || pod.metadata?.name || 'pod';
  if (hostname.length > MAX_HOSTNAME) hostname = hostname.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '');
  const subdomain = pod.spec?.subdomain;
  if (pod.spec?.setHostnameAsFQDN && subdomain) {
    return `${hostname}.${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}`;
  }
  return hostname;
}

export class PodNetworks {
  private readonly pods = new Map<string, PodNet>();

  constructor(
    private readonly podCIDR: string,
    private readonly processes: ProcessGroupWatch,
  ) {}

  /** Makes the pod's network (once); resolves with the prefix its containers launch through. */
  async setUp(uid: string, hostname: string, ip: string): Promise<string[]> {
    const existing = this.pods.get(uid);
    if (existing?.alive) return existing.prefix();
    if (existing) await this.tearDown(uid);
    // the kubelet lives in its node's namespaces already: nothing to enter to reach cni0
    const pod = await PodNet.create({ id: uid, hostname, ip, podCidr: this.podCIDR, nodePrefix: [] });
    this.pods.set(uid, pod);
    this.processes.watch(pod.pausePid);
    return pod.prefix();
  }

  /** Removes the pod's network: its pause, and with the last of its containers the namespace and veth. */
  async tearDown(uid: string): Promise<void> {
    const pod = this.pods.get(uid);
    if (!pod) return;
    this.pods.delete(uid);
    this.processes.unwatch(pod.pausePid);
    await pod.destroy();
  }
}
