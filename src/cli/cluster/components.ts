// The processes of a local cluster: the apiserver, then one row per component kind (add kube-proxy etc. here).
import {
  CONTROLLER_MANAGER_GROUPS,
  CONTROLLER_MANAGER_USER,
  SCHEDULER_USER,
  ensureComponentToken,
  ensureNodeToken,
} from '../../apiserver/auth/token-file.js';
import { join } from 'node:path';
import { LOCAL_PATH_GROUPS, LOCAL_PATH_USER } from '../../api/storage/local-path-addon.js';
import { defaultDnsListen } from '../../util/dns-address.js';
import { writeKubeconfig } from '../../util/kubeconfig.js';
import {
  ensureKubeletServingCertificate,
  KUBELET_PKI_FILES,
  PKI_FILES,
  type CertificateAuthority,
} from '../../util/pki.js';
import {
  clusterPaths,
  componentKubeconfig,
  componentLog,
  kubeletCertDir,
  type NodeLayout,
} from './layout.js';
import {
  NETNS_CLUSTER_CIDR,
  NETNS_DNS_IP,
  NETNS_KUBERNETES_IP,
  NETNS_SERVICE_CIDR,
  type NetnsRecord,
} from './network.js';

/** upstream's cloud-controller-manager identity, which runs the LoadBalancer service controller */
const CLOUD_LB_USER = 'system:cloud-controller-manager';
/** upstream's CoreDNS runs as this service account */
const DNS_USER = 'system:serviceaccount:kube-system:coredns';
const CLUSTER_DOMAIN = 'cluster.local';
/** where the cluster DNS listens; KUBEMU_CLUSTER_DNS=IP:PORT moves it (e.g. when another cluster holds the default) */
export const clusterDnsAddress = (): string => process.env['KUBEMU_CLUSTER_DNS'] || defaultDnsListen();

export interface ClusterSettings {
  name: string;
  stateDir: string;
  apiServerUrl: string;
  port: number;
  kubeletPort: number;
  nodes: NodeLayout[];
  /** per node */
  cpu: string;
  memory: string;
  /** the kubelets' --container-log-max-size / --container-log-max-files (their defaults, 10Mi × 5, when unset) */
  containerLogMaxSize?: string;
  containerLogMaxFiles?: number;
  /** the apiserver's --encryption-provider-config (encryption at rest; off when unset) */
  encryptionProviderConfig?: string;
  /** netns mode: the cluster's network (its slot, sandbox and node holders); loopback mode when unset */
  netns?: NetnsRecord;
  /** netns mode: the apiserver as the components inside the sandbox reach it (https://127.S.1.254:PORT) */
  innerApiServerUrl?: string;
}

/** the kubeconfig (in the state dir's kubeconfigs) of the kubelets' built-in local-path provisioner */
const PROVISIONER_KUBECONFIG = 'local-path-provisioner';

/** upstream's kube-proxy identity (bound to system:node-proxier): the netns publisher reads Services as it does */
const KUBE_PROXY_USER = 'system:kube-proxy';

/**
 * A kind of component: `command` is the `kubemu <command>` that runs it; `args` are its arguments besides
 * `--kubeconfig FILE`, which every component gets. A cluster-scoped one runs once and authenticates as
 * `user`; a node-scoped one runs per node (named `<command>-<node>`) with that node's identity.
 */
export type ComponentKind =
  | {
      command: string;
      scope: 'cluster';
      user: string;
      /** its groups besides system:authenticated (system:masters where kubemu has no narrower role yet) */
      groups?: readonly string[];
      args(cluster: ClusterSettings): string[];
      /** netns mode: runs in the host's network namespace (default: inside the cluster's sandbox) */
      host?: true;
      /** runs only in netns mode */
      netnsOnly?: true;
      gatesReady?: true;
    }
  | {
      command: string;
      scope: 'node';
      /** its own identity (one credential for every node's instance); default: the node's, `system:node:<name>` */
      user?: string;
      /** started with the apiserver, before the rest: what `kubemu up` waits for (Ready nodes) needs only these */
      gatesReady?: true;
      args(cluster: ClusterSettings, node: NodeLayout): string[];
    };

