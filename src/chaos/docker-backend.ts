// Chaos for the compose cluster (compose.yaml): containers found by their io.kubemu.* labels, driven with dockerode.
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import {
  ChaosError,
  formatMs,
  plainHint,
  pollFor,
  sleep,
  type ChaosBackend,
  type CommandHint,
} from './chaos.js';

/** Labels compose.yaml puts on its containers. */
export const LABEL_CLUSTER = 'io.kubemu.cluster';
export const LABEL_NODE = 'io.kubemu.node';
export const LABEL_COMPONENT = 'io.kubemu.component';

/**
 * Run inside a container with node: prints the PIDs of `kubemu <command>` processes (argv `... main.js <command>`),
 * SIGKILLing them first when argv[2] is "kill". Scans /proc because the images carry no pgrep.
 */
const FIND_SCRIPT = `
const fs = require('fs');
const [command, action] = process.argv.slice(1);
const pids = [];
for (const e of fs.readdirSync('/proc')) {
  if (!/^\\d+$/.test(e)) continue;
  let argv;
  try { argv = fs.readFileSync('/proc/' + e + '/cmdline', 'utf8').split('\\0'); } catch { continue; }
  const i = argv.findIndex((a) => a.endsWith('main.js'));
  if (i >= 0 && argv[i + 1] === command) pids.push(Number(e));
}
if (action === 'kill') for (const p of pids) try { process.kill(p, 'SIGKILL'); } catch {}
console.log(JSON.stringify(pids));
`;

export class DockerChaos implements ChaosBackend {
  constructor(
    private readonly cluster: string,
    private readonly docker = new Docker(),
    private readonly hint: CommandHint = plainHint,
  ) {}

  /** Whether any container of this cluster exists (for auto-detecting the mode). */
  static async detect(cluster: string, docker = new Docker()): Promise<boolean> {
    try {
      const found = await docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_CLUSTER}=${cluster}`] },
      });
      return found.length > 0;
    } catch {
      return false; // no docker here
    }
  }

  private async containers(label: string): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_CLUSTER}=${this.cluster}`, label] },
    });
  }

  private async one(key: string, value: string, what: string): Promise<Docker.Container> {
    const [info] = await this.containers(`${key}=${value}`);
    if (info) return this.docker.getContainer(info.Id);
    const all = await this.containers(key);
    const known = all.map((c) => c.Labels[key]).sort();
    throw new ChaosError(
      `no ${what} "${value}" in compose cluster "${this.cluster}" (${what}s: ${known.join(', ') || 'none'})`,
    );
  }

  private nodeContainer(node: string): Promise<Docker.Container> {
    return this.one(LABEL_NODE, node, 'node');
  }

  /** `docker pause` the container for `ms`, then unpause; says when it took hold. */
  private static async pauseFor(
    c: Docker.Container,
    what: string,
    ms: number,
    onPaused?: (line: string) => void,
  ): Promise<string[]> {
    const name = DockerChaos.nameOf(await c.inspect());
    await c.pause();
    const paused = `paused ${what} (docker pause ${name}) for ${formatMs(ms)}`;
    onPaused?.(paused);
    await sleep(ms);
    await c.unpause();
    return [paused, `resumed ${what} (docker unpause)`];
  }

  private static nameOf(info: Docker.ContainerInspectInfo): string {
    return info.Name.replace(/^\//, '');
  }

  async killNode(node: string): Promise<string[]> {
    const c = await this.nodeContainer(node);
    const before = await c.inspect();
    if (!before.State.Running) return [`${node} is already down (container ${DockerChaos.nameOf(before)})`];
    const pids = before.State.Paused ? [] : await this.findPids(c, 'kubelet');
    // docker kill counts as a manual stop: restart: unless-stopped leaves the container down
    if (before.State.Paused) await c.unpause().catch(() => undefined);
    await c.kill({ signal: 'SIGKILL' });
    await pollFor(10_000, async () => ((await c.inspect()).State.Running ? undefined : true));
    return [
      `killed ${node} (container ${DockerChaos.nameOf(before)}, pid ${before.State.Pid}` +
        (pids.length ? `, kubelet pid ${pids.join(',')} in it` : '') +
        `; its pods died with it); it stays down until '${this.hint(`chaos restart-node ${node}`)}'`,
    ];
  }

  async pauseNode(node: string, ms: number, onPaused?: (line: string) => void): Promise<string[]> {
    return DockerChaos.pauseFor(await this.nodeContainer(node), node, ms, onPaused);
  }

  async restartNode(node: string): Promise<string[]> {
    const c = await this.nodeContainer(node);
    const before = await c.inspect();
    if (before.State.Paused) await c.unpause();
    if (before.State.Running) await c.restart({ t: 5 });
    else await c.start();
    const after = await c.inspect();
    return [`restarted ${node} (container ${DockerChaos.nameOf(after)}, pid ${after.State.Pid})`];
  }

  async pause(component: string, ms: number, onPaused?: (line: string) => void): Promise<string[]> {
    // a node's kubelet and kube-proxy share its container: pausing one would pause the node (pause-node does)
    if (/-(node-\d+)$/.test(component))
      throw new ChaosError(
        `${component} shares its node's container with the node's other processes: '${this.hint(`chaos pause-node ${component.replace(/^.+-(node-\d+)$/, '$1')}`)}' pauses them all`,
      );
    return DockerChaos.pauseFor(
      await this.one(LABEL_COMPONENT, component, 'component'),
      component,
      ms,
      onPaused,
    );
  }

  async kill(component: string): Promise<string[]> {
    // kubelet-node-2 / kube-proxy-node-2 live in node-2's container; the rest have one container each
    const m = /^(.+)-(node-\d+)$/.exec(component);
    const c = m ? await this.nodeContainer(m[2]) : await this.one(LABEL_COMPONENT, component, 'component');
    const command = m ? m[1] : component;
    const killed = await this.findPids(c, command, true);
    if (killed.length === 0) throw new ChaosError(`${component} is not running in its container`);
    // pm2-runtime in the container restarts it, as after a crash
    const next = await pollFor(15_000, async () => {
      const now = await this.findPids(c, command).catch(() => []);
      return now.length > 0 && now.every((p) => !killed.includes(p)) ? now : undefined;
    });
    return [
      `killed ${component} (pid ${killed.join(',')} in container ${DockerChaos.nameOf(await c.inspect())}) with SIGKILL; ` +
        (next ? `pm2-runtime restarted it as pid ${next.join(',')}` : 'it has not been restarted yet'),
    ];
  }

  /** PIDs (in the container's namespace) of `kubemu <command>` processes, SIGKILLed first when `kill`. */
  private async findPids(c: Docker.Container, command: string, kill = false): Promise<number[]> {
    const exec = await c.exec({
      Cmd: ['node', '-e', FIND_SCRIPT, command, kill ? 'kill' : 'list'],
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = new PassThrough();
    const err = new PassThrough();
    let text = '';
    let errText = '';
    out.on('data', (b: Buffer) => (text += b.toString()));
    err.on('data', (b: Buffer) => (errText += b.toString()));
    this.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    try {
      return JSON.parse(text.trim()) as number[];
    } catch {
      throw new ChaosError(`could not list processes in the container: ${errText.trim() || text.trim()}`);
    }
  }

  close(): void {
    // dockerode keeps no connection open
  }
}
