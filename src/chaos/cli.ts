// `kubemu chaos ...`: parses the subcommand, picks the backend (pm2 locally, docker for compose) and prints what it did.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli/cli-error.js';
import { kubemuCommand, shellQuote } from '../util/cli-command.js';
import { DEFAULT_CLUSTER_NAME, defaultStateDir } from '../cli/cluster/layout.js';
import { runningState } from '../cli/cluster/running.js';
import { freezeNode } from './freeze.js';
import { NetworkChaos } from './partition.js';
import { ChaosError, parseDuration, type ChaosBackend, type CommandHint } from './chaos.js';

export const CHAOS_USAGE = `Usage: kubemu chaos <action> [options]

Actions:
  kill-node NODE            SIGKILL every process of NODE (its pods die with the kubelet) and keep it
                            down, like a VM losing power
  pause-node NODE [--for D] freeze NODE (SIGSTOP / docker pause) for D (default 10s): alive but silent
  restart-node NODE         start a killed node again (or thaw a paused one)
  kill COMPONENT            SIGKILL one component, like a crash; its supervisor restarts it
                            (apiserver, controller-manager, scheduler, cloud-lb, kubelet-node-2,
                            kube-proxy-node-2, ...; with --control-plane 3: etcd-1, apiserver-2,
                            controller-manager-3, scheduler-1, apiserver-lb)
  pause COMPONENT [--for D] freeze one component (SIGSTOP / docker pause) for D (default 10s): an etcd
                            member or apiserver alive but silent (\`kubemu status\` says which leads)
  partition NODE [--from NODE|control-plane]
                            cut NODE's network (--network=netns clusters): its processes and pods
                            keep running but are unreachable from the cut side; without --from it is
                            cut from everything. Cut from the control plane, its kubelet cannot reach
                            the apiserver, so the node goes NotReady and its pods are evicted
  heal [NODE]               undo the partitions of NODE (of every node without one)

Options:
  --name NAME         cluster name (default ${DEFAULT_CLUSTER_NAME}; for compose, its io.kubemu.cluster label)
  --state-dir DIR     cluster state (default ~/.kubemu/NAME)
  --mode MODE         pm2 (kubemu up), docker (docker compose up) or auto (default: pm2 when that
                      cluster runs under pm2, else its compose containers)
  --for DURATION      how long pause-node and pause pause: 10s, 500ms, 1m
  --from PEER         what partition cuts NODE from: control-plane or another node (default: all)`;

export interface ChaosOptions {
  name: string;
  stateDir: string;
  mode: 'auto' | 'pm2' | 'docker';
}

/** `kubemu <args>` for this cluster, as the user can type it here. */
function hintFor(opts: ChaosOptions): CommandHint {
  const flags =
    (opts.name === DEFAULT_CLUSTER_NAME ? '' : ` --name ${opts.name}`) +
    (opts.stateDir === defaultStateDir(opts.name) ? '' : ` --state-dir ${shellQuote(opts.stateDir)}`);
  return (args) => `${kubemuCommand()} ${args}${flags}`;
}

/** The backend for the cluster: pm2 when it runs under pm2 (by its state dir), else its compose containers. */
export async function chaosBackend(opts: ChaosOptions): Promise<ChaosBackend> {
  const hint = hintFor(opts);
  // each backend loaded only when used: dockerode alone took a third of a second of CPU before a pm2 kill-node
  const pm2 = async (): Promise<ChaosBackend> =>
    (await import('./pm2-backend.js')).Pm2Chaos.connect(opts.stateDir, hint);
  const docker = async () => (await import('./docker-backend.js')).DockerChaos;
  if (opts.mode === 'pm2') return pm2();
  if (opts.mode === 'docker') return new (await docker())(opts.name, undefined, hint);
  const state = runningState(opts.stateDir);
  if (state.daemonPid !== undefined) return pm2();
  if (state.record?.mode === 'foreground' && state.running)
    throw new ChaosError(
      `cluster "${opts.name}" runs in the foreground ('kubemu up --foreground'); chaos needs it under pm2 (plain '${hint('up')}')`,
    );
  const DockerChaos = await docker();
  if (await DockerChaos.detect(opts.name)) return new DockerChaos(opts.name, undefined, hint);
  throw new ChaosError(
    `no running cluster "${opts.name}": none under pm2 in ${opts.stateDir} and no containers labelled io.kubemu.cluster=${opts.name}`,
  );
}

