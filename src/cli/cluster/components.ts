// The processes of a local cluster: the apiserver, then one row per component kind (add kube-proxy etc. here).
import {
  CONTROLLER_MANAGER_GROUPS,
  CONTROLLER_MANAGER_USER,
  MASTERS_GROUP,
  SCHEDULER_USER,
  ensureComponentToken,
  ensureNodeToken,
} from '../../apiserver/auth/token-file.js';
import { join } from 'node:path';
import { defaultDnsListen } from '../../util/dns-address.js';
import { writeKubeconfig } from '../../util/kubeconfig.js';
import {
  ensureKubeletServingCertificate,
  KUBELET_PKI_FILES,
  type CertificateAuthority,
} from '../../util/pki.js';
import {
  clusterPaths,
  componentKubeconfig,
  componentLog,
  kubeletCertDir,
  type NodeLayout,
} from './layout.js';

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
}

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
    }
  | {
      command: string;
      scope: 'node';
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
    args: () => [],
  },
  // upstream's identity, bound to system:kube-scheduler and system:volume-scheduler by the bootstrap policy
  { command: 'scheduler', scope: 'cluster', user: SCHEDULER_USER, args: () => [] },
  // the ingress gateway, DNS and LoadBalancer provider have no upstream bootstrap role: system:masters for now
  {
    command: 'ingress',
    scope: 'cluster',
    user: 'system:kube-ingress',
    groups: [MASTERS_GROUP],
    args: () => [],
  },
  // 127.96.0.10:53, or :1053 when this machine won't let us bind port 53; the kubelets point pods at it
  {
    command: 'dns',
    scope: 'cluster',
    user: DNS_USER,
    groups: [MASTERS_GROUP],
    args: () => ['--listen', clusterDnsAddress(), '--zone', CLUSTER_DOMAIN],
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
      ...['--cluster-dns', clusterDnsAddress(), '--cluster-domain', CLUSTER_DOMAIN],
      ...(c.containerLogMaxSize ? ['--container-log-max-size', c.containerLogMaxSize] : []),
      ...(c.containerLogMaxFiles ? ['--container-log-max-files', String(c.containerLogMaxFiles)] : []),
    ],
  },
  { command: 'kube-proxy', scope: 'node', args: (_c, n) => ['--node-name', n.name, '--node-ip', n.ip] },
  { command: 'cloud-lb', scope: 'cluster', user: CLOUD_LB_USER, groups: [MASTERS_GROUP], args: () => [] },
];

/** One process to start: its pm2 name, the `kubemu` argv that runs it, its log file. */
export interface PlannedProcess {
  name: string;
  argv: string[];
  logFile: string;
  /** a kubelet: Ready nodes need it, so it starts with the apiserver (see `kubemu up`) */
  gatesReady?: boolean;
}

export function apiServerProcess(c: ClusterSettings): PlannedProcess {
  return {
    name: 'apiserver',
    argv: ['apiserver', '--state-dir', c.stateDir, '--port', String(c.port), '--name', c.name],
    logFile: componentLog(c.stateDir, 'apiserver'),
  };
}

/**
 * Each node kubelet's serving certificate, signed by the cluster CA for the node's IP and name, in its cert dir:
 * the apiserver verifies it when it calls the kubelet (logs, metrics). Kept across starts while still valid.
 */
export async function ensureKubeletCertificates(c: ClusterSettings, ca: CertificateAuthority): Promise<void> {
  for (const node of c.nodes) await ensureKubeletServingCertificate(ca, kubeletCertDir(node), node);
}

/**
 * Every component after the apiserver, with its credential: a token in the state dir's token file
 * (the apiserver re-reads it on an unknown token) and a kubeconfig of its own.
 */
export function planComponents(c: ClusterSettings, caPem: string): PlannedProcess[] {
  const planned: PlannedProcess[] = [];
  const add = (command: string, name: string, token: string, args: string[], gatesReady = false): void => {
    const kubeconfig = componentKubeconfig(c.stateDir, name);
    writeKubeconfig(kubeconfig, {
      name: c.name,
      server: c.apiServerUrl,
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
    });
  };
  for (const kind of COMPONENTS) {
    if (kind.scope === 'cluster')
      add(
        kind.command,
        kind.command,
        ensureComponentToken(c.stateDir, kind.user, kind.groups ?? []),
        kind.args(c),
      );
  }
  for (const node of c.nodes) {
    const token = ensureNodeToken(c.stateDir, node.name);
    for (const kind of COMPONENTS) {
      if (kind.scope === 'node')
        add(kind.command, `${kind.command}-${node.name}`, token, kind.args(c, node), kind.gatesReady);
    }
  }
  return planned;
}
