// `kubemu up --storage etcd [--control-plane N]`: the control plane's processes. SQLite (the default) is one apiserver
// on the cluster's port. etcd is N members (Debian's etcd-server, run by the supervisor as any component), and with
// N > 1, as kind's HA config: N apiservers on ports of their own behind one balancer on the cluster's port (kubectl and
// every component go through it), and a controller-manager and a scheduler per member electing a leader through their
// Lease (`--leader-elect`), the others standing by. The members' ports are chosen once and kept in the state dir
// (control-plane.json): etcd records its peers' URLs in its data, so a restart must find them where they were.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-file.js';
import { etcdMemberArgs } from '../../util/etcd-member.js';
import { findProgram } from '../../util/find-program.js';
import { freeLocalPort } from '../../util/free-port.js';
import { CliError } from '../cli-error.js';
import { apiServerProcess, type ClusterSettings, type PlannedProcess } from './components.js';
import { clusterPaths, componentLog } from './layout.js';

export type StorageKind = 'sqlite' | 'etcd';

export interface EtcdMemberLayout {
  /** etcd-N: its name in etcd and in the supervisor */
  name: string;
  clientPort: number;
  peerPort: number;
}

/** What control-plane.json keeps, and what the run record and `kubemu status` show. */
export interface ControlPlaneLayout {
  storage: 'etcd';
  /** control-plane members: etcd members, apiservers, controller-managers and schedulers each */
  members: number;
  etcd: EtcdMemberLayout[];
  /** the apiservers' own ports (the balancer's backends); one member: the cluster's port itself */
  apiServerPorts: number[];
}

export const controlPlaneFile = (stateDir: string): string => join(stateDir, 'control-plane.json');

export const etcdDataDir = (stateDir: string, member: string): string => join(stateDir, 'etcd', member);

/** KUBEMU_HOSTNAME of member i: the name its controller-manager and scheduler lead as (`<host>_<uuid>`). */
export const memberHost = (i: number): string => `control-plane-${i}`;

export function readControlPlane(stateDir: string): ControlPlaneLayout | undefined {
  try {
    return JSON.parse(readFileSync(controlPlaneFile(stateDir), 'utf8')) as ControlPlaneLayout;
  } catch {
    return undefined;
  }
}

/**
 * The control plane this `up` runs: the recorded one of an existing cluster (a different request is refused with
 * what to do), else a new one with free ports. Undefined: SQLite and one apiserver, as always.
 */
export async function prepareControlPlane(opts: {
  stateDir: string;
  name: string;
  port: number;
  storage: StorageKind | undefined;
  members: number | undefined;
  netns: boolean;
}): Promise<ControlPlaneLayout | undefined> {
  const recorded = readControlPlane(opts.stateDir);
  const storage = opts.storage ?? (recorded ? 'etcd' : 'sqlite');
  const members = opts.members ?? recorded?.members ?? 1;
  if (storage === 'sqlite') {
    if (recorded)
      throw new CliError(
        `cluster "${opts.name}" keeps its objects in etcd (${controlPlaneFile(opts.stateDir)}); start it with ` +
          `--storage etcd, or remove it with 'kubemu down --purge' to make it anew on SQLite`,
        2,
      );
    if (members !== 1)
      throw new CliError(
        `--control-plane ${members} needs --storage etcd: SQLite is one apiserver's file, several apiservers share etcd`,
        2,
      );
    return undefined;
  }
  if (opts.netns)
    throw new CliError(
      '--storage etcd runs on the loopback network for now (the netns network has one apiserver in its sandbox); ' +
        'add --network loopback',
      2,
    );
  if (existsSync(join(opts.stateDir, 'state.db')) && !recorded)
    throw new CliError(
      `cluster "${opts.name}" keeps its objects in SQLite (${join(opts.stateDir, 'state.db')}); start it without ` +
        `--storage etcd, or remove it with 'kubemu down --purge' to make it anew on etcd`,
      2,
    );
  if (recorded && recorded.members !== members)
    throw new CliError(
      `cluster "${opts.name}" was made with --control-plane ${recorded.members}; start it so, or remove it with ` +
        `'kubemu down --purge' to make it anew with ${members}`,
      2,
    );
  try {
    findProgram('etcd');
  } catch {
    throw new CliError(
      "--storage etcd needs etcd (not found in $PATH): install Debian's etcd-server (sudo apt-get install etcd-server)",
      1,
    );
  }
  if (recorded) return recorded;
  const etcd: EtcdMemberLayout[] = [];
  for (let i = 1; i <= members; i++)
    etcd.push({ name: `etcd-${i}`, clientPort: await freeLocalPort(), peerPort: await freeLocalPort() });
  const apiServerPorts: number[] = [];
  if (members === 1) apiServerPorts.push(opts.port);
  else for (let i = 1; i <= members; i++) apiServerPorts.push(await freeLocalPort());
  const layout: ControlPlaneLayout = { storage: 'etcd', members, etcd, apiServerPorts };
  writeFileAtomic(controlPlaneFile(opts.stateDir), `${JSON.stringify(layout, null, 2)}\n`, 0o600);
  return layout;
}