/** Partitions act on the network namespaces of a `--network=netns` cluster; any other cluster is refused. */
function networkChaos(opts: ChaosOptions, action: string): NetworkChaos {
  const hint = hintFor(opts);
  if (opts.mode === 'docker')
    throw new ChaosError(
      `${action} needs a cluster started with '${hint('up --network=netns')}'; the Docker Compose cluster shares the host's network`,
    );
  const state = runningState(opts.stateDir);
  if (!state.running || !state.record)
    throw new ChaosError(
      `no running cluster "${opts.name}" in ${opts.stateDir} (is it up? '${hint('status')}')`,
    );
  if (!state.record.network)
    throw new ChaosError(
      `${action} needs the netns network: cluster "${opts.name}" runs on the loopback network, where every node ` +
        `shares the host's, so there is no node link to cut. Start it again with '${hint('down')}' and '${hint('up --network=netns')}'`,
    );
  return new NetworkChaos(state.record.network, hint);
}

export async function chaosMain(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        mode: { type: 'string', default: 'auto' },
        for: { type: 'string', default: '10s' },
        from: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (err) {
    throw new CliError(
      `kubemu chaos: ${(err as Error).message.split('. ')[0]}\nRun '${kubemuCommand()} chaos --help' for usage.`,
      2,
      { cause: err },
    );
  }
  const { values: v, positionals } = parsed;
  if (v.help) return void out.write(`${CHAOS_USAGE}\n`);
  const [action, target, ...extra] = positionals;
  const actions = ['kill-node', 'pause-node', 'restart-node', 'kill', 'pause', 'partition', 'heal'];
  if (!action || !actions.includes(action) || (!target && action !== 'heal') || extra.length > 0)
    throw new CliError(
      `kubemu chaos: expected one of ${actions.join(', ')} and a target\n\n${CHAOS_USAGE}`,
      2,
    );
  const mode = v.mode;
  if (mode !== 'auto' && mode !== 'pm2' && mode !== 'docker')
    throw new CliError(`kubemu chaos: --mode must be auto, pm2 or docker, got "${mode}"`, 2);
  const ms = parseDuration(v.for);
  if (ms === undefined || ms <= 0)
    throw new CliError(`kubemu chaos: --for must be a duration such as 10s or 500ms, got "${v.for}"`, 2);
  const name = v.name ?? DEFAULT_CLUSTER_NAME;
  const stateDir = v['state-dir'] ? resolve(v['state-dir']) : defaultStateDir(name);
  if (v.from !== undefined && action !== 'partition')
    throw new CliError(`kubemu chaos: --from goes with partition, not ${action}`, 2);
  if (action === 'partition' || action === 'heal') {
    const print = (line: string): void => void out.write(`${line}\n`);
    try {
      const net = networkChaos({ name, stateDir, mode }, action);
      const lines =
        action === 'heal' ? await net.heal(target) : await net.partition(target, net.peerOf(target, v.from));
      lines.forEach(print);
    } catch (err) {
      if (err instanceof ChaosError)
        throw new CliError(`kubemu chaos ${action}: ${err.message}`, 1, { cause: err });
      throw err;
    }
    return;
  }

  let backend: ChaosBackend | undefined;
  // kill-node under pm2: the node stops at once, not after the pm2 client has loaded (see freeze.ts)
  const daemon = mode !== 'docker' && action === 'kill-node' ? runningState(stateDir).daemonPid : undefined;
  const frozen = daemon !== undefined ? freezeNode(daemon, target) : undefined;
  try {
    backend = await chaosBackend({ name, stateDir, mode });
    const print = (line: string): void => void out.write(`${line}\n`);
    let lines: string[];
    if (action === 'kill-node') lines = await backend.killNode(target);
    else if (action === 'restart-node') lines = await backend.restartNode(target);
    else if (action === 'kill') lines = await backend.kill(target);
    else {
      // the "paused" line is printed as soon as it is true, not after the pause
      let shown = false;
      const pause = action === 'pause' ? backend.pause.bind(backend) : backend.pauseNode.bind(backend);
      lines = await pause(target, ms, (line) => {
        shown = true;
        print(line);
      });
      if (shown) lines = lines.slice(1);
    }
    lines.forEach(print);
  } catch (err) {
    if (err instanceof ChaosError)
      throw new CliError(`kubemu chaos ${action}: ${err.message}`, 1, { cause: err });
    throw err;
  } finally {
    // whatever is still frozen was not killed (the kill failed, or pm2 does not know it): let it run again
    frozen?.thaw();
    backend?.close();
  }
}
