#!/usr/bin/env node
// The `kubemu` command: cluster lifecycle (up, status, down), images, and every component process.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliError } from './cli-error.js';
import {
  DEFAULT_API_PORT,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_KUBELET_PORT,
  MAX_NODES,
  defaultStateDir,
  readRunRecord,
  userKubeconfigPath,
} from './cluster/layout.js';
import { resolve } from 'node:path';
import { kubemuCommand } from '../util/cli-command.js';
import { parseQuantity } from '../api/schema/quantity.js';
import { KUBE_GIT_VERSION } from '../api/release.js';
import type { NetworkMode } from './cluster/network.js';

type Options = NonNullable<ParseArgsConfig['options']>;

interface Command {
  summary: string;
  usage: string;
  run(argv: string[]): Promise<void>;
}

/** Component processes: `kubemu <command>` loads `../cmd/<module>.js` lazily and calls its `<export>(argv)`. */
const COMPONENT_COMMANDS: readonly {
  command: string;
  module: string;
  exportName: string;
  summary: string;
}[] = [
  { command: 'apiserver', module: 'apiserver', exportName: 'apiserverMain', summary: 'run the API server' },
  {
    command: 'apiserver-lb',
    module: 'apiserver-lb',
    exportName: 'apiserverLbMain',
    summary: "balance an HA control plane's apiservers",
  },
  {
    command: 'controller-manager',
    module: 'controller-manager',
    exportName: 'controllerManagerMain',
    summary: 'run the controllers',
  },
  { command: 'scheduler', module: 'scheduler', exportName: 'schedulerMain', summary: 'run the scheduler' },
  { command: 'kubelet', module: 'kubelet', exportName: 'kubeletMain', summary: "run one node's kubelet" },
  {
    command: 'kube-proxy',
    module: 'kube-proxy',
    exportName: 'kubeProxyMain',
    summary: "run one node's kube-proxy",
  },
  {
    command: 'cloud-lb',
    module: 'cloud-lb',
    exportName: 'cloudLbMain',
    summary: 'run the LoadBalancer provider',
  },
  { command: 'dns', module: 'dns', exportName: 'dnsMain', summary: 'run the cluster DNS server' },
  { command: 'ingress', module: 'ingress', exportName: 'ingressMain', summary: 'run the ingress gateway' },
  {
    command: 'netns-publisher',
    module: 'netns-publisher',
    exportName: 'netnsPublisherMain',
    summary: "publish a netns cluster's addresses to the host",
  },
];

const COMMON = `  --name NAME         cluster name (default ${DEFAULT_CLUSTER_NAME})
  --state-dir DIR     cluster state (default ~/.kubemu/NAME)`;

/** parseArgs with the CLI's error style: unknown or malformed flags exit 2 with a pointer to --help. */
function parse(
  command: string,
  argv: string[],
  options: Options,
  allowPositionals = false,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    return parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
  } catch (err) {
    const message = (err as Error).message.split('. ')[0];
    throw new CliError(
      `kubemu ${command}: ${message}\nRun '${kubemuCommand()} ${command} --help' for usage.`,
      2,
      {
        cause: err,
      },
    );
  }
}

function intFlag(command: string, flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new CliError(
      `kubemu ${command}: --${flag} must be a whole number from ${min} to ${max}, got "${value}"`,
      2,
    );
  return n;
}

/** a Kubernetes quantity such as 10Mi, checked here so a typo fails before any process starts */
function quantityFlag(command: string, flag: string, value: string): string {
  if (!parseQuantity(value))
    throw new CliError(`kubemu ${command}: --${flag} must be a quantity such as 10Mi, got "${value}"`, 2);
  return value;
}

function clusterName(command: string, value: string | undefined): string {
  const name = value ?? DEFAULT_CLUSTER_NAME;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
    throw new CliError(
      `kubemu ${command}: --name "${name}" must be a DNS label (lowercase letters, digits and '-')`,
      2,
    );
  return name;
}

