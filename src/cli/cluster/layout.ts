// Where a cluster keeps things: its state dir's files, its nodes' names and addresses, and the record of a run.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { kubemuCommand, shellQuote } from '../../util/cli-command.js';
import type { NetnsRecord } from './network.js';
import type { ControlPlaneLayout } from './control-plane.js';

/** dist/cli/main.js: what every component process runs (`node CLI_MAIN <component> ...`) */
export const CLI_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

export const DEFAULT_CLUSTER_NAME = 'kubemu';
export const DEFAULT_API_PORT = 6443;
export const DEFAULT_KUBELET_PORT = 10250;

/** `~/.kubemu/NAME` unless a state dir is given. */
export function defaultStateDir(name: string, home = homedir()): string {
  return join(home, '.kubemu', name);
}

/**
 * The `kubemu <command>` that acts on this cluster, as the user can type it here: `--name` always (it says which),
 * `--state-dir` only when it is not the default.
 */
export const clusterCommand = (command: string, name: string, stateDir: string): string =>
  `${kubemuCommand()} ${command} --name ${name}` +
  (stateDir === defaultStateDir(name) ? '' : ` --state-dir ${shellQuote(stateDir)}`);

/** The user's kubeconfig as kubectl picks it: `--kubeconfig`, then $KUBECONFIG's first entry, then ~/.kube/config. */
export function userKubeconfigPath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  home = homedir(),
): string {
  if (explicit) return resolve(explicit);
  const first = (env['KUBECONFIG'] ?? '').split(delimiter).find((p) => p !== '');
  return first ? resolve(first) : join(home, '.kube', 'config');
}

export interface NodeLayout {
  name: string;
  ip: string;
  podCidr: string;
  rootDir: string;
}

/** Node N (1-based): node-N on 127.0.1.N with pods in 127.244.N.0/24, as DESIGN's network model says. */
export function nodeLayout(stateDir: string, index: number, name = `node-${index}`): NodeLayout {
  return {
    name,
    ip: `127.0.1.${index}`,
    podCidr: `127.244.${index}.0/24`,
    rootDir: join(stateDir, 'nodes', name),
  };
}

/** A node kubelet's --cert-dir (upstream's /var/lib/kubelet/pki): its serving certificate and key. */
export const kubeletCertDir = (node: NodeLayout): string => join(node.rootDir, 'pki');

/** The most nodes the address plan allows: 127.0.1.N and 127.244.N.0/24 need N in 1..254. */
export const MAX_NODES = 254;

export const clusterPaths = (stateDir: string) => ({
  stateDir,
  /** pm2's own home: its daemon, socket and pid files live with the cluster, never in the user's home */
  pm2Home: join(stateDir, 'pm2'),
  logs: join(stateDir, 'logs'),
  kubeconfigs: join(stateDir, 'kubeconfigs'),
  pki: join(stateDir, 'pki'),
  caCert: join(stateDir, 'pki', 'ca.crt'),
  runRecord: join(stateDir, 'cluster.json'),
  /** the network the cluster was made with (`loopback` or `netns`), kept across down/up like its database */
  networkMode: join(stateDir, 'network'),
  /** this run's isolation probe, for its kubelets (kubelet/runtime/isolation-probe.ts) */
  isolationProbe: join(stateDir, 'isolation-probe.json'),
});

export const componentKubeconfig = (stateDir: string, component: string): string =>
  join(clusterPaths(stateDir).kubeconfigs, `${component}.kubeconfig`);

export const componentLog = (stateDir: string, component: string): string =>
  join(clusterPaths(stateDir).logs, `${component}.log`);

/** What `up` records about a run, so `status` and `down` need no flags beyond the name or state dir. */
export interface RunRecord {
  name: string;
  stateDir: string;
  /** pm2 (background) or foreground (children of the `kubemu up --foreground` process) */
  mode: 'pm2' | 'foreground';
  apiServerUrl: string;
  port: number;
  kubeletPort: number;
  nodes: NodeLayout[];
  /** the user's kubeconfig the context was merged into */
  kubeconfig: string;
  /** the `kubemu up --foreground` process, in foreground mode */
  supervisorPid?: number;
  /** every component process started, by pm2 name */
  pids: Record<string, number>;
  /** foreground mode: how often the supervisor restarted each component (pm2 counts its own) */
  restarts?: Record<string, number>;
  startedAt: string;
  /** netns mode: the cluster's network namespaces and host addresses (loopback mode when absent) */
  network?: NetnsRecord;
  /** loopback because this machine could not run netns (the default): why, and what to install */
  networkFallback?: string;
  /** `--storage etcd`: the etcd members and apiservers (SQLite and one apiserver when absent) */
  controlPlane?: ControlPlaneLayout;
  /** each node's capacity and log rotation, for nodes added later (`kubemu node add`) */
  nodeSettings?: { cpu: string; memory: string; containerLogMaxSize?: string; containerLogMaxFiles?: number };
}

export function readRunRecord(stateDir: string): RunRecord | undefined {
  const file = clusterPaths(stateDir).runRecord;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
}

export function writeRunRecord(record: RunRecord): void {
  writeFileAtomic(clusterPaths(record.stateDir).runRecord, `${JSON.stringify(record, null, 2)}\n`, 0o600);
}