/** One line per component kind; started in this order, the kubelets (gatesReady) with the apiserver. */
export const COMPONENTS: readonly ComponentKind[] = [
  {
    command: 'controller-manager',
    scope: 'cluster',
    user: CONTROLLER_MANAGER_USER,
    groups: CONTROLLER_MANAGER_GROUPS,
    // the csrsigning controller signs approved CertificateSigningRequests with the cluster CA, as kubeadm sets it up;
    // the legacy token controller signs with the ServiceAccount key; the root CA goes into kube-root-ca.crt
    args: (c) => [
      // each controller as its own ServiceAccount, bound to its system:controller:* role (kubeadm sets it too)
      '--use-service-account-credentials',
      // one controller-manager (and one scheduler) per cluster: nothing to elect, and a leader whose apiserver is
      // paused past the renew deadline would exit and restart (upstream's "leaderelection lost"); several, as in an
      // HA control plane, elect through their Lease (--leader-elect, the binaries' default)
      '--leader-elect=false',
      ...['--cluster-signing-cert-file', clusterPaths(c.stateDir).caCert],
      ...['--cluster-signing-key-file', join(clusterPaths(c.stateDir).pki, PKI_FILES.caKey)],
      ...['--root-ca-file', clusterPaths(c.stateDir).caCert],
      ...[
        '--service-account-private-key-file',
        join(clusterPaths(c.stateDir).pki, PKI_FILES.serviceAccountKey),
      ],
    ],
  },
  // upstream's identity, bound to system:kube-scheduler and system:volume-scheduler by the bootstrap policy
  {
    command: 'scheduler',
    scope: 'cluster',
    user: SCHEDULER_USER,
    args: () => ['--leader-elect=false'],
  },
  // the ingress gateway, DNS and LoadBalancer provider: the roles their upstream add-ons' manifests grant
  // (src/apiserver/auth/rbac/kubemu-policy.ts), no system:masters
  {
    command: 'ingress',
    scope: 'cluster',
    user: 'system:kube-ingress',
    // netns: on the sandbox's bridge, published to the host at 127.S.3.1 (which its Ingresses' status names)
    args: (c) =>
      c.netns
        ? [
            ...['--http', `${c.netns.gateway}:80`, '--https', `${c.netns.gateway}:443`],
            ...['--status-ip', new URL(c.netns.ingress.http).hostname],
          ]
        : [],
  },
  // 127.96.0.10:53, or :1053 when this machine won't let us bind port 53; the kubelets point pods at it. netns: on
  // the sandbox's bridge, behind the kube-dns Service's ClusterIP 10.96.0.10 (kubemu up makes it)
  {
    command: 'dns',
    scope: 'cluster',
    user: DNS_USER,
    args: (c) => [
      ...['--listen', c.netns ? `${c.netns.gateway}:53` : clusterDnsAddress()],
      ...['--zone', CLUSTER_DOMAIN],
    ],
  },
  {
    command: 'kubelet',
    scope: 'node',
    gatesReady: true,
    args: (c, n) => [
      ...['--node-name', n.name, '--node-ip', n.ip, '--pod-cidr', n.podCidr],
      ...['--cpu', c.cpu, '--memory', c.memory, '--root-dir', n.rootDir, '--port', String(c.kubeletPort)],
      // its serving certificate (ensureKubeletCertificates) and the CA of the apiserver's client certificate
      ...['--tls-cert-file', join(kubeletCertDir(n), KUBELET_PKI_FILES.cert)],
      ...['--tls-private-key-file', join(kubeletCertDir(n), KUBELET_PKI_FILES.key)],
      ...['--client-ca-file', clusterPaths(c.stateDir).caCert],
      // the cluster's image store (`kubemu image build`) lives in the state dir
      ...['--state-dir', c.stateDir],
      ...['--cluster-dns', c.netns ? NETNS_DNS_IP : clusterDnsAddress(), '--cluster-domain', CLUSTER_DOMAIN],
      ...(c.netns ? ['--pod-network', 'netns'] : []),
      ...(c.containerLogMaxSize ? ['--container-log-max-size', c.containerLogMaxSize] : []),
      ...(c.containerLogMaxFiles ? ['--container-log-max-files', String(c.containerLogMaxFiles)] : []),
      // the built-in local-path provisioner runs as its ServiceAccount, not as the node (planProcesses writes it)
      ...['--local-path-provisioner-kubeconfig', componentKubeconfig(c.stateDir, PROVISIONER_KUBECONFIG)],
    ],
  },
  // upstream's kube-proxy identity, bound to system:node-proxier by the bootstrap policy
  {
    command: 'kube-proxy',
    scope: 'node',
    user: KUBE_PROXY_USER,
    args: (c, n) => [
      ...['--node-name', n.name, '--node-ip', n.ip],
      ...(c.netns ? ['--proxy-mode', 'nftables', '--cluster-cidr', NETNS_CLUSTER_CIDR] : []),
    ],
  },
  // netns: on the host, where its LoadBalancer IPs must be; it sends to the NodePorts the publisher puts there
  {
    command: 'cloud-lb',
    scope: 'cluster',
    user: CLOUD_LB_USER,
    host: true,
    args: (c) => (c.netns ? ['--pool', c.netns.lbPool] : []),
  },
  // netns: the host's side (apiserver, ingress, NodePorts); the apiserver is reached through it, so it starts first
  {
    command: 'netns-publisher',
    scope: 'cluster',
    user: KUBE_PROXY_USER,
    host: true,
    netnsOnly: true,
    gatesReady: true,
    args: (c) => netnsPublisherArgs(c),
  },
];