/** --network, else $KUBEMU_NETWORK; undefined (neither): the cluster's own, else the default (network-support.ts) */
function networkFlag(value: string | undefined): NetworkMode | 'auto' | undefined {
  const given = value ?? (process.env['KUBEMU_NETWORK'] || undefined);
  if (given === undefined || given === 'loopback' || given === 'netns' || given === 'auto') return given;
  const from = value === undefined ? '$KUBEMU_NETWORK' : '--network';
  throw new CliError(`kubemu up: ${from} must be loopback, netns or auto, got "${given}"`, 2);
}

/** --encryption-provider-config: made absolute (pm2 starts the apiserver elsewhere) and checked before anything starts */
async function encryptionConfigFlag(
  value: string | undefined,
): Promise<{ encryptionProviderConfig?: string }> {
  if (value === undefined) return {};
  const path = resolve(value);
  const { EncryptionAtRest } = await import('../apiserver/storage/encryption/encryption-at-rest.js');
  try {
    EncryptionAtRest.fromFile(path);
  } catch (err) {
    throw new CliError(`kubemu up: --encryption-provider-config ${value}: ${(err as Error).message}`, 2);
  }
  return { encryptionProviderConfig: path };
}

/** --storage and --control-plane, checked; unset ones are left to the cluster's recorded control plane */
function storageFlags(
  storage: string | undefined,
  members: string | undefined,
): { storage?: 'sqlite' | 'etcd'; controlPlane?: number } {
  if (storage !== undefined && storage !== 'sqlite' && storage !== 'etcd')
    throw new CliError(`kubemu up: --storage must be sqlite or etcd, got "${storage}"`, 2);
  return {
    ...(storage ? { storage } : {}),
    ...(members !== undefined ? { controlPlane: intFlag('up', 'control-plane', members, 1, 7) } : {}),
  };
}

const stateDirOf = (name: string, value: string | undefined): string =>
  value ? resolve(value) : defaultStateDir(name);

const UP_OPTIONS: Options = {
  name: { type: 'string' },
  nodes: { type: 'string', default: '3' },
  'state-dir': { type: 'string' },
  kubeconfig: { type: 'string' },
  port: { type: 'string', default: String(DEFAULT_API_PORT) },
  'kubelet-port': { type: 'string', default: String(DEFAULT_KUBELET_PORT) },
  cpu: { type: 'string', default: '2' },
  memory: { type: 'string', default: '4Gi' },
  'container-log-max-size': { type: 'string', default: '10Mi' },
  'container-log-max-files': { type: 'string', default: '5' },
  'encryption-provider-config': { type: 'string' },
  storage: { type: 'string' },
  'control-plane': { type: 'string' },
  foreground: { type: 'boolean', default: false },
  network: { type: 'string' },
  timeout: { type: 'string', default: '60' },
  'log-level': { type: 'string', default: process.env['KUBEMU_LOG_LEVEL'] ?? 'info' },
};

