// The Docker Compose cluster's network: the netns model of `kubemu up --network=netns` (docs/design.md, "Network
// model") with Docker's containers as the namespaces, as kind does it. Every container is on one compose network,
// PREFIX.0.0/16 (KUBEMU_NET_PREFIX, default 172.28): the control plane shares the apiserver container's namespace at
// PREFIX.0.2 (the sandbox bridge's role: the apiserver, DNS and ingress all listen there), node N is PREFIX.1.N with
// its pods on cni0 in 10.244.N.0/24, and every node routes each other node's podCIDR via that node's address
// (kindnet's routes; from the address plan, so a node added later is routed already) and masquerades what its pods
// send outside the pod network (kindnet's ip-masq). The host reaches the nodes' NodePorts at their addresses, the
// apiserver and ingress through published ports, LoadBalancer IPs through cloud-lb on the host network.
import { join } from 'node:path';
import { parseCidr } from '../../netns/cidr.js';
import { podBridgeBatch } from '../../netns/node-net.js';
import type { ClusterSettings } from './components.js';
import type { NodeLayout } from './layout.js';
import { MAX_NODES } from './layout.js';
import { NETNS_CLUSTER_CIDR, type NetnsRecord } from './network.js';

export const DEFAULT_NET_PREFIX = '172.28';

/** The compose network's first two octets (KUBEMU_NET_PREFIX), checked: a.b with both in 0..255. */
export function composeNetPrefix(env: NodeJS.ProcessEnv = process.env): string {
  const prefix = env['KUBEMU_NET_PREFIX'] || DEFAULT_NET_PREFIX;
  const m = /^(\d{1,3})\.(\d{1,3})$/.exec(prefix);
  if (!m || Number(m[1]) > 255 || Number(m[2]) > 255)
    throw new Error(`KUBEMU_NET_PREFIX=${prefix}: want the compose network's first two octets, e.g. 172.28`);
  return prefix;
}

/** Where the compose cluster's things are on its network (and on the host). */
export interface ComposeAddresses {
  /** the compose network, PREFIX.0.0/16 */
  subnet: string;
  /** the apiserver container: the apiserver, controller-manager, scheduler, DNS and ingress share its namespace */
  controlPlane: string;
  /** the apiserver for the host (a published port) */
  hostApiIp: string;
  /** the ingress for the host (published ports 80 and 443) */
  ingressIp: string;
  /** LoadBalancer IPs: cloud-lb runs on the host network and binds them there */
  lbPool: string;
}

export function composeAddresses(prefix: string): ComposeAddresses {
  return {
    subnet: `${prefix}.0.0/16`,
    controlPlane: `${prefix}.0.2`,
    hostApiIp: '127.0.0.1',
    ingressIp: '127.0.3.1',
    lbPool: '127.0.2.0/24',
  };
}

/** Node N of the compose cluster: PREFIX.1.N on the compose network, pods in upstream's 10.244.N.0/24. */
export function composeNodeLayout(
  stateDir: string,
  index: number,
  prefix: string,
  name = `node-${index}`,
): NodeLayout {
  if (!Number.isInteger(index) || index < 1 || index > MAX_NODES)
    throw new Error(`node index ${index}: 1..${MAX_NODES}`);
  return {
    name,
    ip: `${prefix}.1.${index}`,
    podCidr: `10.244.${index}.0/24`,
    rootDir: join(stateDir, 'nodes', name),
  };
}

/**
 * The cluster's settings as the components' plan (components.ts) reads them: netns mode with the control plane at
 * the apiserver container's address. The record has no holders (Docker holds the namespaces): the netns publisher,
 * which needs them, is not a compose service.
 */
export function composeClusterSettings(opts: {
  name: string;
  stateDir: string;
  prefix: string;
  port: number;
  kubeletPort: number;
  /** composeNodeLayout's */
  nodes: readonly NodeLayout[];
  cpu: string;
  memory: string;
}): ClusterSettings {
  const a = composeAddresses(opts.prefix);
  const netns: NetnsRecord = {
    slot: 0,
    rootless: false,
    sandboxPid: 0,
    nodePids: {},
    gateway: a.controlPlane,
    lbPool: a.lbPool,
    ingress: { http: `http://${a.ingressIp}`, https: `https://${a.ingressIp}` },
  };
  return {
    name: opts.name,
    stateDir: opts.stateDir,
    // the host's (cloud-lb, the user's kubeconfig); components on the compose network use the inner one
    apiServerUrl: `https://${a.hostApiIp}:${opts.port}`,
    innerApiServerUrl: `https://${a.controlPlane}:${opts.port}`,
    port: opts.port,
    kubeletPort: opts.kubeletPort,
    nodes: [...opts.nodes],
    cpu: opts.cpu,
    memory: opts.memory,
    netns,
  };
}

/** the compose services: what is not one (the netns publisher: Docker publishes the ports) is left out */
export const COMPOSE_SKIPPED_COMPONENTS = ['netns-publisher'];

/** `route add` of every other node's podCIDR via that node's address (all MAX_NODES of the plan, but `self`) */
function podRoutes(prefix: string, self?: number): string[] {
  const out: string[] = [];
  for (let i = 1; i <= MAX_NODES; i++) {
    if (i === self) continue;
    const pods = parseCidr(`10.244.${i}.0/24`);
    out.push(`route replace ${pods.network}/${pods.prefixLength} via ${prefix}.1.${i}`);
  }
  return out;
}

/** node N's `ip -batch`: the pod bridge cni0 (as `kubemu up --network=netns` makes it) and the other nodes' routes */
export function composeNodeIpBatch(prefix: string, index: number): string[] {
  return [...podBridgeBatch(composeNodeLayout('/', index, prefix).podCidr), ...podRoutes(prefix, index)];
}

/** the control plane's `ip -batch`: routes to every node's pods (the ingress and apiserver connect to pod IPs) */
export function composeControlPlaneIpBatch(prefix: string): string[] {
  return podRoutes(prefix);
}

/** the nftables table of a node's masquerade (kindnet's ip-masq-agent role) */
export const MASQ_TABLE = 'kubemu-masq';

/**
 * A node's `nft -f` script: what its pods send beyond the pod network (the control plane, the host) leaves with
 * the node's address, so the control plane needs no route back for replies; pod to pod keeps the pod IPs.
 */
export function composeNodeMasquerade(): string {
  const pods = NETNS_CLUSTER_CIDR;
  return [
    `table ip ${MASQ_TABLE}`,
    `delete table ip ${MASQ_TABLE}`,
    `table ip ${MASQ_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${pods} ip daddr != ${pods} oifname "eth0" masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}
