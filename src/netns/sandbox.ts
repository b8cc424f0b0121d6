// The cluster sandbox: one network+mount+UTS namespace (in a user namespace of its own when not root) that holds
// every node, bridge and pod of one cluster, so kubemu never touches the host's routes, sysctls or firewall.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { isIpv4, parseCidr } from './cidr.js';
import {
  NamespaceError,
  isAlive,
  killHolder,
  nsenterArgs,
  runCommand,
  startHolder,
  type Enter,
} from './holder.js';

/** The sandbox's bridge: every node's uplink is a port of it. */
export const SANDBOX_BRIDGE = 'kubemu0';

export interface SandboxOptions {
  /** the cluster's name: the sandbox's hostname */
  name: string;
  /** the node network as the sandbox's bridge holds it: its own address and prefix, e.g. 127.0.1.254/24 */
  bridgeAddress: string;
  /** an unprivileged user + network namespace (the default when not root), as rootless podman does */
  rootless?: boolean;
  /**
   * Make and enter the sandbox as this unprivileged user (a root caller: tests, which run rootless scenarios side by
   * side with root ones); implies rootless. setpriv, not runuser: it execs, so PIDs stay the programs' own.
   */
  runAs?: { uid: number; gid: number };
}

// Every namespace kubemu makes routes 127/8 beyond itself: route_localnet, and lo keeps only 127.0.0.1/32 (so
// 127.0.1.N is a node's address, not this namespace's loopback). Shared by the node holders.
export const LOCALNET_SYSCTLS =
  'echo 1 > /proc/sys/net/ipv4/conf/all/route_localnet; echo 1 > /proc/sys/net/ipv4/conf/default/route_localnet; ';
export const LOOPBACK_BATCH = [
  'link set lo up',
  'address del 127.0.0.1/8 dev lo',
  'address add 127.0.0.1/32 dev lo',
];

// Forwards between the nodes without ICMP redirects (a node is told to go to its peer directly otherwise), then
// prints ready and holds the namespaces with its stdio closed.
const SANDBOX_SCRIPT =
  'set -e; hostname "$1"; ' +
  LOCALNET_SYSCTLS +
  'echo 1 > /proc/sys/net/ipv4/ip_forward; ' +
  'echo 0 > /proc/sys/net/ipv4/conf/all/send_redirects; echo 0 > /proc/sys/net/ipv4/conf/default/send_redirects; ' +
  'ip -batch -; echo ready; exec sleep infinity </dev/null >/dev/null 2>&1';

export class Sandbox {
  private constructor(
    readonly name: string,
    readonly holderPid: number,
    readonly rootless: boolean,
    /** the bridge's address and prefix, e.g. 127.0.1.254/24: the node network */
    readonly bridgeAddress: string,
    /** what runs a command as the sandbox's user ([] when that is us) */
    readonly callerPrefix: string[],
    private readonly holder?: ChildProcess,
  ) {}

  /** the bridge's address: the control plane's address in the cluster, every node's default gateway */
  get gateway(): string {
    return this.bridgeAddress.split('/')[0];
  }

  /** the node network's prefix length */
  get prefixLength(): number {
    return Number(this.bridgeAddress.split('/')[1]);
  }

  /**
   * Starts the holder: detached (its own session), so it outlives the process that made it; it lives until
   * destroy() (or `kubemu down`) kills it.
   */
  static async create(options: SandboxOptions): Promise<Sandbox> {
    const rootless = options.runAs !== undefined || (options.rootless ?? process.getuid?.() !== 0);
    const caller = options.runAs ? runAsPrefix(options.runAs) : [];
    const address = options.bridgeAddress.split('/')[0] ?? '';
    if (!isIpv4(address) || !options.bridgeAddress.includes('/')) {
      throw new NamespaceError(`invalid sandbox bridge address "${options.bridgeAddress}": want a.b.c.d/n`);
    }
    parseCidr(options.bridgeAddress);
    const argv = [
      ...caller,
      'unshare',
      ...(rootless ? ['--user', '--map-root-user'] : []),
      '--net',
      '--mount',
      '--uts',
      '--',
      '/bin/sh',
      '-c',
      SANDBOX_SCRIPT,
      'kubemu-sandbox',
      options.name,
    ];
    const batch = [
      ...LOOPBACK_BATCH,
      `link add ${SANDBOX_BRIDGE} type bridge`,
      `address add ${options.bridgeAddress} dev ${SANDBOX_BRIDGE}`,
      `link set ${SANDBOX_BRIDGE} up`,
    ];
    const started = await startHolder(argv, { detached: true, input: batch.join('\n') + '\n' }).catch(
      (err: unknown) => {
        throw new NamespaceError(
          `cannot create the cluster's network namespace${rootless ? ' (rootless: user namespaces must be allowed)' : ''}: ${(err as Error).message}`,
          { cause: err },
        );
      },
    );
    return new Sandbox(options.name, started.pid, rootless, options.bridgeAddress, caller, started.child);
  }

  /** A sandbox made earlier (by `kubemu up`), from its holder's PID. */
  static attach(name: string, holderPid: number, rootless: boolean, bridgeAddress: string): Sandbox {
    if (!isAlive(holderPid))
      throw new NamespaceError(`the network sandbox of cluster ${name} (PID ${holderPid}) is gone`);
    return new Sandbox(name, holderPid, rootless, bridgeAddress, []);
  }

  /** What to enter: the user namespace first when rootless, then network, mount and UTS. */
  enter(): Enter {
    return { pid: this.holderPid, user: this.rootless, net: true, mount: true, uts: true };
  }

  /** The argv prefix that runs a command inside the sandbox. */
  prefix(): string[] {
    return [...this.callerPrefix, ...nsenterArgs(this.enter())];
  }

  /** Runs `argv` inside the sandbox to completion; its stdout, or a rejection with its stderr. */
  run(argv: string[], input = ''): Promise<string> {
    return runCommand([...this.prefix(), ...argv], input);
  }

  /** Spawns `argv` inside the sandbox (a component, a node holder). */
  spawn(argv: string[], options: SpawnOptions = {}): ChildProcess {
    const all = [...this.prefix(), ...argv];
    return spawn(all[0], all.slice(1), options);
  }

  get alive(): boolean {
    return isAlive(this.holderPid);
  }

  /** Kills the holder; node holders follow it within a second, and the namespaces go with their last process. */
  async destroy(): Promise<void> {
    await killHolder(this.holderPid);
    this.holder?.unref();
  }
}

function runAsPrefix(user: { uid: number; gid: number }): string[] {
  return ['setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--'];
}