/** The publisher's fixed addresses: the apiserver (the host's URL) and the ingress; NodePorts on every node's IP. */
function netnsPublisherArgs(c: ClusterSettings): string[] {
  const net = c.netns!;
  const api = new URL(c.apiServerUrl);
  const http = new URL(net.ingress.http);
  const https = new URL(net.ingress.https);
  return [
    ...['--sandbox-pid', String(net.sandboxPid), ...(net.rootless ? ['--rootless'] : [])],
    ...['--publish', `${api.hostname}:${c.port}=${net.gateway}:${c.port}`],
    ...['--publish', `${http.hostname}:${http.port || 80}=${net.gateway}:80`],
    ...['--publish', `${https.hostname}:${https.port || 443}=${net.gateway}:443`],
    ...['--node-ips', c.nodes.map((n) => n.ip).join(',')],
  ];
}

/** One process to start: its pm2 name, the `kubemu` argv that runs it, its log file. */
export interface PlannedProcess {
  name: string;
  /** a program other than kubemu itself (etcd): `argv` is then its whole argument list */
  program?: string;
  /** environment besides the cluster's (KUBEMU_HOSTNAME of a control-plane member) */
  env?: Record<string, string>;
  argv: string[];
  logFile: string;
  /** a kubelet: Ready nodes need it, so it starts with the apiserver (see `kubemu up`) */
  gatesReady?: boolean;
  /** netns mode: where it runs (the host's namespace, the sandbox, or a node's namespace) */
  placement?: { in: 'host' } | { in: 'sandbox' } | { in: 'node'; node: string };
}

export function apiServerProcess(c: ClusterSettings): PlannedProcess {
  return {
    name: 'apiserver',
    argv: [
      ...['apiserver', '--state-dir', c.stateDir, '--port', String(c.port), '--name', c.name],
      // netns: on the sandbox's bridge (the `kubernetes` Service's endpoint), upstream's Service range
      ...(c.netns ? ['--host', c.netns.gateway, '--service-cluster-ip-range', NETNS_SERVICE_CIDR] : []),
      ...(c.netns ? ['--tls-san', new URL(c.apiServerUrl).hostname, '--tls-san', NETNS_KUBERNETES_IP] : []),
      ...(c.encryptionProviderConfig ? ['--encryption-provider-config', c.encryptionProviderConfig] : []),
    ],
    logFile: componentLog(c.stateDir, 'apiserver'),
    ...(c.netns ? { placement: { in: 'sandbox' as const } } : {}),
  };
}

