// `kubemu up --network=netns`: the cluster in a network namespace of its own (docs/design.md, "Network model").
// Picks the cluster's slot S (its host addresses 127.S.x.y), makes the sandbox and one namespace per node, says where
// each component runs, and tears it all down again by the holders' PIDs.
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { nsenterArgs, killHolder } from '../../netns/holder.js';
import { NodeNet } from '../../netns/node-net.js';
import { Sandbox } from '../../netns/sandbox.js';
import { mayBindPort } from '../../util/privileged-ports.js';
import { checkPortFree } from './api.js';
import { commandLine, isAlive } from './processes.js';
import type { NodeLayout } from './layout.js';

/** `loopback`: every node and pod on the host's loopback; `netns`: the cluster in a namespace, one per pod. */
export type NetworkMode = 'loopback' | 'netns';

/** upstream's defaults, used inside the sandbox */
export const NETNS_SERVICE_CIDR = '10.96.0.0/12';
export const NETNS_CLUSTER_CIDR = '10.244.0.0/16';
export const NETNS_DNS_IP = '10.96.0.10';
/** the `kubernetes` Service's ClusterIP: a name of the apiserver's serving certificate */
export const NETNS_KUBERNETES_IP = '10.96.0.1';
/** the most clusters side by side: slots 0..254 (127.S.x.y) */
const MAX_SLOT = 254;

/** Where one cluster's things are, for its slot S. */
export interface SlotAddresses {
  slot: number;
  /** the apiserver on the host: 127.0.0.1 for slot 0 (what the README documents), else 127.S.0.1 */
  hostApiIp: string;
  /** the sandbox bridge: the control plane's address inside, every node's gateway */
  gateway: string;
  /** LoadBalancer IPs on the host */
  lbPool: string;
  /** the ingress on the host */
  ingressIp: string;
}

export function slotAddresses(slot: number): SlotAddresses {
  return {
    slot,
    hostApiIp: slot === 0 ? '127.0.0.1' : `127.${slot}.0.1`,
    gateway: `127.${slot}.1.254`,
    lbPool: `127.${slot}.2.0/24`,
    ingressIp: `127.${slot}.3.1`,
  };
}

/** Node N of a netns cluster: 127.S.1.N (inside and on the host), pods in upstream's 10.244.N.0/24. */
export function netnsNodeLayout(
  stateDir: string,
  index: number,
  slot: number,
  name = `node-${index}`,
): NodeLayout {
  return {
    name,
    ip: `127.${slot}.1.${index}`,
    podCidr: `10.244.${index}.0/24`,
    rootDir: join(stateDir, 'nodes', name),
  };
}

/** The ingress's ports on the host: 80/443, or 8080/8443 where this user may not bind those (as loopback mode). */
export const hostIngressPorts = (): { http: number; https: number } => ({
  http: mayBindPort(80) ? 80 : 8080,
  https: mayBindPort(443) ? 443 : 8443,
});

/**
 * The lowest slot whose host addresses (the apiserver's port, the ingress's) are free here, trying `preferred` (the
 * slot of this cluster's last run) first. Another running cluster holds its slot's addresses, so it is skipped.
 */
export async function chooseSlot(apiPort: number, preferred: number | undefined): Promise<number> {
  const ports = hostIngressPorts();
  const free = async (slot: number): Promise<boolean> => {
    const a = slotAddresses(slot);
    try {
      await checkPortFree(a.hostApiIp, apiPort);
      await checkPortFree(a.ingressIp, ports.http);
      await checkPortFree(a.ingressIp, ports.https);
      return true;
    } catch {
      return false;
    }
  };
  if (preferred !== undefined && (await free(preferred))) return preferred;
  for (let slot = 0; slot <= MAX_SLOT; slot++) if (await free(slot)) return slot;
  throw new Error(`no free cluster slot: 127.S.0.1:${apiPort} is taken for every S from 0 to ${MAX_SLOT}`);
}

/** What `up` records of a netns cluster's network, so `status` and `down` find it again. */
export interface NetnsRecord {
  slot: number;
  rootless: boolean;
  /** the sandbox's holder */
  sandboxPid: number;
  /** each node's holder, by node name */
  nodePids: Record<string, number>;
  /** the bridge address: the apiserver, DNS and ingress inside */
  gateway: string;
  /** LoadBalancer IPs on the host */
  lbPool: string;
  /** the ingress on the host, as URLs */
  ingress: { http: string; https: string };
}

/** Makes the sandbox and every node's namespace; on a failure removes what it made. */
export async function startClusterNetwork(
  name: string,
  slot: number,
  nodes: readonly NodeLayout[],
): Promise<NetnsRecord> {
  const a = slotAddresses(slot);
  const sandbox = await Sandbox.create({ name, bridgeAddress: `${a.gateway}/24` });
  const made: NodeNet[] = [];
  try {
    // one after another: each is a handful of short execs, and in parallel they only contend for the CPU
    for (const n of nodes)
      made.push(await NodeNet.create(sandbox, { name: n.name, address: n.ip, podCidr: n.podCidr }));
  } catch (err) {
    await sandbox.destroy();
    throw err;
  }
  const ports = hostIngressPorts();
  return {
    slot,
    rootless: sandbox.rootless,
    sandboxPid: sandbox.holderPid,
    nodePids: Object.fromEntries(made.map((n) => [n.name, n.holderPid])),
    gateway: a.gateway,
    lbPool: a.lbPool,
    ingress: {
      http: ports.http === 80 ? `http://${a.ingressIp}` : `http://${a.ingressIp}:${ports.http}`,
      https: ports.https === 443 ? `https://${a.ingressIp}` : `https://${a.ingressIp}:${ports.https}`,
    },
  };
}

/** The argv prefix that runs a command in the sandbox (`node` undefined) or on a node. */
export function launcher(net: NetnsRecord, node?: string): string[] {
  const pid = node === undefined ? net.sandboxPid : net.nodePids[node];
  if (pid === undefined) throw new Error(`no network namespace recorded for node ${node}`);
  return nsenterArgs({ pid, user: net.rootless, net: true, mount: true, uts: true });
}

/**
 * Kills the node holders and the sandbox holder; the namespaces, bridges, veths and the sandbox's mounts go with
 * their last process (the components, killed before). Resolves once every holder is gone.
 */
export async function stopClusterNetwork(net: NetnsRecord): Promise<void> {
  const holders = networkPids(net).filter(isHolder);
  const namespaces = new Set(holders.map(netnsOf).filter((ns) => ns !== ''));
  for (const pid of holders) await killHolder(pid);
  // a component pm2 restarted while `down` stopped it (or any other straggler) still holds a namespace of ours
  const stragglers = processesIn(namespaces);
  for (const pid of stragglers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  for (const pid of stragglers) if (isAlive(pid)) await killHolder(pid);
}

const netnsOf = (pid: number): string => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return '';
  }
};

/** Every process whose network namespace is one of `namespaces` (by /proc/PID/ns/net), this one excepted. */
function processesIn(namespaces: Set<string>): number[] {
  if (namespaces.size === 0) return [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (namespaces.has(netnsOf(pid))) out.push(pid);
  }
  return out;
}

/** Alive and still a holder (`sleep infinity` of the sandbox, `tail --pid` of a node), not a recycled PID. */
export const isHolder = (pid: number): boolean =>
  isAlive(pid) && /^(sleep infinity|tail --pid=)/.test(commandLine(pid));

/** Every holder PID of the record (for the leftovers check of `down`). */
export const networkPids = (net: NetnsRecord): number[] => [...Object.values(net.nodePids), net.sandboxPid];