/** The ports the control plane will listen on (besides the cluster's own), for `up`'s check before it starts. */
export function controlPlanePorts(layout: ControlPlaneLayout): { port: number; who: string }[] {
  return [
    ...layout.etcd.flatMap((m) => [
      { port: m.clientPort, who: `${m.name} (clients)` },
      { port: m.peerPort, who: `${m.name} (peers)` },
    ]),
    ...(layout.members > 1
      ? layout.apiServerPorts.map((port, i) => ({ port, who: `apiserver-${i + 1}` }))
      : []),
  ];
}

export const etcdEndpoints = (layout: ControlPlaneLayout): string[] =>
  layout.etcd.map((m) => `http://127.0.0.1:${m.clientPort}`);

/** The control plane's own processes: the apiserver alone (SQLite), or etcd members, apiservers and the balancer. */
export function controlPlaneProcesses(
  c: ClusterSettings,
  layout: ControlPlaneLayout | undefined,
): PlannedProcess[] {
  if (!layout) return [apiServerProcess(c)];
  const etcd = findProgram('etcd');
  const members: PlannedProcess[] = layout.etcd.map((m) => ({
    name: m.name,
    program: etcd,
    argv: etcdMemberArgs({ ...m, dataDir: etcdDataDir(c.stateDir, m.name) }, layout.etcd, `kubemu-${c.name}`),
    logFile: componentLog(c.stateDir, m.name),
  }));
  const storageArgs = ['--storage', 'etcd', '--etcd-servers', etcdEndpoints(layout).join(',')];
  if (layout.members === 1) {
    const api = apiServerProcess(c);
    return [...members, { ...api, argv: [...api.argv, ...storageArgs] }];
  }
  const apiservers = layout.apiServerPorts.map((port, i): PlannedProcess => {
    const api = apiServerProcess({ ...c, port });
    const name = `apiserver-${i + 1}`;
    return {
      ...api,
      name,
      argv: [...api.argv, ...storageArgs, '--advertise-port', String(c.port)],
      logFile: componentLog(c.stateDir, name),
      env: { KUBEMU_HOSTNAME: memberHost(i + 1) },
    };
  });
  const balancer: PlannedProcess = {
    name: 'apiserver-lb',
    argv: [
      'apiserver-lb',
      ...['--listen', `${new URL(c.apiServerUrl).hostname}:${c.port}`],
      ...layout.apiServerPorts.flatMap((port) => ['--backend', `127.0.0.1:${port}`]),
      ...['--ca-file', clusterPaths(c.stateDir).caCert],
    ],
    logFile: componentLog(c.stateDir, 'apiserver-lb'),
  };
  return [...members, ...apiservers, balancer];
}

/**
 * The control plane in two steps, as kubeadm's `init` on the first member and `join` on the others: the first
 * apiserver bootstraps the cluster's objects (namespaces, RBAC, flow control) alone, and the others start once it
 * answers, finding them made (started together, they raced to create the same objects and the losers exited).
 */
export function controlPlaneWaves(
  c: ClusterSettings,
  layout: ControlPlaneLayout | undefined,
): { first: PlannedProcess[]; afterReady: PlannedProcess[] } {
  const all = controlPlaneProcesses(c, layout);
  const later = (p: PlannedProcess): boolean => /^apiserver-\d+$/.test(p.name) && p.name !== 'apiserver-1';
  return { first: all.filter((p) => !later(p)), afterReady: all.filter(later) };
}

/** The names `up` waits on before the API answers: the apiserver(s), and with etcd its members and the balancer. */
export function controlPlaneNames(layout: ControlPlaneLayout | undefined): string[] {
  if (!layout) return ['apiserver'];
  return [
    ...layout.etcd.map((m) => m.name),
    ...(layout.members === 1
      ? ['apiserver']
      : [...layout.apiServerPorts.map((_, i) => `apiserver-${i + 1}`), 'apiserver-lb']),
  ];
}

/**
 * With N > 1 members, one controller-manager and one scheduler per member, electing through their Lease
 * (`--leader-elect=true`, the binaries' default; a single instance keeps `--leader-elect=false`).
 */
export function controlPlaneComponents(
  components: PlannedProcess[],
  layout: ControlPlaneLayout | undefined,
  stateDir: string,
): PlannedProcess[] {
  if (!layout || layout.members === 1) return components;
  return components.flatMap((p) => {
    if (p.name !== 'controller-manager' && p.name !== 'scheduler') return [p];
    return Array.from({ length: layout.members }, (_, i): PlannedProcess => {
      const name = `${p.name}-${i + 1}`;
      return {
        ...p,
        name,
        argv: p.argv.map((a) => (a === '--leader-elect=false' ? '--leader-elect=true' : a)),
        logFile: componentLog(stateDir, name),
        env: { KUBEMU_HOSTNAME: memberHost(i + 1) },
      };
    });
  });
}
