// A pod's network, as upstream's pause container and CNI bridge plugin make it: its own network and UTS namespace
// held by a pause process, `lo`, a veth `eth0` on the node's cni0, the pod IP and a default route; the pod's
// containers join it (`nsenter --target PAUSE --net --uts`), so they share localhost, the pod IP and the hostname.
// Few processes a pod, so a burst of 100 stays quick: the pause's own shell configures the pod's side (`lo`, `eth0`,
// route) in the one `ip -batch` it runs anyway, and the node's side of every pod of a burst (the veths into cni0)
// goes into one shared `ip -batch` run (link-batch.ts).
import { spawn } from 'node:child_process';
import { parseCidr } from './cidr.js';
import { NamespaceError, isAlive, killHolder, nsenterArgs, type Enter } from './holder.js';
import { IpBatcher } from './link-batch.js';
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
// It says `netns` once its namespaces exist; the kubelet then adds the veth into it and writes the pod side's
// `ip` commands to its stdin. The hostname is a shell write where /proc allows it (root), `hostname` otherwise.
const PAUSE_SCRIPT =
  'set -e; { echo "$1" > /proc/sys/kernel/hostname; } 2>/dev/null || hostname "$1"; ' +
  LOCALNET_SYSCTLS +
  'echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start; ' +
  // (in a rootless sandbox only group 0 is mapped, and the kernel refuses a range of unmapped groups)
  "{ echo '0 2147483647' > /proc/sys/net/ipv4/ping_group_range; } 2>/dev/null || echo '0 0' > /proc/sys/net/ipv4/ping_group_range; " +
  'echo netns; ip -batch -; echo ready; exec sleep infinity </dev/null >/dev/null 2>&1';

/** one batcher per node (its nsenter prefix): the node side of a burst of pods in one `ip` run */
const nodeBatchers = new Map<string, IpBatcher>();
function nodeBatcher(prefix: string[]): IpBatcher {
  const key = prefix.join('\0');
  let b = nodeBatchers.get(key);
  if (!b) nodeBatchers.set(key, (b = new IpBatcher(prefix)));
  return b;
}

interface Pause {
  pid: number;
  /** writes the pod side's `ip` commands; resolves once the pause ran them and said ready */
  configure(commands: string[]): Promise<void>;
}

/**
 * Spawns the pause (detached: its own process group, as the kubelet watches it) and resolves once its namespaces
 * exist; rejects with what it wrote on stderr when it exits or takes longer than `timeoutMs` at either step.
 */
function startPause(argv: string[], timeoutMs = 20_000): Promise<Pause> {
  return new Promise((resolveStart, rejectStart) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let stage: 'start' | 'configure' | 'done' = 'start';
    let onReady: { resolve: () => void; reject: (err: Error) => void } | undefined;
    let failed: Error | undefined;
    const fail = (why: string): void => {
      if (stage === 'done') return;
      const err = new NamespaceError(`${argv.slice(-3).join(' ')}: ${why}`);
      failed = err;
      if (stage === 'start') rejectStart(err);
      else onReady?.reject(err);
      stage = 'done';
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    let timer = setTimeout(
      () => fail(`no network namespace after ${timeoutMs} ms: ${stderr.trim()}`),
      timeoutMs,
    );
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stage === 'start' && /^netns$/m.test(stdout)) {
        stage = 'configure';
        clearTimeout(timer);
        resolveStart({
          pid: child.pid!,
          configure: (commands) =>
            new Promise<void>((resolve, reject) => {
              if (failed) return reject(failed);
              onReady = { resolve, reject };
              timer = setTimeout(
                () => fail(`not configured after ${timeoutMs} ms: ${stderr.trim()}`),
                timeoutMs,
              );
              child.stdin.end(commands.join('\n') + '\n');
              check();
            }),
        });
      }
      check();
    });
    const check = (): void => {
      if (stage !== 'configure' || !onReady || !/^ready$/m.test(stdout)) return;
      stage = 'done';
      clearTimeout(timer);
      // release our pipes: the pause outlives them (its script redirects its stdio before it settles)
      child.stdout.destroy();
      child.stderr.destroy();
      child.unref();
      onReady.resolve();
    };
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) =>
      fail(stderr.trim() || (signal ? `killed by ${signal}` : `exited with status ${code}`)),
    );
  });
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
    const pause = await startPause([
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
    ]).catch((err: unknown) => {
      throw new NamespaceError(
        `cannot create the network of pod ${options.hostname}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    });
    const pod = new PodNet(options, pause.pid, vethName(options.id));
    try {
      await nodeBatcher(options.nodePrefix).run([
        `link add ${pod.hostVeth} type veth peer name eth0 netns ${pause.pid}`,
        `link set ${pod.hostVeth} master ${POD_BRIDGE} up`,
      ]);
      await pause.configure([
        ...LOOPBACK_BATCH,
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
