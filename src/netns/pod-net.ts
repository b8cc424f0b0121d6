// A pod's network, as upstream's pause container and CNI bridge plugin make it: its own network and UTS namespace
// held by a pause process, `lo`, a veth `eth0` on the node's cni0, the pod IP and a default route; the pod's
// containers join it (`nsenter --target PAUSE --net --uts`), so they share localhost, the pod IP and the hostname.
// Few processes a pod and no round trip through the kubelet, so a burst of 100 stays quick: the pause's own `ip
// -batch` does all of it, the node's side included: it makes the veth pair with the node's end created straight in
// the node's namespace (`netns NODE`), a port of cni0 (`master`, named by its ifindex there) and up, so the kubelet
// only spawns the pause (or has its pause helper fork one: pause-helper.ts) and waits for its `ready`.
import { parseCidr } from './cidr.js';
import {
  NamespaceError,
  isAlive,
  killHolder,
  nsenterArgs,
  runCommand,
  startHolder,
  type Enter,
} from './holder.js';
import { POD_BRIDGE, vethName } from './node-net.js';
import type { PauseHelper } from './pause-helper.js';
import { LOCALNET_SYSCTLS, LOOPBACK_BATCH } from './sandbox.js';

export interface PodNetOptions {
  /** unique on the node (the pod's UID): names the node's end of the veth */
  id: string;
  /** the pod's hostname: its name, or spec.hostname (upstream truncates to 63 characters) */
  hostname: string;
  /** the pod IP, from the node's podCIDR */
  ip: string;
  /** the node's podCIDR: the IP's prefix length and the gateway (cni0's address) */
  podCidr: string;
  /** runs a command on the node: [] for a kubelet that lives there, else the node's nsenter prefix */
  nodePrefix: string[];
  /**
   * a process in the node's network namespace, where the veth's node end is made (its holder); default: this
   * process, which must then live there (a kubelet, whose nodePrefix is [])
   */
  nodePid?: number;
  /** enter the sandbox's user namespace too (a caller outside a rootless sandbox) */
  enterUser?: boolean;
  /**
   * the kubelet's pause helper (pause-helper.ts), which forks the pause instead of the chain of programs below;
   * only for a caller living in the node (nodePrefix [])
   */
  helper?: PauseHelper;
}

// The pause: pods bind ports below 1024 (as in a container, where the runtime sets the same sysctl), ping works
// for everyone, 127/8 routes beyond the pod. Its PDEATHSIG ties it to the process that made it (the kubelet).
// Its `ip -batch` reads the commands the kubelet wrote to its stdin at the spawn. The hostname is a shell write
// where /proc allows it (root), `hostname` otherwise.
const PAUSE_SCRIPT =
  'set -e; { echo "$1" > /proc/sys/kernel/hostname; } 2>/dev/null || hostname "$1"; ' +
  LOCALNET_SYSCTLS +
  'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start; ' +
  // (in a rootless sandbox only group 0 is mapped, and the kernel refuses a range of unmapped groups)
  "{ echo '0 2147483647' > /proc/sys/net/ipv4/ping_group_range; } 2>/dev/null || echo '0 0' > /proc/sys/net/ipv4/ping_group_range; " +
  'ip -batch -; echo ready; exec sleep infinity </dev/null >/dev/null 2>&1';

/** the pod bridge's ifindex on each node (by the node's nsenter prefix): the pause names it by number */
const bridgeIndexes = new Map<string, Promise<number>>();
function bridgeIndex(prefix: string[]): Promise<number> {
  const key = prefix.join('\0');
  let index = bridgeIndexes.get(key);
  if (!index) {
    index = runCommand([...prefix, 'ip', '-o', 'link', 'show', POD_BRIDGE]).then((out) => {
      const n = Number(/^(\d+):/.exec(out)?.[1]);
      if (!Number.isInteger(n) || n <= 0)
        throw new NamespaceError(`cannot read ${POD_BRIDGE}'s index: ${out}`);
      return n;
    });
    index.catch(() => bridgeIndexes.delete(key));
    bridgeIndexes.set(key, index);
  }
  return index;
}

export class PodNet {
  private constructor(
    readonly options: PodNetOptions,
    readonly pausePid: number,
    /** the node's end of the pod's veth, a port of cni0 */
    readonly hostVeth: string,
  ) {}

  static async create(options: PodNetOptions): Promise<PodNet> {
    const cidr = parseCidr(options.podCidr);
    if (options.nodePrefix.length && options.nodePid === undefined)
      throw new TypeError('PodNet.create: nodePid is needed with a nodePrefix (the node holder)');
    const nodePid = options.nodePid ?? process.pid;
    const hostVeth = vethName(options.id);
    let pausePid: number;
    try {
      const bridge = await bridgeIndex(options.nodePrefix);
      const batch = [
        ...LOOPBACK_BATCH,
        // the node's end: made in the node's namespace, on cni0 (by index: this ip runs in the pod's), up
        `link add ${hostVeth} netns ${nodePid} master if${bridge} up type veth peer name eth0`,
        `address add ${options.ip}/${cidr.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${cidr.gateway}`,
      ];
      if (options.helper && !options.nodePrefix.length) {
        pausePid = await options.helper.create(options.id, options.hostname, batch);
      } else {
        const pause = await startHolder(
          [
            ...options.nodePrefix,
            ...['setpriv', '--pdeathsig', 'KILL', '--', 'unshare', '--net', '--uts', '--'],
            ...['/bin/sh', '-c', PAUSE_SCRIPT, 'kubemu-pause', options.hostname],
          ],
          // its own process group, as the kubelet watches it
          { detached: true, input: batch.join('\n') + '\n' },
        );
        pausePid = pause.pid;
      }
    } catch (err) {
      // the bridge may have been made anew (another index): read it again next time
      bridgeIndexes.delete(options.nodePrefix.join('\0'));
      throw new NamespaceError(
        `cannot create the network of pod ${options.hostname}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new PodNet(options, pausePid, hostVeth);
  }

  get ip(): string {
    return this.options.ip;
  }

  /** The pod's namespaces, as its containers enter them. */
  enter(): Enter {
    return { pid: this.pausePid, user: this.options.enterUser ?? false, net: true, uts: true };
  }

  /** The argv prefix that runs a process in the pod's network and UTS namespaces. */
  prefix(): string[] {
    return nsenterArgs(this.enter());
  }

  get alive(): boolean {
    return isAlive(this.pausePid);
  }

  /** Kills the pause; the namespace and its veth pair go once the pod's last container has. */
  destroy(): Promise<void> {
    return killHolder(this.pausePid);
  }
}
