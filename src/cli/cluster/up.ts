// `kubemu up`: start a local cluster (apiserver first, then the components), wait for Ready nodes, print where it is.
import { DEFAULT_HTTP, DEFAULT_HTTPS, ingressUrls } from '../../util/ingress-address.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { yaml } from '../../util/lazy-yaml.js';
import { dirname, join } from 'node:path';
import { ensureTokenFile } from '../../apiserver/auth/token-file.js';
import { contextName, removeFromKubeconfig, writeKubeconfig } from '../../util/kubeconfig.js';
import { ensureClusterPki } from '../../util/pki.js';
import { CliError } from '../cli-error.js';
import {
  checkPortFree,
  getJson,
  isReady,
  listNodeObjects,
  readyHeartbeat,
  summarizeNode,
  type ApiTarget,
  type NodeSummary,
} from './api.js';
import {
  clusterDnsAddress,
  ensureKubeletCertificates,
  planComponents,
  type ClusterSettings,
  type PlannedProcess,
} from './components.js';
import {
  CLI_MAIN,
  clusterCommand,
  clusterPaths,
  componentLog,
  nodeLayout,
  userKubeconfigPath,
  writeRunRecord,
  type RunRecord,
} from './layout.js';
import { clusterDegradations, formatDegradations } from './degraded.js';
import { compactLogLine, lastLogLines } from './log-lines.js';
import { Pm2Cluster, daemonPid, type ManagedProcess, type ProcessSpec } from './pm2.js';
import { ComponentFailed, FailureWatch, failedComponent, waitUntil } from './up-wait.js';
import { portHolder } from './port-holder.js';
import { Progress } from './progress.js';
import { shellQuote } from '../../util/cli-command.js';
import { clusterPids, runningState } from './running.js';
import { isAlive, terminate } from './processes.js';
import { DirectSupervisor, type Supervisor } from './supervisor.js';
import { privateDir, privateFile } from '../../util/private-files.js';
import { STATE_UMASK, secureStateDir, tightenTree } from './state-dir.js';
import {
  chooseSlot,
  launcher,
  NETNS_KUBERNETES_IP,
  netnsNodeLayout,
  slotAddresses,
  startClusterNetwork,
  stopClusterNetwork,
  type NetworkMode,
} from './network.js';
import { ensureKubeDns } from './netns-dns.js';
import { chooseNetwork, fallbackMessage, netnsSupport } from './network-support.js';
import { findProgram } from '../../util/find-program.js';
import { PROBE_FILE_ENV } from '../../kubelet/runtime/isolation-probe.js';
import { writeProbeFile } from './isolation-probe-file.js';
import {
  controlPlaneComponents,
  controlPlaneNames,
  controlPlanePorts,
  controlPlaneWaves,
  prepareControlPlane,
  type ControlPlaneLayout,
  type StorageKind,
} from './control-plane.js';

/** dist/cli/main.js: every component runs as `node main.js <component> ...` */

const API_HOST = '127.0.0.1';

export interface UpOptions {
  name: string;
  stateDir: string;
  nodes: number;
  port: number;
  kubeletPort: number;
  cpu: string;
  memory: string;
  /** each kubelet's containerLogMaxSize (a quantity) and containerLogMaxFiles */
  containerLogMaxSize?: string;
  containerLogMaxFiles?: number;
  /** the user's kubeconfig to merge the context into */
  kubeconfig: string;
  foreground: boolean;
  timeoutMs: number;
  /** components' KUBEMU_LOG_LEVEL */
  logLevel: string;
  /**
   * netns (the cluster in a network namespace of its own), loopback (docs/design.md, "Network model") or auto
   * (netns where this machine can run it, else loopback, said loudly); unset: the one the cluster was made with,
   * else the default (`NETNS_BY_DEFAULT` in network-support.ts)
   */
  network?: NetworkMode | 'auto';
  /** the apiserver's --encryption-provider-config (an absolute path, checked before anything starts) */
  encryptionProviderConfig?: string;
  /** sqlite (default; a cluster made on etcd stays on it) or etcd */
  storage?: StorageKind;
  /** control-plane members with etcd (default 1): etcd members, apiservers, controller-managers, schedulers each */
  controlPlane?: number;
  out?: NodeJS.WritableStream;
}

export interface UpResult {
  record: RunRecord;
  nodes: NodeSummary[];
  elapsedMs: number;
}

