// A node's network ("the VM"): its own network and UTS namespace inside the cluster sandbox, an uplink on the
// sandbox bridge at the node's InternalIP, and the pod bridge cni0 at the first address of the node's podCIDR.
import { createHash } from 'node:crypto';
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
import { LOCALNET_SYSCTLS, LOOPBACK_BATCH, SANDBOX_BRIDGE, type Sandbox } from './sandbox.js';

/** The node's pod bridge, as upstream's CNI bridge plugin names it. */
export const POD_BRIDGE = 'cni0';

export interface NodeNetOptions {
  /** the Node's name: its hostname */
  name: string;
  /** the node's InternalIP on the sandbox bridge, e.g. 127.0.1.1 */
  address: string;
  /** the Node's spec.podCIDR, e.g. 10.244.1.0/24 */
  podCidr: string;
  /** how long its holder may take to be ready (default 20 s; `kubemu node add` gives its own budget) */
  timeoutMs?: number;
}

// Routes for its pods (ip_forward), 127/8 beyond itself; holds the namespaces until the sandbox holder ($2) is
// gone (tail --pid), so a killed sandbox takes its node holders with it.
const NODE_SCRIPT =
  'set -e; hostname "$1"; ' +
  LOCALNET_SYSCTLS +
  'echo 1 > /proc/sys/net/ipv4/ip_forward; ' +
  'ip -batch -; echo ready; exec tail --pid="$2" -f /dev/null </dev/null >/dev/null 2>&1';

/** The veth end in the sandbox for `name` (15 characters at most, as Linux wants; upstream: veth + hex). */
export function vethName(name: string): string {
  return `veth${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

export class NodeNet {
  private constructor(
    readonly sandbox: Sandbox,
    readonly options: NodeNetOptions,
    readonly holderPid: number,
    /** the host side of its uplink, in the sandbox */
    readonly uplink: string,
  ) {}

  static async create(sandbox: Sandbox, options: NodeNetOptions): Promise<NodeNet> {
    const pods = parseCidr(options.podCidr);
    const holder = await startHolder(
      [
        ...sandbox.prefix(),
        'unshare',
        '--net',
        '--uts',
        '--',
        '/bin/sh',
        '-c',
        NODE_SCRIPT,
        'kubemu-node',
        options.name,
        String(sandbox.holderPid),
      ],
      {
        detached: true,
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        input:
          [
            ...LOOPBACK_BATCH,
            `link add ${POD_BRIDGE} type bridge`,
            `address add ${pods.gateway}/${pods.prefixLength} dev ${POD_BRIDGE}`,
            `link set ${POD_BRIDGE} up`,
          ].join('\n') + '\n',
      },
    ).catch((err: unknown) => {
      throw new NamespaceError(
        `cannot create the network of node ${options.name}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    });
    const node = new NodeNet(sandbox, options, holder.pid, vethName(options.name));
    try {
      await ipBatch(sandbox.prefix(), [
        `link add ${node.uplink} type veth peer name eth0 netns ${holder.pid}`,
        `link set ${node.uplink} master ${SANDBOX_BRIDGE} up`,
        // src: the kernel picks no source from a 127/8 address by itself, and the forwarder connects from here
        `route add ${pods.network}/${pods.prefixLength} via ${options.address} src ${sandbox.gateway}`,
      ]);
      await ipBatch(node.prefix(), [
        `address add ${options.address}/${sandbox.prefixLength} dev eth0`,
        'link set eth0 up',
        `route add default via ${sandbox.gateway} src ${options.address}`,
      ]);
    } catch (err) {
      await node.destroy();
      throw new NamespaceError(
        `cannot connect node ${options.name} to the cluster network: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return node;
  }

  get name(): string {
    return this.options.name;
  }

  get address(): string {
    return this.options.address;
  }

  /** The node's namespaces (mount: the sandbox's, which the node holder shares). */
  enter(): Enter {
    return { pid: this.holderPid, user: this.sandbox.rootless, net: true, mount: true, uts: true };
  }

  /** The argv prefix that runs a command on the node: its kubelet, its kube-proxy, hostNetwork pods. */
  prefix(): string[] {
    return [...this.sandbox.callerPrefix, ...nsenterArgs(this.enter())];
  }

  get alive(): boolean {
    return isAlive(this.holderPid);
  }

  /** Kills the holder; the namespace, its uplink and its route go once the node's last process has. */
  destroy(): Promise<void> {
    return killHolder(this.holderPid);
  }
}
