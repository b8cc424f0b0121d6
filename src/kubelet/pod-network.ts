// The kubelet's side of the netns pod network (#19): each pod's network and UTS namespace (src/netns/pod-net.ts),
// made before its containers start and removed after they have stopped; the pause is watched like a container,
// so it dies with the kubelet however the kubelet dies.
import { PodNet } from '../netns/pod-net.js';

/** `loopback`: every pod on the node's loopback (the default until #19 lands); `netns`: a namespace per pod. */
export type PodNetworkMode = 'loopback' | 'netns';

export interface ProcessGroupWatch {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
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
