// A pod's network, as upstream's pause container and CNI bridge plugin make it: its own network and UTS namespace
// held by a pause process, `lo`, a veth `eth0` on the node's cni0, the pod IP and a default route; the pod's
// containers join it (`nsenter --target PAUSE --net --uts`), so they share localhost, the pod IP and the hostname.
import { parseCidr } from './cidr.js';
import {
  NamespaceError,
  ipBatch,
  isAlive,
  killHolder,
  nsenterArgs,
  startHolder,
  type Enter,
} from './holder.js';
import { POD_BRIDGE, vethName } from './node-net.js';
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
  /** enter the sandbox's user namespace too (a caller outside a rootless sandbox) */
  enterUser?: boolean;
}

// The pause: pods bind ports below 1024 (as in a container, where the runtime sets the same sysctl), ping works
// for everyone, 127/8 routes beyond the pod. Its PDEATHSIG ties it to the process that made it (the kubelet).
const PAUSE_SCRIPT =
  'set -e; hostname "$1"; ' +
  LOCALNET_SYSCTLS +
  'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start; ' +
  // (in a rootless sandbox only group 0 is mapped, and the kernel refuses a range of unmapped groups)
  "{ echo '0 2147483647' > /proc/sys/net/ipv4/ping_group_range; } 2>/dev/null || echo '0 0' > /proc/sys/net/ipv4/ping_group_range; " +
  'ip -batch -; echo ready; exec sleep infinity </dev/null >/dev/null 2>&1';

export class PodNet {
  private constructor(
    readonly options: PodNetOptions,
    readonly pausePid: number,
    /** the node's end of the pod's veth, a port of cni0 */
    readonly hostVeth: string,
  ) {}

  static async create(options: PodNetOptions): Promise<PodNet> {
    const cidr = parseCidr(options.podCidr);
    const pause = await startHolder(
      [
        ...options.nodePrefix,
        'setpriv',
        '--pdeathsig',
        'KILL',
        '--',
        'unshare',
        '--net',
        '--uts',
        '--',
        '/bin/sh',
        '-c',
        PAUSE_SCRIPT,
        'kubemu-pause',
        options.hostname,
      ],
      { detached: true, input: LOOPBACK_BATCH.join('\n') + '\n' },
    ).catch((err: unknown) => {
      throw new NamespaceError(
        `cannot create the network of pod ${options.hostname}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    });
    const pod = new PodNet(options, pause.pid, vethName(options.id));
    try {
      await ipBatch(options.nodePrefix, [
        `link add ${pod.hostVeth} type veth peer name eth0 netns ${pause.pid}`,
        `link set ${pod.hostVeth} master ${POD_BRIDGE} up`,
      ]);
      await ipBatch(pod.prefix(), [
        `address add ${options.ip}/${cidr.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${cidr.gateway}`,
      ]);
    } catch (err) {
      await pod.destroy();
      throw new NamespaceError(
        `cannot connect pod ${options.hostname} to its node's bridge: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return pod;
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
