// `kubemu node add|remove NAME`: a node joining or leaving a running cluster started with `kubemu up` (under pm2) — its
// kubelet and kube-proxy started or stopped (netns: in a network namespace of its own on the cluster's bridge, made
// before and removed after), the run record updated so `status` and `down` know it.
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { ensureTokenFile } from '../../apiserver/auth/token-file.js';
import { readCertificateAuthority, ensureKubeletServingCertificate } from '../../util/pki.js';
import { privateDir, privateFile } from '../../util/private-files.js';
import { CliError } from '../cli-error.js';
import { deleteObject, listNodeObjects, readyHeartbeat, type ApiTarget } from './api.js';
import { planNodeComponents, type ClusterSettings } from './components.js';
import {
  CLI_MAIN,
  MAX_NODES,
  clusterCommand,
  clusterPaths,
  kubeletCertDir,
  nodeLayout,
  writeRunRecord,
  type NodeLayout,
  type RunRecord,
} from './layout.js';
import { Pm2Cluster, type ProcessSpec } from './pm2.js';
import { clusterPids, runningState } from './running.js';
import { isHolder, launcher, netnsNodeLayout, type NetnsRecord } from './network.js';
import { isAlive, terminate } from './processes.js';
import { findProgram } from '../../util/find-program.js';
import { killHolder } from '../../netns/holder.js';
import { NodeNet } from '../../netns/node-net.js';
import { Sandbox } from '../../netns/sandbox.js';

export interface NodeCommandOptions {
  /** the cluster */
  name: string;
  stateDir: string;
  /** the node */
  node: string;
  out?: Writable;
  /** how long `add` waits for the node to be Ready (default 60 s) */
  timeoutMs?: number;
}

/** A Node's name: a DNS-1123 subdomain (upstream ValidateNodeName), kept to 63 characters here as it names files. */
export function checkNodeName(command: string, node: string | undefined): string {
  if (!node)
    throw new CliError(`kubemu node ${command}: give the node's name, e.g. kubemu node ${command} node-4`, 2);
  if (!/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(node) || node.includes('..'))
    throw new CliError(
      `kubemu node ${command}: "${node}" is not a valid node name: lowercase letters, digits, '-' and '.', ` +
        'starting and ending with a letter or digit, at most 63 characters',
      2,
    );
  return node;
}

/** The cluster as `up` recorded it: running, under pm2 — else what to do instead. */
function runningRecord(command: string, opts: NodeCommandOptions): RunRecord {
  const state = runningState(opts.stateDir);
  const record = state.record;
  if (!state.running || !record)
    throw new CliError(
      `kubemu node ${command}: cluster "${opts.name}" is not running (state dir ${opts.stateDir}); ` +
        `start it with: ${clusterCommand('up', opts.name, opts.stateDir)}`,
    );
  if (record.mode !== 'pm2')
    throw new CliError(
      `kubemu node ${command}: cluster "${opts.name}" runs in the foreground (kubemu up --foreground), whose ` +
        'processes only that command can start; nodes are added to and removed from a cluster started without --foreground',
    );
  if (record.network && !isHolder(record.network.sandboxPid))
    throw new CliError(
      `kubemu node ${command}: the network namespace of cluster "${opts.name}" is gone (its holder, pid ` +
        `${record.network.sandboxPid}, was killed); start the cluster again: ` +
        `${clusterCommand('down', opts.name, opts.stateDir)} && ${clusterCommand('up', opts.name, opts.stateDir)}`,
    );
  return record;
}

function adminTarget(record: RunRecord, agent?: Agent): ApiTarget {
  const { adminToken } = ensureTokenFile(record.stateDir);
  const ca = readFileSync(clusterPaths(record.stateDir).caCert, 'utf8');
  return { url: record.apiServerUrl, ca, token: adminToken, ...(agent ? { agent } : {}) };
}

/** Node N of the cluster's network: 127.0.1.N (loopback) or 127.S.1.N with pods in 10.244.N.0/24 (netns). */
const layoutOf = (record: RunRecord, index: number, name?: string): NodeLayout =>
  record.network
    ? netnsNodeLayout(record.stateDir, index, record.network.slot, name)
    : nodeLayout(record.stateDir, index, name);

