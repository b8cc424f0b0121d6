// `kubemu node add|remove NAME` for the Docker Compose cluster: a node is a container like compose.yaml's node-N
// services (same image, state volume, capabilities, host network, labels), with its kubelet and kube-proxy under
// pm2-runtime; its credentials and process file are written into the state volume by the cluster's own code, run in
// the apiserver's container.
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE } from '../../chaos/docker-backend.js';
import { CliError } from '../cli-error.js';
import { MAX_NODES } from './layout.js';
import type { NodeCommandOptions } from './node.js';

const STATE_DIR = '/var/lib/kubemu';
const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';
/** the cluster-side steps (compose-node-agent.ts), run in the apiserver's container */
const AGENT = '/app/dist/cli/cluster/compose-node-agent.js';

/** how long `add` waits for the new Node to be Ready when not told (a container starts slower than a process) */
const DEFAULT_TIMEOUT_MS = 120_000;

export class ComposeNodes {
  constructor(
    private readonly cluster: string,
    private readonly docker = new Docker(),
  ) {}

  private async list(label: string): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_CLUSTER}=${this.cluster}`, label] },
    });
  }

  private async apiserver(): Promise<Docker.Container> {
    const [info] = await this.list(`${LABEL_COMPONENT}=apiserver`);
    if (!info || info.State !== 'running')
      throw new CliError(
        `kubemu node: compose cluster "${this.cluster}" has no running apiserver container; start it with docker compose up -d`,
      );
    return this.docker.getContainer(info.Id);
  }

  /** node name → its container */
  private async nodes(): Promise<Map<string, Docker.ContainerInfo>> {
    const all = await this.list(LABEL_NODE);
    return new Map(all.map((c) => [c.Labels[LABEL_NODE], c]));
  }

  async add(opts: NodeCommandOptions): Promise<void> {
    const out = opts.out ?? process.stdout;
    const started = Date.now();
    const nodes = await this.nodes();
    const names = [...nodes.keys()].sort();
    if (nodes.size === 0)
      throw new CliError(`kubemu node add: no compose cluster "${this.cluster}" with nodes here`);
    if (nodes.has(opts.node))
      throw new CliError(
        `kubemu node add: node "${opts.node}" already exists in compose cluster "${this.cluster}" (nodes: ${names.join(', ')})`,
      );
    // the new container is made like an existing node's (compose.yaml's x-node): image, volume, capabilities,
    // host network, healthcheck, labels; only its name, NODE_INDEX and command differ
    const template = await this.docker.getContainer(nodes.get(names[0])!.Id).inspect();
    const used = new Set<number>();
    for (const info of nodes.values()) {
      const env = (await this.docker.getContainer(info.Id).inspect()).Config.Env ?? [];
      const index = Number(env.find((e) => e.startsWith('NODE_INDEX='))?.slice('NODE_INDEX='.length));
      if (Number.isInteger(index)) used.add(index);
    }
    let index = 1;
    while (used.has(index)) index++;
    if (index > MAX_NODES)
      throw new CliError(
        `kubemu node add: compose cluster "${this.cluster}" has ${MAX_NODES} nodes, the most its addresses allow`,
      );
    const apiserver = await this.apiserver();
    const ip = (await this.exec(apiserver, ['prepare', opts.node, String(index), this.cluster])).trim();

    const labels: Record<string, string> = {
      ...(template.Config.Labels as Record<string, string> | null),
      [LABEL_NODE]: opts.node,
      [COMPOSE_SERVICE]: opts.node,
    };
    delete labels['com.docker.compose.config-hash'];
    const name = containerName(template.Name, labels[COMPOSE_PROJECT], opts.node, this.cluster);
    const container = await this.docker.createContainer({
      name,
      Image: template.Config.Image,
      Env: [
        ...(template.Config.Env ?? []).filter((e) => !e.startsWith('NODE_INDEX=')),
        `NODE_INDEX=${index}`,
      ],
      Cmd: ['sh', '-c', `exec pm2-runtime ${STATE_DIR}/compose/${opts.node}.json`],
      Labels: labels,
      ...(template.Config.Healthcheck ? { Healthcheck: template.Config.Healthcheck } : {}),
      HostConfig: template.HostConfig,
    });
    await container.start();
    out.write(`node/${opts.node} started (container ${name}, kubelet and kube-proxy at ${ip})\n`);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      await this.exec(apiserver, ['wait-ready', opts.node, String(started), String(started + timeoutMs)]);
    } catch (err) {
      throw new CliError(
        `kubemu node add: node "${opts.node}" ${(err as Error).message.replace(/^kubemu node: /, '')}; ` +
          `see docker logs ${name}`,
      );
    }
    out.write(`node/${opts.node} Ready (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
  }

  /**
   * Removes the node's container (its pods die with it, as on a VM switched off) and deletes its Node, after which
   * the pod GC deletes the pods bound to it. Like `kubemu node remove` under pm2 it does not drain: run
   * `kubectl drain NAME --ignore-daemonsets` first for graceful evictions.
   */
  async remove(opts: NodeCommandOptions): Promise<void> {
    const out = opts.out ?? process.stdout;
    const nodes = await this.nodes();
    const info = nodes.get(opts.node);
    if (!info)
      throw new CliError(
        `kubemu node remove: compose cluster "${this.cluster}" has no node "${opts.node}" ` +
          `(nodes: ${[...nodes.keys()].sort().join(', ') || 'none'})`,
      );
    const apiserver = await this.apiserver();
    await this.docker.getContainer(info.Id).remove({ force: true });
    out.write(`node/${opts.node}: container ${info.Names[0]?.replace(/^\//, '') ?? info.Id} removed\n`);
    await this.exec(apiserver, ['delete', opts.node]);
    out.write(`node/${opts.node} deleted\n`);
  }

  /** `node AGENT ARGS...` in the container; its stdout, or an error with what it printed */
  private async exec(c: Docker.Container, args: string[]): Promise<string> {
    const exec = await c.exec({
      Cmd: ['node', AGENT, ...args],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let text = '';
    let errText = '';
    stdout.on('data', (b: Buffer) => (text += b.toString()));
    stderr.on('data', (b: Buffer) => (errText += b.toString()));
    this.docker.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    const { ExitCode } = await exec.inspect();
    if (ExitCode !== 0)
      throw new CliError(`kubemu node: ${errText.trim() || text.trim() || `${AGENT} exited ${ExitCode}`}`);
    return text;
  }
}

/**
 * The new container's name in the style of its siblings: Compose v2's project-service-1 or v1's project_service_1
 * (so `docker ps` lists it with them), else CLUSTER-NODE.
 */
export function containerName(
  sibling: string,
  project: string | undefined,
  node: string,
  cluster: string,
): string {
  const base = sibling.replace(/^\//, '');
  if (project && base.startsWith(`${project}_`)) return `${project}_${node}_1`;
  if (project) return `${project}-${node}-1`;
  return `${cluster}-${node}`;
}
