// `kubemu status`: where a cluster is and how it is doing, for people (text) and for scripts (-o json).
import { existsSync, readFileSync } from 'node:fs';
import { ADMIN_USER, readTokenFile, tokenFilePath } from '../../apiserver/auth/token-file.js';
import { contextName } from '../../util/kubeconfig.js';
import { dashboardUrl } from '../../dashboard/route.js';
import { ingressUrls } from '../../util/ingress-address.js';
import { isReady, listNodes, type ApiTarget } from './api.js';
import {
  clusterDegradations,
  formatDegradations,
  type Degradation,
  type NodeProblemSummary,
} from './degraded.js';
import { clusterCommand, clusterPaths } from './layout.js';
import { Pm2Cluster, type ManagedProcess } from './pm2.js';
import { runningState } from './running.js';
import { controlPlaneStatus, formatControlPlane, type ControlPlaneStatus } from './control-plane-status.js';

export interface ClusterStatus {
  name: string;
  stateDir: string;
  running: boolean;
  mode: 'pm2' | 'foreground' | null;
  apiServer: { url: string | null; ready: boolean };
  nodes: { name: string; internalIP: string | null; ready: string; degraded: NodeProblemSummary[] }[];
  ingress: { http: string | null; https: string | null };
  /** the run's network model; null when not running */
  networkMode: 'netns' | 'loopback' | null;
  /** loopback because this machine cannot run netns (the default): why, and what to install; null otherwise */
  networkFallback: string | null;
  /** netns mode: the cluster's slot and host addresses besides the apiserver, ingress and nodes; null in loopback */
  network: {
    slot: number;
    rootless: boolean;
    loadBalancers: string;
    sandboxPid: number;
    /** each node's namespace holder */
    nodePids: Record<string, number>;
  } | null;
  /** what runs degraded (the nodes' True *Degraded conditions, the ingress off :80/:443); empty when nothing does */
  degraded: Degradation[];
  /**
   * the web dashboard as the apiserver serves it, without a token: status output ends up in CI logs, and
   * `kubemu dashboard` serves the page with the kubeconfig's credentials instead
   */
  dashboard: string | null;
  kubeconfig: string | null;
  context: string;
  pm2: { home: string; daemonPid: number | null };
  processes: ManagedProcess[];
  /** `--storage etcd`: the members, which etcd member leads, which controller-manager/scheduler holds its Lease */
  controlPlane: ControlPlaneStatus | null;
}

/** The admin credentials `up` made, when the state dir has them. */
export function adminTarget(stateDir: string, url: string): ApiTarget | undefined {
  const paths = clusterPaths(stateDir);
  if (!existsSync(paths.caCert) || !existsSync(tokenFilePath(stateDir))) return undefined;
  const token = readTokenFile(tokenFilePath(stateDir)).find((e) => e.user === ADMIN_USER)?.token;
  return { url, ca: readFileSync(paths.caCert, 'utf8'), ...(token ? { token } : {}) };
}

