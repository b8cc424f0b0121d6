// `kubemu chaos partition NODE [--from NODE|control-plane]` and `heal [NODE]` for a netns cluster
// (`kubemu up --network=netns`): nftables rules in the node's own network namespace drop what crosses its uplink
// (`eth0`, its link to the sandbox bridge) to or from the cut side. The node's processes and pods keep running;
// they are only unreachable, as behind a failed switch port. The table is the only state, so `heal` reads it back.
import { launcher, type NetnsRecord } from '../cli/cluster/network.js';
import { runCommand } from '../netns/holder.js';
import { ChaosError, plainHint, type CommandHint } from './chaos.js';

/** the table every partition rule of a node lives in, in that node's network namespace */
export const CHAOS_TABLE = 'kubemu-chaos';
/** the node's uplink inside its namespace (node-net.ts) */
const UPLINK = 'eth0';

/** What a node is cut from: everything, the control plane (apiserver, DNS, ingress), or one other node. */
export type PartitionPeer = { kind: 'all' } | { kind: 'control-plane' } | { kind: 'node'; node: string };

/** the comment that names a rule's peer: `heal NODE` finds the rules that cut others from NODE by it */
export const peerLabel = (peer: PartitionPeer): string =>
  peer.kind === 'node' ? `from ${peer.node}` : `from ${peer.kind}`;

const describePeer = (peer: PartitionPeer): string =>
  peer.kind === 'all'
    ? 'the rest of the cluster'
    : peer.kind === 'control-plane'
      ? 'the control plane'
      : peer.node;

/** The nft script that adds a partition to the node's table (made if missing), `addresses` being the peer's. */
export function partitionScript(peer: PartitionPeer, addresses: readonly string[]): string {
  const comment = `comment "${peerLabel(peer)}"`;
  const lines = [
    `add table inet ${CHAOS_TABLE}`,
    ...['input', 'output', 'forward'].map(
      (hook) =>
        `add chain inet ${CHAOS_TABLE} ${hook} { type filter hook ${hook} priority -10; policy accept; }`,
    ),
  ];
  const rule = (chain: string, match: string): string =>
    `add rule inet ${CHAOS_TABLE} ${chain} ${match} drop ${comment}`;
  if (peer.kind === 'all') {
    lines.push(
      rule('input', `iifname "${UPLINK}"`),
      rule('output', `oifname "${UPLINK}"`),
      rule('forward', `iifname "${UPLINK}"`),
      rule('forward', `oifname "${UPLINK}"`),
    );
  } else {
    const set = `{ ${addresses.join(', ')} }`;
    lines.push(
      rule('input', `iifname "${UPLINK}" ip saddr ${set}`),
      rule('output', `oifname "${UPLINK}" ip daddr ${set}`),
      rule('forward', `iifname "${UPLINK}" ip saddr ${set}`),
      rule('forward', `oifname "${UPLINK}" ip daddr ${set}`),
    );
  }
  return lines.join('\n') + '\n';
}

/** One rule of the table as `nft -j -a list table` prints it: where it is and whom it cuts. */
export interface ChaosRule {
  chain: string;
  handle: number;
  comment: string;
}

/** The rules of `nft -j -a list table inet kubemu-chaos` output. */
export function parseRules(json: string): ChaosRule[] {
  const doc = JSON.parse(json) as { nftables?: Record<string, unknown>[] };
  const out: ChaosRule[] = [];
  for (const item of doc.nftables ?? []) {
    const r = item['rule'] as { chain?: string; handle?: number; comment?: string } | undefined;
    if (r?.chain && typeof r.handle === 'number')
      out.push({ chain: r.chain, handle: r.handle, comment: r.comment ?? '' });
  }
  return out;
}

export class NetworkChaos {
  constructor(
    private readonly net: NetnsRecord,
    private readonly hint: CommandHint = plainHint,
    /** runs argv with stdin, resolving with its stdout (tests pass a fake) */
    private readonly run: (argv: string[], input?: string) => Promise<string> = runCommand,
  ) {}

  get nodes(): string[] {
    return Object.keys(this.net.nodePids).sort();
  }

  /** Parses `--from`: absent means everything, `control-plane`, or another node's name. */
  peerOf(node: string, from: string | undefined): PartitionPeer {
    this.checkNode(node);
    if (from === undefined) return { kind: 'all' };
    if (from === 'control-plane') return { kind: 'control-plane' };
    if (from === node) throw new ChaosError(`--from ${from}: a node cannot be partitioned from itself`);
    if (!this.nodes.includes(from))
      throw new ChaosError(
        `--from ${from}: expected control-plane or another node (nodes: ${this.nodes.join(', ')})`,
      );
    return { kind: 'node', node: from };
  }

