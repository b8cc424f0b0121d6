// The kubelet's side of the netns pod network (#19): each pod's network and UTS namespace (src/netns/pod-net.ts),
// made before its containers start and removed after they have stopped; the pause is watched like a container,
// so it dies with the kubelet however the kubelet dies.
import { PauseHelper } from '../netns/pause-helper.js';
import { PodNet } from '../netns/pod-net.js';
import type { Logger } from '../util/logger.js';

/** `loopback`: every pod on the node's loopback (the default until #19 lands); `netns`: a namespace per pod. */
export type PodNetworkMode = 'loopback' | 'netns';

export interface ProcessGroupWatch {
  watch(pgid: number): void;
  unwatch(pgid: number): void;
}

/**
 * Pod networks made at once. A burst makes them in this many lanes rather than all together: each pause's setup
 * (the helper's fork, unshare, ip) then finishes in a fraction of the burst's time, and its pod's containers start while
 * the next ones are made, instead of every pod waiting for the whole burst's (the same CPU in all). 33 pods on one
 * node, alternating at load ~21: p50 1.4–1.8 s against 2.2–3.1 s all at once, the last one as late.
 */
export const POD_NETWORKS_AT_ONCE = 4;

export class PodNetworks {
  private readonly pods = new Map<string, PodNet>();
  private making = 0;
  private readonly waiting: (() => void)[] = [];

  /** undefined until the first pod; null: pauses made by the chain of programs (no helper here, or switched off) */
  private helper: PauseHelper | null | undefined;

  constructor(
    private readonly podCIDR: string,
    private readonly processes: ProcessGroupWatch,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * The pause helper (src/netns/pause-helper.ts), started with the first pod and again after it died (its pauses
   * died with it, and their pods' sandboxes are made anew). KUBEMU_PAUSE_HELPER=0 makes pauses the plain way.
   */
  private pauseHelper(): PauseHelper | undefined {
    if (this.helper === null) return undefined;
    if (this.helper && this.helper.gone === undefined) return this.helper;
    const why = this.helper?.gone;
    if (process.env['KUBEMU_PAUSE_HELPER'] === '0') this.helper = null;
    else this.helper = PauseHelper.start() ?? null;
    if (why !== undefined && this.helper)
      this.log?.warn({ why }, 'the pause helper had stopped; started anew');
    if (this.helper === null && process.env['KUBEMU_PAUSE_HELPER'] !== '0')
      this.log?.warn(
        { arch: process.arch },
        'no pause helper for this architecture: pod networks are made by a chain of programs each (slower)',
      );
    return this.helper ?? undefined;
  }

  /** Stops the pause helper (the kubelet shuts down): the pauses it made die with it. */
  close(): void {
    this.helper?.close();
  }

  /** Makes the pod's network (once); resolves with the prefix its containers launch through. */
  async setUp(uid: string, hostname: string, ip: string): Promise<string[]> {
    const existing = this.pods.get(uid);
    if (existing?.alive) return existing.prefix();
    if (existing) await this.tearDown(uid);
    // the kubelet lives in its node's namespaces already: nothing to enter to reach cni0
    const pod = await this.inLane(async () => {
      const helper = this.pauseHelper();
      try {
        return await PodNet.create({
          id: uid,
          hostname,
          ip,
          podCidr: this.podCIDR,
          nodePrefix: [],
          ...(helper ? { helper } : {}),
        });
      } catch (err) {
        // no perl on this machine: the chain of programs from now on, said once
        if (helper?.gone === undefined || !/ENOENT/.test(helper.gone)) throw err;
        this.log?.warn({ why: helper.gone }, 'no pause helper (perl): pod networks are made the slower way');
        this.helper = null;
        return PodNet.create({ id: uid, hostname, ip, podCidr: this.podCIDR, nodePrefix: [] });
      }
    });
    this.pods.set(uid, pod);
    this.processes.watch(pod.pausePid);
    return pod.prefix();
  }

  private async inLane<T>(make: () => Promise<T>): Promise<T> {
    while (this.making >= POD_NETWORKS_AT_ONCE) await new Promise<void>((r) => this.waiting.push(r));
    this.making++;
    try {
      return await make();
    } finally {
      this.making--;
      this.waiting.shift()?.();
    }
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