/**
 * Each node kubelet's serving certificate, signed by the cluster CA for the node's IP and name, in its cert dir:
 * the apiserver verifies it when it calls the kubelet (logs, metrics). Kept across starts while still valid.
 */
export async function ensureKubeletCertificates(c: ClusterSettings, ca: CertificateAuthority): Promise<void> {
  await Promise.all(c.nodes.map((node) => ensureKubeletServingCertificate(ca, kubeletCertDir(node), node)));
}

/**
 * Every component after the apiserver, with its credential: a token in the state dir's token file
 * (the apiserver re-reads it on an unknown token) and a kubeconfig of its own.
 */
export function planComponents(c: ClusterSettings, caPem: string): PlannedProcess[] {
  return planProcesses(c, caPem, c.nodes, true);
}

/** The kubelet and kube-proxy of one node, with its credential (`kubemu node add` starts these on a running cluster). */
export function planNodeComponents(c: ClusterSettings, caPem: string, node: NodeLayout): PlannedProcess[] {
  return planProcesses(c, caPem, [node], false);
}

function planProcesses(
  c: ClusterSettings,
  caPem: string,
  nodes: readonly NodeLayout[],
  clusterScoped: boolean,
): PlannedProcess[] {
  const planned: PlannedProcess[] = [];
  const add = (
    command: string,
    name: string,
    token: string,
    args: string[],
    gatesReady = false,
    placement?: PlannedProcess['placement'],
  ): void => {
    const kubeconfig = componentKubeconfig(c.stateDir, name);
    const inside = placement !== undefined && placement.in !== 'host';
    writeKubeconfig(kubeconfig, {
      name: c.name,
      server: inside && c.innerApiServerUrl ? c.innerApiServerUrl : c.apiServerUrl,
      caPem,
      token,
      setCurrent: true,
      format: 'json',
    });
    planned.push({
      name,
      argv: [command, '--kubeconfig', kubeconfig, ...args],
      logFile: componentLog(c.stateDir, name),
      ...(gatesReady ? { gatesReady } : {}),
      ...(placement ? { placement } : {}),
    });
  };
  for (const kind of COMPONENTS) {
    if (!clusterScoped || kind.scope !== 'cluster' || (kind.netnsOnly && !c.netns)) continue;
    const placement = c.netns ? { in: kind.host ? ('host' as const) : ('sandbox' as const) } : undefined;
    const token = ensureComponentToken(c.stateDir, kind.user, kind.groups ?? []);
    add(kind.command, kind.command, token, kind.args(c), kind.gatesReady, placement);
  }
  // one credential for every node's provisioner: ServiceAccount kube-system/local-path-provisioner-service-account
  // as a static token, bound to local-path-provisioner-role by the apiserver's storage add-on
  if (nodes.length)
    writeKubeconfig(componentKubeconfig(c.stateDir, PROVISIONER_KUBECONFIG), {
      name: c.name,
      server: c.netns && c.innerApiServerUrl ? c.innerApiServerUrl : c.apiServerUrl,
      caPem,
      token: ensureComponentToken(c.stateDir, LOCAL_PATH_USER, LOCAL_PATH_GROUPS),
      setCurrent: true,
      format: 'json',
    });
  for (const node of nodes) {
    const nodeToken = ensureNodeToken(c.stateDir, node.name);
    for (const kind of COMPONENTS) {
      if (kind.scope !== 'node') continue;
      const token = kind.user ? ensureComponentToken(c.stateDir, kind.user) : nodeToken;
      const placement = c.netns ? { in: 'node' as const, node: node.name } : undefined;
      add(
        kind.command,
        `${kind.command}-${node.name}`,
        token,
        kind.args(c, node),
        kind.gatesReady,
        placement,
      );
    }
  }
  return planned;
}