export async function clusterStatus(name: string, stateDir: string): Promise<ClusterStatus> {
  const state = runningState(stateDir);
  const record = state.record;
  let processes: ManagedProcess[] = [];
  if (state.daemonPid !== undefined) {
    const pm2 = await Pm2Cluster.connect(clusterPaths(stateDir).pm2Home, false);
    try {
      processes = await pm2.list();
    } finally {
      pm2.disconnect();
    }
  } else if (record) {
    processes = Object.entries(record.pids).map(([process, pid]) => ({
      name: process,
      pid,
      status: state.livePids[process] !== undefined ? 'online' : 'stopped',
      restarts: record.restarts?.[process] ?? 0,
    }));
  }
  const url = record?.apiServerUrl ?? null;
  const target = url && state.running ? adminTarget(stateDir, url) : undefined;
  const ready = target ? await isReady(target) : false;
  let nodes: ClusterStatus['nodes'] = (record?.nodes ?? []).map((n) => ({
    name: n.name,
    internalIP: n.ip,
    ready: 'Unknown',
    degraded: [],
  }));
  if (target && ready) {
    try {
      nodes = (await listNodes(target)).map((n) => ({ ...n, internalIP: n.internalIP ?? null }));
    } catch {
      // keep the recorded nodes, readiness unknown
    }
  }
  const ingressRunning = processes.some((p) => p.name === 'ingress');
  const controlPlane =
    record?.controlPlane && state.running
      ? await controlPlaneStatus(record.controlPlane, ready ? target : undefined)
      : null;
  return {
    name,
    stateDir,
    running: state.running,
    mode: record?.mode ?? null,
    apiServer: { url, ready },
    dashboard: url ? dashboardUrl(url) : null,
    nodes,
    ingress: ingressRunning ? (record?.network?.ingress ?? ingressUrls()) : { http: null, https: null },
    network: record?.network
      ? {
          slot: record.network.slot,
          rootless: record.network.rootless,
          loadBalancers: record.network.lbPool,
          sandboxPid: record.network.sandboxPid,
          nodePids: record.network.nodePids,
        }
      : null,
    networkMode: record && state.running ? (record.network ? 'netns' : 'loopback') : null,
    networkFallback: (state.running && record?.networkFallback) || null,
    degraded: state.running ? clusterDegradations(nodes, ingressRunning, record?.networkFallback) : [],
    kubeconfig: record?.kubeconfig ?? null,
    context: contextName(name),
    pm2: { home: clusterPaths(stateDir).pm2Home, daemonPid: state.daemonPid ?? null },
    processes,
    controlPlane,
  };
}

/** `kubemu status`'s exit code for a cluster that is not running (minikube's for a stopped host, kubelet and apiserver). */
export const STOPPED_EXIT_CODE = 7;

export function formatStatus(s: ClusterStatus): string {
  if (!s.running) {
    return [
      `cluster     ${s.name}: Stopped`,
      `state dir   ${s.stateDir}`,
      '',
      `Start it with: ${clusterCommand('up', s.name, s.stateDir)}`,
      '',
    ].join('\n');
  }
  const lines = [
    `cluster     ${s.name} (${s.running ? `running${s.mode ? `, ${s.mode}` : ''}` : 'not running'})`,
    `state dir   ${s.stateDir}`,
    `API server  ${s.apiServer.url ?? '-'}${s.apiServer.url ? (s.apiServer.ready ? ' (ready)' : ' (not ready)') : ''}`,
    `ingress     http: ${s.ingress.http ?? 'not yet'}, https: ${s.ingress.https ?? 'not yet'}`,
    ...(s.network
      ? [
          `LB IPs      ${s.network.loadBalancers}`,
          `network     netns, slot ${s.network.slot}${s.network.rootless ? ' (rootless)' : ''}, sandbox pid ${s.network.sandboxPid}; NodePorts on each node's INTERNAL-IP`,
        ]
      : [
          `network     loopback${s.networkFallback ? ' (netns unavailable: see DEGRADED below)' : ''}; nodes and pods on the host's 127.x`,
        ]),
    `dashboard   ${clusterCommand('dashboard', s.name, s.stateDir)}`,
    `kubeconfig  ${s.kubeconfig ?? '-'} (context ${s.context})`,
    '',
    'NODE        INTERNAL-IP    READY',
    ...s.nodes.map((n) => `${n.name.padEnd(12)}${(n.internalIP ?? '-').padEnd(15)}${n.ready}`),
    ...(s.degraded.length
      ? ['', 'DEGRADED (kubectl describe node NODE says more)', ...formatDegradations(s.degraded, '')]
      : []),
    ...(s.controlPlane ? formatControlPlane(s.controlPlane) : []),
    '',
    'PROCESS               PID      STATUS    RESTARTS',
    ...s.processes.map(
      (p) => `${p.name.padEnd(22)}${String(p.pid).padEnd(9)}${p.status.padEnd(10)}${p.restarts}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