const COMMANDS: Record<string, Command> = {
  up: {
    summary: 'start a local cluster and wait until its nodes are Ready',
    usage: `Usage: kubemu up [options]

Starts the apiserver, controller-manager, scheduler and one kubelet per node (under pm2, whose
state lives in the cluster's state dir), waits until every node is Ready, merges context
kubemu-NAME into your kubeconfig (and makes it current) and prints the cluster's addresses.

Options:
${COMMON}
  --nodes N           number of nodes (default 3; node-N gets IP 127.S.1.N, pods 10.244.N.0/24)
  --cpu N             CPUs per node (default 2)
  --memory Q          memory per node (default 4Gi)
  --container-log-max-size Q    a container's log file is rotated at this size (default 10Mi)
  --container-log-max-files N   rotated files kept per container, current one included (default 5)
  --encryption-provider-config FILE  the apiserver's EncryptionConfiguration (apiserver.config.k8s.io/v1):
                      encrypt Secrets (or any resources) at rest with aescbc, aesgcm or secretbox; off
                      when unset. Edit the file and restart the apiserver (kubemu chaos kill apiserver) to rotate
  --storage KIND      sqlite (default: the state dir's state.db) or etcd: Debian's etcd-server, one member per
                      control-plane member (a cluster keeps the storage it was made with)
  --control-plane N   with --storage etcd: N etcd members, N apiservers behind a balancer on --port (health
                      checks on /readyz), a controller-manager and a scheduler per member electing leaders
                      through their Leases (default 1; kubemu chaos kill etcd-N, apiserver-N, ...)
  --port PORT         API server port on 127.0.0.1 (127.S.0.1 for the S-th cluster) (default ${DEFAULT_API_PORT})
  --kubelet-port PORT kubelet port on each node's IP (default ${DEFAULT_KUBELET_PORT})
  --kubeconfig FILE   kubeconfig to merge into (default $KUBECONFIG's first file or ~/.kube/config)
  --foreground        stay in the foreground streaming logs; Ctrl-C stops the cluster (npm start)
  --network MODE      loopback (default; $KUBEMU_NETWORK), netns or auto. loopback: every node and pod on
                      the host's loopback (nodes 127.0.1.N, pods 127.244.N.0/24), one cluster at a time.
                      netns: the cluster in a network namespace of its own, a namespace per pod,
                      upstream's ranges inside (pods 10.244.N.0/24, Services 10.96.0.0/12); each cluster
                      gets host addresses 127.S.x.y (S=0 first), so several run side by side. It needs
                      unshare, nsenter (util-linux), ip (iproute2), nft (nftables) and, when not root,
                      unprivileged user namespaces. auto: netns where the machine can, else loopback and
                      it says why. A cluster keeps the network it was made with unless this flag says
                      otherwise
  --timeout SECONDS   give up if the nodes are not Ready by then (default 60)
  --log-level LEVEL   components' log level (default info)`,
    async run(argv) {
      const { values: v } = parse('up', argv, UP_OPTIONS);
      if (v['help']) return void console.log(this.usage);
      const name = clusterName('up', v['name'] as string | undefined);
      const network = networkFlag(v['network'] as string | undefined);
      const { up } = await import('./cluster/up.js');
      await up({
        name,
        stateDir: stateDirOf(name, v['state-dir'] as string | undefined),
        nodes: intFlag('up', 'nodes', v['nodes'] as string, 1, MAX_NODES),
        port: intFlag('up', 'port', v['port'] as string, 1, 65535),
        kubeletPort: intFlag('up', 'kubelet-port', v['kubelet-port'] as string, 1, 65535),
        cpu: v['cpu'] as string,
        memory: v['memory'] as string,
        containerLogMaxSize: quantityFlag(
          'up',
          'container-log-max-size',
          v['container-log-max-size'] as string,
        ),
        containerLogMaxFiles: intFlag(
          'up',
          'container-log-max-files',
          v['container-log-max-files'] as string,
          2,
          1000,
        ),
        kubeconfig: userKubeconfigPath(v['kubeconfig'] as string | undefined),
        foreground: v['foreground'] === true,
        ...(network ? { network } : {}),
        ...(await encryptionConfigFlag(v['encryption-provider-config'] as string | undefined)),
        ...storageFlags(v['storage'] as string | undefined, v['control-plane'] as string | undefined),
        timeoutMs: intFlag('up', 'timeout', v['timeout'] as string, 1, 86_400) * 1000,
        logLevel: v['log-level'] as string,
      });
    },
  },
  status: {
    summary: "show a cluster's addresses, nodes and processes",
    usage: `Usage: kubemu status [options]

Exits 7 when the cluster is stopped (like minikube status), 0 when it runs.

Options:
${COMMON}
  -o, --output FORMAT text (default) or json`,
    async run(argv) {
      const { values: v } = parse('status', argv, {
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        output: { type: 'string', short: 'o', default: 'text' },
      });
      if (v['help']) return void console.log(this.usage);
      const output = v['output'] as string;
      if (output !== 'text' && output !== 'json')
        throw new CliError(`kubemu status: --output must be text or json, got "${output}"`, 2);
      const name = clusterName('status', v['name'] as string | undefined);
      const stateDir = stateDirOf(name, v['state-dir'] as string | undefined);
      if (!existsSync(stateDir))
        throw new CliError(`no cluster "${name}": state dir ${stateDir} does not exist`);
      const { clusterStatus, formatStatus, STOPPED_EXIT_CODE } = await import('./cluster/status.js');
      const status = await clusterStatus(name, stateDir);
      process.stdout.write(output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
      if (!status.running) process.exitCode = STOPPED_EXIT_CODE;
    },
  },
  down: {
    summary: 'stop a cluster (state is kept unless --purge)',
    usage: `Usage: kubemu down [options]

Stops every process of the cluster, checks by PID that none is left and removes context
kubemu-NAME from the kubeconfig \`up\` wrote to.

Options:
${COMMON}
  --kubeconfig FILE   also remove the context from this kubeconfig
  --purge             delete the state dir too`,
    async run(argv) {
      const { values: v } = parse('down', argv, {
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        kubeconfig: { type: 'string' },
        purge: { type: 'boolean', default: false },
      });
      if (v['help']) return void console.log(this.usage);
      const name = clusterName('down', v['name'] as string | undefined);
      const stateDir = stateDirOf(name, v['state-dir'] as string | undefined);
      const explicit = v['kubeconfig'] as string | undefined;
      // without a record of where `up` wrote, clean where kubectl would look
      const kubeconfig = explicit || readRunRecord(stateDir) ? explicit : userKubeconfigPath(undefined);
      const { down } = await import('./cluster/down.js');
      await down({
        name,
        stateDir,
        purge: v['purge'] === true,
        ...(kubeconfig ? { kubeconfig: resolve(kubeconfig) } : {}),
      });
    },
  },
  kubeconfig: {
    summary: "write a kubeconfig for a user: a client certificate signed by the cluster's CA",
    usage: `Usage: kubemu kubeconfig --user NAME [--group GROUP]... [options]

Writes a kubeconfig (to stdout, or to --output FILE) whose user authenticates with an X.509 client
certificate signed by the cluster's CA: CN=NAME, O=GROUP for each --group, as \`kubeadm kubeconfig user\`
makes one. The user can do nothing until RBAC allows it, e.g.
  kubectl create rolebinding NAME-view --clusterrole=view --user=NAME -n default

Options:
${COMMON}
  --user NAME         the user name (the certificate's CN)
  --group GROUP       a group (the certificate's O); repeat for more
  --days N            validity of the certificate in days (default 365)
  -o, --output FILE   write the kubeconfig to FILE (mode 0600) instead of stdout`,
    async run(argv) {
      const { values: v } = parse('kubeconfig', argv, {
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        user: { type: 'string' },
        group: { type: 'string', multiple: true },
        days: { type: 'string', default: '365' },
        output: { type: 'string', short: 'o' },
      });
      if (v['help']) return void console.log(this.usage);
      const user = v['user'] as string | undefined;
      if (!user) throw new CliError(`kubemu kubeconfig: --user NAME is required\n\n${this.usage}`, 2);
      const name = clusterName('kubeconfig', v['name'] as string | undefined);
      const output = v['output'] as string | undefined;
      const { writeUserKubeconfig } = await import('./user-kubeconfig.js');
      const text = await writeUserKubeconfig(
        {
          clusterName: name,
          stateDir: stateDirOf(name, v['state-dir'] as string | undefined),
          user,
          groups: (v['group'] as unknown as string[] | undefined) ?? [],
          validityDays: intFlag('kubeconfig', 'days', v['days'] as string, 1, 3650),
        },
        output ? resolve(output) : undefined,
      );
      if (text) process.stdout.write(text);
    },
  },
  dashboard: {
    summary: 'serve the dashboard on a local http://127.0.0.1 URL until Ctrl-C',
    usage: `Usage: kubemu dashboard [options]

Serves the cluster's web dashboard on http://127.0.0.1:PORT/dashboard/ through a small local proxy
that adds your kubeconfig's credentials (context kubemu-NAME), so the browser sees neither the token
nor the cluster's self-signed certificate (like minikube dashboard). Read-only; Ctrl-C stops it.

Options:
${COMMON}
  --port PORT         local port (default 0: any free port)
  --kubeconfig FILE   kubeconfig with context kubemu-NAME (default: the one \`up\` merged it into)
  --url               print only the URL
  --open              also open the URL in a browser (xdg-open)`,
    async run(argv) {
      const { values: v } = parse('dashboard', argv, {
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        port: { type: 'string', default: '0' },
        kubeconfig: { type: 'string' },
        url: { type: 'boolean', default: false },
        open: { type: 'boolean', default: false },
      });
      if (v['help']) return void console.log(this.usage);
      const name = clusterName('dashboard', v['name'] as string | undefined);
      const kubeconfig = v['kubeconfig'] as string | undefined;
      const { dashboard } = await import('./cluster/dashboard.js');
      await dashboard({
        name,
        stateDir: stateDirOf(name, v['state-dir'] as string | undefined),
        kubeconfig: kubeconfig ? resolve(kubeconfig) : undefined,
        port: intFlag('dashboard', 'port', v['port'] as string, 0, 65535),
        urlOnly: v['url'] === true,
        open: v['open'] === true,
      });
    },
  },
  image: {
    summary: 'list images (kubemu image ls) or add one (kubemu image build DIR -t NAME:TAG)',
    usage: `Usage: kubemu image ls [options]
       kubemu image build DIR -t NAME:TAG [options]

ls     lists the images pods can run: the built-in ones and the cluster's own builds,
       and the upstream names that stand for a built-in image
build  copies DIR (which holds image.json) into the cluster's image store, where every
       kubelet of the cluster finds it

Options:
  -t, --tag NAME:TAG  (build) the image's name and tag
${COMMON}`,
    async run(argv) {
      const { values: v, positionals } = parse(
        'image',
        argv,
        { tag: { type: 'string', short: 't' }, name: { type: 'string' }, 'state-dir': { type: 'string' } },
        true,
      );
      if (v['help']) return void console.log(this.usage);
      const [sub, dir, ...extra] = positionals;
      const name = clusterName('image', v['name'] as string | undefined);
      const stateDir = stateDirOf(name, v['state-dir'] as string | undefined);
      if ((sub === 'ls' || sub === 'list') && !dir && !v['tag']) {
        const { formatImageList } = await import('./image-list.js');
        return void process.stdout.write(formatImageList(stateDir));
      }
      if (sub !== 'build' || !dir || extra.length > 0 || !v['tag'])
        throw new CliError(`kubemu image: expected 'ls' or 'build DIR -t NAME:TAG'\n\n${this.usage}`, 2);
      const { buildImage } = await import('../kubelet/runtime/images.js');
      try {
        const built = buildImage(resolve(dir), v['tag'] as string, stateDir);
        console.log(`built ${built.ref.canonical} (${built.dir})`);
      } catch (err) {
        throw new CliError(`kubemu image build: ${(err as Error).message}`, 1, { cause: err });
      }
    },
  },
  node: {
    summary: 'add a node to a running cluster (kubemu node add NAME) or remove one (kubemu node remove NAME)',
    usage: `Usage: kubemu node add NAME [options]
       kubemu node remove NAME [options]

add     starts a kubelet and a kube-proxy for a new node NAME on the next free address (netns: 127.S.1.N in a
        network namespace of its own, pods 10.244.N.0/24; loopback: 127.0.1.N, pods 127.244.N.0/24) and waits
        until it is Ready; DaemonSets put their pods on it, and its NodePorts are published at its address
remove  stops the node's kubelet and kube-proxy (its containers die with it, as on a VM switched off), removes
        its network namespace (netns) and deletes its Node object; the pods bound to it are deleted by the pod GC and replaced elsewhere by their
        controllers. It does not drain: run 'kubectl drain NAME --ignore-daemonsets' first for graceful evictions

Works on a cluster started with 'kubemu up' (not --foreground; either network) and on the Docker Compose
cluster (a node container of its own, like compose.yaml's node-N services).

Options:
${COMMON}
  --mode MODE         pm2 (kubemu up), docker (docker compose up) or auto (default: pm2 when that
                      cluster runs under pm2, else its compose containers)
  --timeout SECONDS   add: give up if the node is not Ready by then (default 60; 120 for compose)`,
    async run(argv) {
      const { values: v, positionals } = parse(
        'node',
        argv,
        {
          name: { type: 'string' },
          'state-dir': { type: 'string' },
          mode: { type: 'string', default: 'auto' },
          timeout: { type: 'string' },
        },
        true,
      );
      if (v['help']) return void console.log(this.usage);
      const [sub, nodeName, ...extra] = positionals;
      if ((sub !== 'add' && sub !== 'remove') || extra.length > 0)
        throw new CliError(`kubemu node: expected 'add NAME' or 'remove NAME'\n\n${this.usage}`, 2);
      const mode = v['mode'] as string;
      if (mode !== 'auto' && mode !== 'pm2' && mode !== 'docker')
        throw new CliError(`kubemu node: --mode must be auto, pm2 or docker, got "${mode}"`, 2);
      const name = clusterName('node', v['name'] as string | undefined);
      const { checkNodeName, nodeCommand } = await import('./cluster/node.js');
      await nodeCommand(sub, mode, {
        name,
        stateDir: stateDirOf(name, v['state-dir'] as string | undefined),
        node: checkNodeName(sub, nodeName),
        ...(v['timeout'] !== undefined
          ? { timeoutMs: intFlag('node', 'timeout', v['timeout'] as string, 1, 86_400) * 1000 }
          : {}),
      });
    },
  },
  'migrate-storage': {
    summary: "copy a stopped cluster's SQLite store into etcd (kubemu migrate-storage --etcd-servers URLS)",
    usage: `Usage: kubemu migrate-storage --etcd-servers URLS [options]

Copies every object of a stopped cluster's state.db into etcd, once, as k3s moves a SQLite server onto etcd:
the stored values byte for byte (Secrets encrypted at rest stay encrypted), only into an etcd that holds no
cluster yet, then read back and compared. state.db is left as it was (a backup). Start the apiserver with
--storage etcd --etcd-servers URLS afterwards; resourceVersions are etcd's revisions from then on, so clients
relist, as after any restore.

Options:
${COMMON}
  --etcd-servers URLS  etcd client URLs, comma-separated (e.g. http://127.0.0.1:2379)`,
    async run(argv) {
      const { values: v } = parse('migrate-storage', argv, {
        name: { type: 'string' },
        'state-dir': { type: 'string' },
        'etcd-servers': { type: 'string' },
      });
      if (v['help']) return void console.log(this.usage);
      const name = clusterName('migrate-storage', v['name'] as string | undefined);
      const stateDir = stateDirOf(name, v['state-dir'] as string | undefined);
      const { parseStorageFlags } = await import('../apiserver/storage/storage-flags.js');
      let endpoints: string[];
      try {
        endpoints = parseStorageFlags('etcd', v['etcd-servers'] as string | undefined, '0').etcdServers!;
      } catch (err) {
        throw new CliError(`kubemu migrate-storage: ${(err as Error).message}`, 2);
      }
      if (readRunRecord(stateDir))
        throw new CliError(
          `kubemu migrate-storage: cluster "${name}" is running: stop it first (kubemu down --name ${name}), so no write made after the copy is lost`,
        );
      const dbPath = resolve(stateDir, 'state.db');
      if (!existsSync(dbPath)) throw new CliError(`kubemu migrate-storage: no ${dbPath}: nothing to copy`);
      const { migrateSqliteToEtcd } = await import('../apiserver/storage/migrate.js');
      try {
        const { copied, revision } = await migrateSqliteToEtcd({ dbPath, endpoints });
        console.log(
          `copied ${copied} objects from ${dbPath} to etcd at ${endpoints.join(',')} (revision ${revision}); read back equal`,
        );
      } catch (err) {
        throw new CliError(`kubemu migrate-storage: ${(err as Error).message}`, 1, { cause: err });
      }
    },
  },
  version: {
    summary: "print kubemu's version and the Kubernetes release it serves",
    usage:
      "Usage: kubemu version (or kubemu --version)\n\nPrints kubemu's version, the Kubernetes release it serves, Node's version and the platform.",
    run(argv) {
      console.log(argv.includes('--help') || argv.includes('-h') ? this.usage : versionLine());
      return Promise.resolve();
    },
  },
  chaos: {
    summary: 'break a running cluster on purpose: kill-node, pause-node, restart-node, kill COMPONENT',
    usage: 'Usage: kubemu chaos <action> [options] (kubemu chaos --help)',
    async run(argv) {
      const { chaosMain } = await import('../chaos/cli.js');
      await chaosMain(argv);
    },
  },
};

for (const c of COMPONENT_COMMANDS) {
  COMMANDS[c.command] = {
    summary: c.summary,
    usage: `Usage: kubemu ${c.command} --kubeconfig FILE [options]\n\n${c.summary}; its flags are in README.md (Configuration) and src/cmd/${c.module}.ts.`,
    async run(argv) {
      if (argv.includes('--help') || argv.includes('-h')) return void console.log(this.usage);
      const file = fileURLToPath(new URL(`../cmd/${c.module}.js`, import.meta.url));
      if (!existsSync(file))
        throw new CliError(`kubemu ${c.command}: not in this build (${file} is missing)`);
      // by its URL, not a literal path: a bundler keeps each component in its own file (dist/cmd/*.js are bundles)
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      const main = mod[c.exportName];
      if (typeof main !== 'function')
        throw new CliError(`kubemu ${c.command}: ${file} does not export ${c.exportName}`);
      try {
        (main as (argv: string[]) => unknown)(argv);
      } catch (err) {
        // the components parse their flags with parseArgs(strict): an unknown flag throws here
        if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
          throw new CliError(`kubemu ${c.command}: ${(err as Error).message.split('. ')[0]}`, 2, {
            cause: err,
          });
        throw err;
      }
    },
  };
}

/** `kubemu 0.1.0 (Kubernetes v1.33.0+kubemu, node v20.20.2, linux/x64)`: the package's own version, as `kind version` */
function versionLine(): string {
  let version = 'unknown (no package.json beside dist/)';
  try {
    const file = fileURLToPath(new URL('../../package.json', import.meta.url));
    version = (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    // an image or copy without the package's manifest: say so rather than fail
  }
  return `kubemu ${version} (Kubernetes ${KUBE_GIT_VERSION}, node ${process.version}, ${process.platform}/${process.arch})`;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`);
  return `Usage: kubemu <command> [options]

Commands:
${lines.join('\n')}

Run '${kubemuCommand()} <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    console.log(usage());
    return;
  }
  if (command === '--version' || command === '-v') {
    console.log(versionLine());
    return;
  }
  const found = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!found) throw new CliError(`kubemu: unknown command "${command}"\n\n${usage()}`, 2);
  await found.run(rest);
  // lifecycle commands are done: pm2's client keeps sockets open, so leave explicitly
  if (!COMPONENT_COMMANDS.some((c) => c.command === command)) process.exit(process.exitCode ?? 0);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CliError) {
    console.error(err.message);
    process.exit(err.exitCode);
  }
  console.error(`kubemu: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