async function checkPorts(
  opts: UpOptions,
  settings: ClusterSettings,
  plane: ControlPlaneLayout | undefined,
): Promise<void> {
  const wanted = [
    { host: API_HOST, port: opts.port, who: 'the API server', flag: '--port' },
    ...(plane ? controlPlanePorts(plane) : []).map((p) => ({ host: API_HOST, ...p, flag: undefined })),
    ...settings.nodes.map((n) => ({
      host: n.ip,
      port: opts.kubeletPort,
      who: `the kubelet of ${n.name}`,
      flag: '--kubelet-port',
    })),
    ...[
      { addr: DEFAULT_HTTP, who: 'the ingress gateway' },
      { addr: DEFAULT_HTTPS, who: 'the ingress gateway' },
      { addr: clusterDnsAddress(), who: 'the cluster DNS' },
    ].map(({ addr, who }) => {
      const i = addr.lastIndexOf(':');
      return { host: addr.slice(0, i), port: Number(addr.slice(i + 1)), who, flag: undefined };
    }),
  ];
  for (const w of wanted) {
    try {
      await checkPortFree(w.host, w.port);
    } catch (err) {
      throw new CliError(portTakenMessage(w, err), 1, { cause: err });
    }
  }
}

/** What to do about a taken port: stop the other kubemu cluster (exact command), or the program, or move ours. */
function portTakenMessage(
  w: { host: string; port: number; who: string; flag: string | undefined },
  err: unknown,
): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'EADDRINUSE')
    return (
      `port ${w.port} on ${w.host} cannot be bound (${code ?? String(err)}); ${w.who} needs it.` +
      (w.flag ? ` Pick another port with ${w.flag}.` : '')
    );
  const holder = portHolder(w.host, w.port);
  const where = `port ${w.port} on ${w.host} (for ${w.who})`;
  if (holder?.cluster) {
    const other = holder.cluster;
    return (
      `${where} is already in use by cluster "${other.name}" (its ${other.component}, pid ${holder.pid}). ` +
      `Only one loopback-network cluster can run at a time: they share the node, ingress and DNS addresses ` +
      `(clusters started with --network=netns run side by side).\n` +
      `Stop that cluster first with: ${downCommand(other.name, other.stateDir)}`
    );
  }
  const by = holder ? `by pid ${holder.pid} (${holder.commandLine.slice(0, 80)})` : 'by another program';
  return (
    `${where} is already in use ${by}. ` +
    (w.flag
      ? `Stop that program, or pick another port with ${w.flag}.`
      : 'Stop that program; this address is fixed.')
  );
}