/** The lowest node number whose address (127.0.1.N, netns 127.S.1.N) no node of the cluster holds. */
function freeIndex(record: RunRecord): number {
  const used = new Set(record.nodes.map((n) => n.ip));
  for (let i = 1; i <= MAX_NODES; i++) if (!used.has(layoutOf(record, i).ip)) return i;
  throw new CliError(
    `kubemu node add: cluster "${record.name}" has ${MAX_NODES} nodes, the most its addresses allow`,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function nodeAdd(opts: NodeCommandOptions): Promise<NodeLayout> {
  const out = opts.out ?? process.stdout;
  const started = Date.now();
  const record = runningRecord('add', opts);
  if (record.nodes.some((n) => n.name === opts.node))
    throw new CliError(
      `kubemu node add: node "${opts.node}" already exists in cluster "${opts.name}" ` +
        `(nodes: ${record.nodes.map((n) => n.name).join(', ')})`,
    );
  const node = layoutOf(record, freeIndex(record), opts.node);
  const paths = clusterPaths(record.stateDir);
  const ca = readCertificateAuthority(paths.pki);
  if (!ca) throw new CliError(`kubemu node add: no cluster CA in ${paths.pki}; is this a kubemu state dir?`);
  await ensureKubeletServingCertificate(ca, kubeletCertDir(node), node);
  // netns: the node's own namespace on the cluster's bridge first (the VM before its kubelet), recorded at once so
  // `down` removes it whatever happens next
  const network = record.network
    ? await addNodeNetwork(record, record.network, node, opts.timeoutMs ?? 60_000)
    : undefined;
  const settings: ClusterSettings = {
    name: record.name,
    stateDir: record.stateDir,
    apiServerUrl: record.apiServerUrl,
    port: record.port,
    kubeletPort: record.kubeletPort,
    nodes: [...record.nodes, node],
    cpu: record.nodeSettings?.cpu ?? '2',
    memory: record.nodeSettings?.memory ?? '4Gi',
    ...(record.nodeSettings?.containerLogMaxSize
      ? { containerLogMaxSize: record.nodeSettings.containerLogMaxSize }
      : {}),
    ...(record.nodeSettings?.containerLogMaxFiles
      ? { containerLogMaxFiles: record.nodeSettings.containerLogMaxFiles }
      : {}),
    ...(network ? { netns: network, innerApiServerUrl: `https://${network.gateway}:${record.port}` } : {}),
  };
  const processes = planNodeComponents(settings, ca.certPem, node);
  const pm2 = await Pm2Cluster.connect(paths.pm2Home, false);
  try {
    const env = { KUBEMU_LOG_LEVEL: process.env['KUBEMU_LOG_LEVEL'] ?? 'info' };
    for (const p of processes) {
      privateDir(dirname(p.logFile));
      privateFile(p.logFile);
      await pm2.start(processSpec(p, network, env, record.stateDir));
    }
    const pids = Object.fromEntries(
      (await pm2.list()).filter((p) => processes.some((q) => q.name === p.name)).map((p) => [p.name, p.pid]),
    );
    // recorded before waiting: `down` stops the node even if it never becomes Ready
    writeRunRecord({
      ...record,
      nodes: settings.nodes,
      pids: { ...record.pids, ...pids },
      ...(network ? { network } : {}),
    });
  } finally {
    pm2.disconnect();
  }
  out.write(`node/${node.name} started (kubelet and kube-proxy at ${node.ip}, pods ${node.podCidr})\n`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const target = adminTarget(record, agent);
    const deadline = started + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const found = (await listNodeObjects(target).catch(() => [])).find(
        (n) => n.metadata?.name === node.name,
      );
      const ready = found?.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (found && ready && readyHeartbeat(found) >= Math.floor(started / 1000) * 1000) break;
      if (Date.now() > deadline)
        throw new CliError(
          `kubemu node add: node "${node.name}" did not become Ready within ${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s; ` +
            `see ${processes.find((p) => p.name.startsWith('kubelet-'))?.logFile ?? paths.logs}`,
        );
      await sleep(100);
    }
  } finally {
    agent.destroy();
  }
  out.write(`node/${node.name} Ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  return node;
}

/**
 * Stops the node's kubelet and kube-proxy (its containers die with the kubelet, as on a VM switched off) and deletes
 * its Node object, after which the pod GC deletes the pods bound to it and their controllers replace them elsewhere.
 * Like deleting a VM, this does not drain: `kubectl drain NAME --ignore-daemonsets` first evicts the pods gracefully.
 */
export async function nodeRemove(opts: NodeCommandOptions): Promise<void> {
  const out = opts.out ?? process.stdout;
  const record = runningRecord('remove', opts);
  const node = record.nodes.find((n) => n.name === opts.node);
  if (!node)
    throw new CliError(
      `kubemu node remove: cluster "${opts.name}" has no node "${opts.node}" ` +
        `(nodes: ${record.nodes.map((n) => n.name).join(', ') || 'none'})`,
    );
  const names = Object.keys(record.pids).filter(
    (p) => p === `kubelet-${node.name}` || p === `kube-proxy-${node.name}`,
  );
  // the node's processes and their children (containers, pod holders), collected before they stop
  const tree = clusterPids(names.map((n) => record.pids[n]).filter((pid) => isAlive(pid)));
  const pm2 = await Pm2Cluster.connect(clusterPaths(record.stateDir).pm2Home, false);
  try {
    for (const name of names) await pm2.delete(name);
  } finally {
    pm2.disconnect();
  }
  await terminate(tree.filter(isAlive), 2_000);
  // netns: the node's namespace (its uplink veth, pod bridge and route go with it) once nothing runs in it
  const holder = record.network?.nodePids[node.name];
  if (holder !== undefined && isHolder(holder)) await killHolder(holder);
  const network = record.network
    ? {
        ...record.network,
        nodePids: Object.fromEntries(
          Object.entries(record.network.nodePids).filter(([n]) => n !== node.name),
        ),
      }
    : undefined;
  const pids = Object.fromEntries(Object.entries(record.pids).filter(([p]) => !names.includes(p)));
  writeRunRecord({
    ...record,
    nodes: record.nodes.filter((n) => n !== node),
    pids,
    ...(network ? { network } : {}),
  });
  out.write(
    `node/${node.name}: kubelet and kube-proxy stopped${network ? ', its network namespace removed' : ''}\n`,
  );
  await deleteObject(adminTarget(record), `/api/v1/nodes/${node.name}`);
  out.write(`node/${node.name} deleted\n`);
}

/** Makes the node's network namespace in the cluster's sandbox and records its holder; the record with it. */
async function addNodeNetwork(
  record: RunRecord,
  net: NetnsRecord,
  node: NodeLayout,
  timeoutMs: number,
): Promise<NetnsRecord> {
  const sandbox = Sandbox.attach(record.name, net.sandboxPid, net.rootless, `${net.gateway}/24`);
  // the holder within the command's own budget: a loaded machine takes longer than the 20 s default
  const options = { name: node.name, address: node.ip, podCidr: node.podCidr, timeoutMs };
  const made = await NodeNet.create(sandbox, options).catch((err: unknown) => {
    throw new CliError(`kubemu node add: ${(err as Error).message}`, 1, { cause: err });
  });
  const network = { ...net, nodePids: { ...net.nodePids, [node.name]: made.holderPid } };
  writeRunRecord({ ...record, network });
  return network;
}

/** A node component for pm2: `node main.js ...`, or (netns) nsenter into the node's namespaces execing it. */
function processSpec(
  p: { name: string; argv: string[]; logFile: string; placement?: { in: string; node?: string } },
  network: NetnsRecord | undefined,
  env: Record<string, string>,
  cwd: string,
): ProcessSpec {
  const main = [CLI_MAIN, ...p.argv];
  if (!network || p.placement?.in !== 'node')
    return { name: p.name, args: main, env, logFile: p.logFile, cwd };
  const prefix = launcher(network, p.placement.node);
  return {
    name: p.name,
    command: findProgram('nsenter'),
    args: [...prefix.slice(1), process.execPath, ...main],
    env,
    logFile: p.logFile,
    cwd,
  };
}

/** add or remove, on the cluster's pm2 processes or its compose containers (`auto`: pm2 when it runs under pm2) */
export async function nodeCommand(
  action: 'add' | 'remove',
  mode: 'auto' | 'pm2' | 'docker',
  opts: NodeCommandOptions,
): Promise<void> {
  const docker =
    mode === 'docker' ||
    (mode === 'auto' && !runningState(opts.stateDir).running && (await composeCluster(opts.name)));
  if (docker) {
    const { ComposeNodes } = await import('./compose-nodes.js');
    const nodes = new ComposeNodes(opts.name);
    if (action === 'add') await nodes.add(opts);
    else await nodes.remove(opts);
    return;
  }
  if (action === 'add') await nodeAdd(opts);
  else await nodeRemove(opts);
}

async function composeCluster(name: string): Promise<boolean> {
  const { DockerChaos } = await import('../../chaos/docker-backend.js');
  return DockerChaos.detect(name);
}
