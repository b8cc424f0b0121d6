// `kubemu node add|remove NAME` for the Docker Compose cluster: a node is a container like compose.yaml's node-N
// services (same image, state volume, capabilities, host network, labels), with its kubelet and kube-proxy under
// pm2-runtime; its credentials and process file are written into the state volume by the cluster's own code, run in
// the apiserver's container.
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { LABEL_CLUSTER, LABEL_COMPONENT, LABEL_NODE } from '../../chaos/docker-backend.js';
import { CliError } from '../cli-error.js';
import type { NodeCommandOptions } from './node.js';

const STATE_DIR = '/var/lib/kubemu';
const COMPOSE_PROJECT = 'com.docker.compose.project';
const COMPOSE_SERVICE = 'com.docker.compose.service';

/** Run in the apiserver's container: the node's serving certificate, token, kubeconfigs and pm2-runtime file. */
const PREPARE_SCRIPT = `
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planNodeComponents } from '/app/dist/cli/cluster/components.js';
import { composeProcessFile } from '/app/dist/cli/cluster/compose-files.js';
import { clusterPaths, kubeletCertDir, nodeLayout } from '/app/dist/cli/cluster/layout.js';
import { ensureKubeletServingCertificate, readCertificateAuthority } from '/app/dist/util/pki.js';
const [name, index, cluster] = process.argv.slice(1);
const stateDir = ${JSON.stringify(STATE_DIR)};
const node = nodeLayout(stateDir, Number(index), name);
const ca = readCertificateAuthority(clusterPaths(stateDir).pki);
await ensureKubeletServingCertificate(ca, kubeletCertDir(node), node);
const settings = { name: cluster, stateDir, apiServerUrl: 'https://127.0.0.1:6443', port: 6443, kubeletPort: 10250,
  nodes: [node], cpu: '2', memory: '4Gi' };
const procs = planNodeComponents(settings, ca.certPem, node);
writeFileSync(join(stateDir, 'compose', name + '.json'),
  composeProcessFile(procs, stateDir, process.execPath, process.env.KUBEMU_LOG_LEVEL || 'info', node));
console.log(node.ip);
`;

/** Run in the apiserver's container: DELETE the Node as the cluster's admin (404 counts as deleted). */
const DELETE_NODE_SCRIPT = `
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { ensureTokenFile } from '/app/dist/apiserver/auth/token-file.js';
import { clusterPaths } from '/app/dist/cli/cluster/layout.js';
const [name] = process.argv.slice(1);
const stateDir = ${JSON.stringify(STATE_DIR)};
const { adminToken } = ensureTokenFile(stateDir);
const req = request('https://127.0.0.1:6443/api/v1/nodes/' + name, { method: 'DELETE',
  ca: readFileSync(clusterPaths(stateDir).caCert), headers: { Authorization: 'Bearer ' + adminToken } }, (res) => {
  res.resume();
  res.on('end', () => process.exit(res.statusCode < 300 || res.statusCode === 404 ? 0 : 1));
});
req.on('error', (e) => { console.error(String(e)); process.exit(1); });
req.end();
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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
    if (!info) throw new CliError(`no apiserver container in compose cluster "${this.cluster}"`);
    return this.docker.getContainer(info.Id);
  }

  /** node name → its container */
  private async nodes(): Promise<Map<string, Docker.ContainerInfo>> {
    const all = await this.list(LABEL_NODE);
    return new Map(all.map((c) => [c.Labels[LABEL_NODE], c]));
  }

  async add(opts: NodeCommandOptions): Promise<void> {
    const out = opts.out ?? process.stdout;
    const nodes = await this.nodes();
    const names = [...nodes.keys()].sort();
    if (nodes.size === 0)
      throw new CliError(`kubemu node add: no compose cluster "${this.cluster}" with nodes here`);
    if (nodes.has(opts.node))
      throw new CliError(
        `kubemu node add: node "${opts.node}" already exists in compose cluster "${this.cluster}" (nodes: ${names.join(', ')})`,
      );
    const template = await this.docker.getContainer(nodes.get(names[0])!.Id).inspect();
    const used = new Set<number>();
    for (const info of nodes.values()) {
      const env = (await this.docker.getContainer(info.Id).inspect()).Config.Env ?? [];
      const index = Number(env.find((e) => e.startsWith('NODE_INDEX='))?.slice('NODE_INDEX='.length));
      if (Number.isInteger(index)) used.add(index);
    }
    let index = 1;
    while (used.has(index)) index++;
    if (index > 254)
      throw new CliError(`kubemu node add: compose cluster "${this.cluster}" has no free node address`);
    const ip = (
      await this.exec(await this.apiserver(), PREPARE_SCRIPT, [opts.node, String(index), this.cluster])
    ).trim();

    const labels: Record<string, string> = {
      ...(template.Config.Labels as Record<string, string> | null),
      [LABEL_NODE]: opts.node,
      [COMPOSE_SERVICE]: opts.node,
    };
    delete labels['com.docker.compose.config-hash'];
    const project: string | undefined = labels[COMPOSE_PROJECT];
    const container = await this.docker.createContainer({
      name: project ? `${project}-${opts.node}-1` : `${this.cluster}-${opts.node}`,
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
    out.write(
      `node/${opts.node} started (container ${project ? `${project}-${opts.node}-1` : opts.node}, ${ip})\n`,
    );
    const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
    for (;;) {
      const state = (await container.inspect()).State;
      if (state.Health?.Status === 'healthy') break;
      if (!state.Running || Date.now() > deadline)
        throw new CliError(
          `kubemu node add: node "${opts.node}" did not become healthy (${state.Health?.Status ?? state.Status}); ` +
            `see docker logs ${project ? `${project}-${opts.node}-1` : opts.node}`,
        );
      await sleep(500);
    }
    out.write(`node/${opts.node} Ready\n`);
  }

  async remove(opts: NodeCommandOptions): Promise<void> {
    const out = opts.out ?? process.stdout;
    const nodes = await this.nodes();
    const info = nodes.get(opts.node);
    if (!info)
      throw new CliError(
        `kubemu node remove: compose cluster "${this.cluster}" has no node "${opts.node}" ` +
          `(nodes: ${[...nodes.keys()].sort().join(', ') || 'none'})`,
      );
    const container = this.docker.getContainer(info.Id);
    await container.remove({ force: true });
    out.write(`node/${opts.node}: container ${info.Names[0]?.replace(/^\//, '') ?? info.Id} removed\n`);
    await this.exec(await this.apiserver(), DELETE_NODE_SCRIPT, [opts.node]);
    out.write(`node/${opts.node} deleted\n`);
  }

  /** `node --input-type=module -e SCRIPT ARGS...` in the container; its stdout, or an error with its stderr */
  private async exec(c: Docker.Container, script: string, args: string[]): Promise<string> {
    const exec = await c.exec({
      Cmd: ['node', '--input-type=module', '-e', script, ...args],
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
      throw new CliError(
        `kubemu node: the cluster's script failed in its apiserver container: ${errText.trim() || text.trim()}`,
      );
    return text;
  }
}