export async function up(opts: UpOptions): Promise<UpResult> {
  const out = opts.out ?? process.stdout;
  const startedAt = Date.now();
  const { stateDir, name } = opts;
  const paths = clusterPaths(stateDir);
  const state = runningState(stateDir);
  if (state.running) {
    throw new CliError(
      `cluster "${name}" is already running (state dir ${stateDir}). ` +
        `Use it as it is, or stop it first with: ${downCommand(name, stateDir)}`,
    );
  }
  const choice = chooseNetwork(opts.network, previousNetwork(stateDir), netnsSupport);
  if ('error' in choice) throw new CliError(choice.error, 1);
  // a degraded mode is never silent: before anything starts, and again in the summary and in `kubemu status`
  if (choice.fallback) out.write(`WARNING: ${fallbackMessage(choice.fallback)}\n`);
  if (choice.note) out.write(`${choice.note}\n`);
  const netns = choice.mode === 'netns';
  // netns: the cluster's slot S, whose host addresses (127.S.x.y) no other cluster holds
  const slot = netns
    ? await chooseSlot(opts.port, undefined).catch((err: unknown) => {
        throw new CliError((err as Error).message, 1, { cause: err });
      })
    : undefined;
  const addresses = slot !== undefined ? slotAddresses(slot) : undefined;
  const settings: ClusterSettings = {
    name,
    stateDir,
    apiServerUrl: `https://${addresses?.hostApiIp ?? API_HOST}:${opts.port}`,
    ...(addresses ? { innerApiServerUrl: `https://${addresses.gateway}:${opts.port}` } : {}),
    port: opts.port,
    kubeletPort: opts.kubeletPort,
    nodes: Array.from({ length: opts.nodes }, (_, i) =>
      slot !== undefined ? netnsNodeLayout(stateDir, i + 1, slot) : nodeLayout(stateDir, i + 1),
    ),
    cpu: opts.cpu,
    memory: opts.memory,
    ...(opts.containerLogMaxSize ? { containerLogMaxSize: opts.containerLogMaxSize } : {}),
    ...(opts.containerLogMaxFiles ? { containerLogMaxFiles: opts.containerLogMaxFiles } : {}),
    ...(opts.encryptionProviderConfig ? { encryptionProviderConfig: opts.encryptionProviderConfig } : {}),
  };
  /** no database yet: the first start of this cluster */
  const newCluster = !existsSync(join(stateDir, 'state.db')) && !existsSync(join(stateDir, 'etcd'));
  // SQLite and one apiserver, or etcd members (and with several, apiservers behind a balancer)
  const plane = await prepareControlPlane({
    stateDir,
    name,
    port: opts.port,
    storage: opts.storage,
    members: opts.controlPlane,
    netns,
  });
  if (!netns) await checkPorts(opts, settings, plane);
  // everything made from here on, by this process, pm2 and the components, is private to the user
  process.umask(STATE_UMASK);
  secureStateDir(stateDir);
  writeFileSync(paths.networkMode, `${choice.mode}\n`, { mode: 0o600 });

  const progress = new Progress(out, startedAt);
  progress.update('apiserver', 'starting');
  let streaming = false;
  /** the run record, once the cluster is up: a foreground restart puts the component's new PID in it */
  const written: { record?: RunRecord } = {};
  // pm2's daemon takes a few hundred ms to start: let it come up while the PKI and tokens are made
  const supervisorReady: Promise<Supervisor> = opts.foreground
    ? Promise.resolve(
        new DirectSupervisor({
          onLine: (component, line) => {
            if (!streaming) return;
            const text = compactLogLine(component, line);
            if (text) out.write(`${text}\n`);
          },
          onRestart: (component, pid) => {
            if (!written.record) return;
            const record = written.record;
            record.pids[component] = pid;
            record.restarts = { ...record.restarts, [component]: (record.restarts?.[component] ?? 0) + 1 };
            writeRunRecord(record);
          },
        }),
      )
    : Pm2Cluster.connect(paths.pm2Home, true);
  // the kubelets' isolation probe, once for all of them and off their event loops (netns: each node's own namespaces
  // may allow other things than the host's, so there each kubelet probes)
  const probed = netns ? Promise.resolve(undefined) : writeProbeFile(paths.isolationProbe);
  const pki = await ensureClusterPki(paths.pki, {
    // netns: the host's address, the bridge's (inside) and the `kubernetes` Service's ClusterIP
    hosts: [API_HOST, ...(addresses ? [addresses.hostApiIp, addresses.gateway, NETNS_KUBERNETES_IP] : [])],
    withCa: (ca) => ensureKubeletCertificates(settings, ca),
  });
  const { adminToken } = ensureTokenFile(stateDir);
  const supervisor = await supervisorReady;
  if (slot !== undefined) {
    progress.update('network', 'creating');
    settings.netns = await startClusterNetwork(name, slot, settings.nodes).catch(async (err: unknown) => {
      await supervisor.stopAll();
      throw new CliError(`cluster "${name}": ${(err as Error).message}`, 1, { cause: err });
    });
    progress.update(
      'network',
      `ready (${progress.elapsed()}, slot ${slot}${settings.netns.rootless ? ', rootless' : ''})`,
    );
  }
  const nsenter = settings.netns ? findProgram('nsenter') : undefined;
  const env = {
    KUBEMU_LOG_LEVEL: opts.logLevel,
    ...((await probed) ? { [PROBE_FILE_ENV]: paths.isolationProbe } : {}),
  };
  const processSpec = (p: PlannedProcess): ProcessSpec => {
    // made here, so pm2 (which may be an older daemon with another umask) appends to a private file
    privateDir(dirname(p.logFile));
    privateFile(p.logFile);
    const where = p.placement;
    // netns: nsenter execs node in the sandbox's or the node's namespaces (the PID stays the component's)
    const prefix =
      settings.netns && where && where.in !== 'host'
        ? launcher(settings.netns, where.in === 'node' ? where.node : undefined)
        : undefined;
    if (p.program)
      return { name: p.name, command: p.program, args: p.argv, env, logFile: p.logFile, cwd: stateDir };
    return {
      name: p.name,
      ...(prefix
        ? { command: nsenter, args: [...prefix.slice(1), process.execPath, CLI_MAIN, ...p.argv] }
        : {
            args: [CLI_MAIN, ...p.argv],
          }),
      env: p.env ? { ...env, ...p.env } : env,
      logFile: p.logFile,
      cwd: stateDir,
    };
  };

  const stopOnSignal = (): void => {
    out.write('\ninterrupted: stopping what was started\n');
    void supervisor
      .stopAll()
      .then(() => settings.netns && stopClusterNetwork(settings.netns))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  // one keep-alive connection for the polls below (a TLS handshake per poll cost the apiserver CPU while it booted)
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  const target: ApiTarget = { url: settings.apiServerUrl, ca: pki.caCertPem, token: adminToken, agent };
  let watch: FailureWatch | undefined;
  let processes: ManagedProcess[] = [];
  const deadline = startedAt + opts.timeoutMs;
  let nodes: NodeSummary[] = [];
  const readyShown = new Set<string>();
  try {
    // credentials and kubeconfigs of the components first: the apiserver reads every token at its start
    const components = controlPlaneComponents(planComponents(settings, pki.caCertPem), plane, stateDir);
    // Two waves. The apiserver and the kubelets (all that Ready nodes need) start at once: loading the kubelets'
    // code (a few hundred ms of CPU each) overlaps the apiserver's boot, and their requests wait for its socket
    // (reconnect backoff 100 ms → 1 s). The other components start once the apiserver answers: started with it,
    // their loading took the CPU the apiserver and kubelets were waiting for (12 processes loading on 2 cores).
    // Each wave goes to pm2 in one request (an ecosystem's apps): pm2 lists its processes once for the batch.
    const startAll = async (wave: PlannedProcess[]): Promise<void> => {
      await supervisor.startAll(wave.map(processSpec));
      const plain = new Set(controlPlaneNames(plane));
      for (const c of wave) if (!plain.has(c.name)) progress.update(c.name, 'started');
    };
    // On a new cluster the controller-manager gates `up` too (it makes the default ServiceAccount): it joins the first
    // wave. On a restart the ServiceAccount is there already, and it loads after the apiserver's boot.
    const inFirstWave = (c: PlannedProcess): boolean =>
      c.gatesReady === true || (newCluster && c.name.startsWith('controller-manager'));
    const waves = controlPlaneWaves(settings, plane);
    const first = startAll([...waves.first, ...components.filter(inFirstWave)]);
    // a failed start surfaces below, through the wave's promise or the components' status; never unhandled
    first.catch(() => undefined);
    // the user's kubeconfig is YAML: its parser loads while the apiserver boots, not after the nodes are Ready
    yaml();
    watch = new FailureWatch(supervisor, controlPlaneNames(plane));
    const poll = { deadline, failed: watch.failed };
    await waitUntil(() => isReady(target), {
      ...poll,
      intervalMs: 25,
      component: 'apiserver',
      late: 'did not become ready in time',
    });
    progress.update('apiserver', `ready (${progress.elapsed()})`);
    // netns: the kube-dns Service (10.96.0.10) in front of the DNS server on the sandbox's bridge
    if (settings.netns) await ensureKubeDns(target, settings.netns.gateway);
    watch.watchAll();
    // the second wave starts while the nodes come Ready: nothing below waits for its starts but the run record
    const rest = startAll([...waves.afterReady, ...components.filter((c) => !inFirstWave(c))]);
    rest.catch(() => undefined);
    // A Node keeps the status its kubelet last wrote, Ready included, across a restart of the cluster: a node counts
    // once its kubelet of this run reported it Ready (a heartbeat since this command started; whole seconds).
    const since = Math.floor(startedAt / 1000) * 1000;
    const nodesReady = async (): Promise<boolean> => {
      try {
        nodes = (await listNodeObjects(target)).map((node) => {
          const n = summarizeNode(node);
          return n.ready === 'True' && !(readyHeartbeat(node) >= since) ? { ...n, ready: 'Unknown' } : n;
        });
      } catch {
        nodes = [];
      }
      for (const n of settings.nodes) {
        const seen = nodes.find((s) => s.name === n.name);
        // a node keeps the first "Ready (time)" line it got
        if (!seen || readyShown.has(n.name)) continue;
        if (seen.ready === 'True') readyShown.add(n.name);
        progress.update(
          `kubelet-${n.name}`,
          seen.ready === 'True' ? `Ready (${progress.elapsed()})` : 'registered',
        );
      }
      return settings.nodes.every((n) => nodes.some((s) => s.name === n.name && s.ready === 'True'));
    };
    // A pod is admitted once its namespace's `default` ServiceAccount exists (ServiceAccount admission), and the
    // controller-manager's serviceaccount controller makes it: the cluster is usable for `kubectl run` from then.
    const defaultServiceAccount = (): Promise<boolean> =>
      getJson(target, '/api/v1/namespaces/default/serviceaccounts/default').then(
        () => true,
        () => false,
      );
    await Promise.all([
      waitUntil(nodesReady, {
        ...poll,
        intervalMs: 50,
        component: 'kubelet',
        late: 'did not make every node Ready in time',
      }).catch((err: unknown) => {
        if (!(err instanceof ComponentFailed) || err.component !== 'kubelet') throw err;
        const late = settings.nodes.find((n) => !readyShown.has(n.name))!;
        throw new ComponentFailed(`kubelet-${late.name}`, `did not make node ${late.name} Ready in time`);
      }),
      waitUntil(defaultServiceAccount, {
        ...poll,
        intervalMs: 50,
        component: 'controller-manager',
        late: 'did not create the default ServiceAccount in time',
      }),
    ]);
    await first;
    await rest;
    watch.stop();
    processes = await supervisor.list();
    failedComponent(processes);
  } catch (err) {
    watch?.stop();
    agent.destroy();
    process.removeListener('SIGINT', stopOnSignal);
    process.removeListener('SIGTERM', stopOnSignal);
    const failed = err instanceof ComponentFailed ? err.component : undefined;
    const lines = failed ? lastLogLines(failed, componentLog(stateDir, failed)) : [];
    const errOut = process.stderr;
    errOut.write(`\n${err instanceof Error ? err.message : String(err)}\n`);
    if (lines.length > 0)
      errOut.write(`last log lines of ${failed}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    errOut.write('stopping what was started...\n');
    // every process and its children, collected before stopping, checked after
    const pids = clusterPids((await supervisor.list()).map((p) => p.pid).filter((pid) => pid > 0));
    const daemon = daemonPid(paths.pm2Home);
    if (!opts.foreground && daemon !== undefined) pids.push(daemon);
    await supervisor.stopAll();
    await terminate(pids.filter(isAlive), 2_000);
    if (settings.netns) await stopClusterNetwork(settings.netns);
    rmSync(paths.runRecord, { force: true });
    throw new CliError(`cluster "${name}" failed to come up; logs are in ${paths.logs}`, 1, { cause: err });
  }
  agent.destroy();
  process.removeListener('SIGINT', stopOnSignal);
  process.removeListener('SIGTERM', stopOnSignal);

  const record: RunRecord = {
    name,
    stateDir,
    mode: opts.foreground ? 'foreground' : 'pm2',
    apiServerUrl: settings.apiServerUrl,
    port: opts.port,
    kubeletPort: opts.kubeletPort,
    nodes: settings.nodes,
    kubeconfig: opts.kubeconfig,
    ...(opts.foreground ? { supervisorPid: process.pid } : {}),
    pids: Object.fromEntries(processes.map((p) => [p.name, p.pid])),
    startedAt: new Date(startedAt).toISOString(),
    ...(settings.netns ? { network: settings.netns } : {}),
    ...(choice.fallback ? { networkFallback: choice.fallback } : {}),
    ...(plane ? { controlPlane: plane } : {}),
    nodeSettings: {
      cpu: settings.cpu,
      memory: settings.memory,
      ...(settings.containerLogMaxSize ? { containerLogMaxSize: settings.containerLogMaxSize } : {}),
      ...(settings.containerLogMaxFiles ? { containerLogMaxFiles: settings.containerLogMaxFiles } : {}),
    },
  };
  writeRunRecord(record);
  written.record = record;
  // pm2 makes its sockets 0775 itself, whatever the umask
  if (!opts.foreground) tightenTree(paths.pm2Home);
  writeKubeconfig(opts.kubeconfig, {
    name,
    server: settings.apiServerUrl,
    caPem: pki.caCertPem,
    token: adminToken,
    setCurrent: true,
  });
  const elapsedMs = Date.now() - startedAt;
  out.write(summary(record, nodes, elapsedMs));

  if (!opts.foreground) {
    (supervisor as Pm2Cluster).disconnect();
    return { record, nodes, elapsedMs };
  }
  out.write('\nStreaming logs; Ctrl-C stops the cluster.\n');
  streaming = true;
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      out.write(`\n${signal}: stopping cluster "${name}"...\n`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  streaming = false;
  await supervisor.stopAll();
  if (settings.netns) await stopClusterNetwork(settings.netns);
  removeFromKubeconfig(opts.kubeconfig, name);
  rmSync(paths.runRecord, { force: true });
  out.write(`cluster "${name}" stopped (state kept in ${stateDir}).\n`);
  return { record, nodes, elapsedMs };
}

/** The `kubemu down` that stops this cluster: the state dir is named only when it is not the default. */
export const downCommand = (name: string, stateDir: string): string => clusterCommand('down', name, stateDir);

function summary(record: RunRecord, nodes: NodeSummary[], elapsedMs: number): string {
  const context = contextName(record.name);
  const kubectlFlags =
    record.kubeconfig === userKubeconfigPath(undefined)
      ? `--context ${context}`
      : `--kubeconfig ${shellQuote(record.kubeconfig)}`;
  const nodeLines = record.nodes.map((n) => {
    const seen = nodes.find((s) => s.name === n.name);
    return `${n.name} ${n.ip} (${seen?.ready === 'True' ? 'Ready' : 'NotReady'})`;
  });
  const degraded = clusterDegradations(
    record.nodes.map((n) => ({
      name: n.name,
      degraded: nodes.find((s) => s.name === n.name)?.degraded ?? [],
    })),
    true,
    record.networkFallback,
  );
  const warning = degraded.length
    ? [
        'WARNING: degraded mode (see `kubectl describe node` and `kubectl get events --field-selector type=Warning`):',
        ...formatDegradations(degraded),
        '',
      ]
    : [];
  return [
    '',
    `Cluster "${record.name}" is up: ${record.nodes.length} node(s) Ready in ${(elapsedMs / 1000).toFixed(1)}s.`,
    '',
    ...warning,
    `  API server      ${record.apiServerUrl}` +
      (record.controlPlane && record.controlPlane.members > 1
        ? ` (balancing ${record.controlPlane.apiServerPorts.map((p) => `127.0.0.1:${p}`).join(', ')})`
        : ''),
    ...(record.controlPlane
      ? [
          `  etcd            ${record.controlPlane.etcd.map((m) => `${m.name} http://127.0.0.1:${m.clientPort}`).join(', ')}`,
        ]
      : []),
    `  nodes           ${nodeLines.join('\n                  ')}`,
    `  ingress HTTP    ${(record.network?.ingress ?? ingressUrls()).http}`,
    `  ingress HTTPS   ${(record.network?.ingress ?? ingressUrls()).https}`,
    ...(record.network
      ? [
          `  LoadBalancers   ${record.network.lbPool}`,
          `  network         netns, slot ${record.network.slot}${record.network.rootless ? ' (rootless)' : ''}: pods 10.244.N.0/24, Services 10.96.0.0/12, DNS 10.96.0.10`,
        ]
      : [
          `  network         loopback${record.networkFallback ? ' (netns unavailable, see WARNING)' : ''}: pods 127.244.N.0/24, Services 127.96.0.0/16`,
        ]),
    `  state dir       ${record.stateDir}`,
    `  kubeconfig      ${record.kubeconfig} (context "${context}", now current)`,
    '',
    `Try:        kubectl ${kubectlFlags} get nodes -o wide`,
    `Dashboard:  ${clusterCommand('dashboard', record.name, record.stateDir)}   (http://127.0.0.1, until Ctrl-C)`,
    `Stop:       ${downCommand(record.name, record.stateDir)}` +
      (record.mode === 'foreground' ? '  (or Ctrl-C here)' : ''),
    '',
  ].join('\n');
}

/** The network the cluster in `stateDir` was made with: its record, else loopback for a database made before netns. */
function previousNetwork(stateDir: string): NetworkMode | undefined {
  try {
    const mode = readFileSync(clusterPaths(stateDir).networkMode, 'utf8').trim();
    if (mode === 'loopback' || mode === 'netns') return mode;
  } catch {
    // none recorded
  }
  return existsSync(join(stateDir, 'state.db')) ? 'loopback' : undefined;
}