  async partition(node: string, peer: PartitionPeer): Promise<string[]> {
    this.checkNode(node);
    const label = peerLabel(peer);
    if ((await this.rules(node)).some((r) => r.comment === label))
      return [`${node} is already partitioned from ${describePeer(peer)}`];
    const addresses =
      peer.kind === 'control-plane'
        ? [this.net.gateway]
        : peer.kind === 'node'
          ? await this.addressesOf(peer.node)
          : [];
    await this.nft(node, ['-f', '-'], partitionScript(peer, addresses));
    const effect =
      peer.kind === 'node'
        ? `${node} and ${peer.node} (and their pods) no longer reach each other`
        : `its kubelet cannot reach the apiserver: the node goes NotReady and its pods are evicted after their tolerations; its pods keep running, unreachable from ${describePeer(peer)}`;
    return [
      `partitioned ${node} from ${describePeer(peer)} (nftables table ${CHAOS_TABLE} in its network namespace): ${effect}; undo with '${this.hint(`chaos heal ${node}`)}'`,
    ];
  }

  /** Removes every partition of `node` (its own, and other nodes' from it), or of every node. */
  async heal(node?: string): Promise<string[]> {
    if (node !== undefined) this.checkNode(node);
    const lines: string[] = [];
    for (const n of this.nodes) {
      const rules = await this.rules(n);
      if (rules.length === 0) continue;
      const cuts = [...new Set(rules.map((r) => r.comment.replace(/^from /, '')))];
      if (node === undefined || n === node) {
        await this.nft(n, ['delete', 'table', 'inet', CHAOS_TABLE]);
        lines.push(`healed ${n} (was partitioned from ${cuts.map(readable).join(', ')})`);
        continue;
      }
      const mine = rules.filter((r) => r.comment === `from ${node}`);
      if (mine.length === 0) continue;
      const script = mine
        .map((r) => `delete rule inet ${CHAOS_TABLE} ${r.chain} handle ${r.handle}`)
        .join('\n');
      await this.nft(n, ['-f', '-'], script + '\n');
      lines.push(`healed ${n} (was partitioned from ${node})`);
    }
    if (lines.length === 0)
      lines.push(node === undefined ? 'no node is partitioned' : `${node} is not partitioned`);
    return lines;
  }

  private checkNode(node: string): void {
    if (!this.nodes.includes(node))
      throw new ChaosError(`no node "${node}" in this cluster (nodes: ${this.nodes.join(', ')})`);
  }

  /** the node's partition rules; none when it has no table */
  private async rules(node: string): Promise<ChaosRule[]> {
    try {
      return parseRules(await this.nft(node, ['-j', '-a', 'list', 'table', 'inet', CHAOS_TABLE]));
    } catch (err) {
      if (/Error: No such file or directory/.test((err as Error).message)) return [];
      throw err;
    }
  }

  /** a node's InternalIP and podCIDR, as its namespace holds them (eth0's address, cni0's network) */
  private async addressesOf(node: string): Promise<string[]> {
    const text = await this.run([
      ...launcher(this.net, node),
      'ip',
      '-j',
      '-4',
      'route',
      'show',
      'scope',
      'link',
    ]);
    const routes = JSON.parse(text) as { dst?: string; dev?: string; prefsrc?: string }[];
    const uplink = routes.find((r) => r.dev === UPLINK)?.prefsrc;
    const pods = routes.find((r) => r.dev === 'cni0')?.dst;
    if (!uplink || !pods)
      throw new ChaosError(`cannot read the addresses of ${node} from its network namespace`);
    return [uplink, pods];
  }

  private async nft(node: string, args: string[], input = ''): Promise<string> {
    try {
      return await this.run([...launcher(this.net, node), 'nft', ...args], input);
    } catch (err) {
      const message = (err as Error).message;
      if (/failed to execute nft/.test(message))
        throw new ChaosError(
          `partitions need the nft command (Debian: apt-get install nftables): ${message}`,
        );
      throw err;
    }
  }
}

const readable = (cut: string): string =>
  cut === 'all' ? 'the rest of the cluster' : cut === 'control-plane' ? 'the control plane' : cut;
