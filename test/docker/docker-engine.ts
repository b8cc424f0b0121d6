// A Docker engine of the test's own: installs docker.io/docker-compose when missing, runs dockerd in a network
// namespace of its own (so the compose cluster's host network is isolated from this machine's loopback and from
// other test clusters), and runs commands in that namespace.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { aptGetArgv } from '../helpers/tools.js';

export interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number; input?: string } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      {
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ stdout, stderr: stderr + (err && code === 1 && !stderr ? err.message : ''), code });
      },
    );
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** apt-get installs what is missing of dockerd, docker-compose and ip; throws when that fails. */
export async function ensureDockerPackages(): Promise<void> {
  const wanted = [
    ['dockerd', 'docker.io'],
    ['docker-compose', 'docker-compose'],
    ['ip', 'iproute2'],
    ['nsenter', 'util-linux'],
  ].filter(([cmd]) => !has(cmd));
  if (wanted.length === 0) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await run(...aptGetArgv(['update']), { env, timeoutMs: 300_000 });
  if (update.code !== 0) throw new Error(`apt-get update failed: ${update.stderr}`);
  const install = await run(...aptGetArgv(['install', '-y', ...wanted.map(([, pkg]) => pkg)]), {
    env,
    timeoutMs: 600_000,
  });
  if (install.code !== 0) throw new Error(`apt-get install failed: ${install.stderr}`);
}

export class DockerEngine {
  private constructor(
    readonly dir: string,
    readonly pid: number,
  ) {}

  get socket(): string {
    return `${this.dir}/docker.sock`;
  }

  /** env for docker, docker-compose and dockerode (kubemu chaos) clients of this engine */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, DOCKER_HOST: `unix://${this.socket}` };
  }

  /** Starts dockerd in a fresh network namespace (only `lo`, brought up), data under `dir`; waits for `docker info`. */
  static async start(dir: string): Promise<DockerEngine> {
    await ensureDockerPackages();
    mkdirSync(dir, { recursive: true });
    const script =
      'ip link set lo up && exec dockerd ' +
      `--data-root ${dir}/root --exec-root ${dir}/x --pidfile ${dir}/dockerd.pid -H unix://${dir}/docker.sock ` +
      '--iptables=false --ip6tables=false --bridge=none';
    const child = spawn('unshare', ['--net', '--fork', 'sh', '-c', script], {
      stdio: ['ignore', 'ignore', 'ignore'],
      detached: true,
    });
    child.unref();
    const deadline = Date.now() + 60_000;
    const env = { ...process.env, DOCKER_HOST: `unix://${dir}/docker.sock` };
    for (;;) {
      const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], {
        env,
        timeoutMs: 10_000,
      });
      if (info.code === 0 && existsSync(`${dir}/dockerd.pid`)) {
        const pid = Number(readFileSync(`${dir}/dockerd.pid`, 'utf8').trim());
        return new DockerEngine(dir, pid);
      }
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`dockerd did not start (exit ${child.exitCode}): ${info.stderr}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  docker(args: string[], timeoutMs = 120_000): Promise<Run> {
    return run('docker', args, { env: this.env, timeoutMs });
  }

  /** runs `cmd` inside the engine's network namespace (where the cluster's 127.x addresses are) */
  inNet(
    cmd: string,
    args: string[],
    opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {},
  ): Promise<Run> {
    return run('nsenter', [`--net=/proc/${this.pid}/ns/net`, '--', cmd, ...args], {
      ...opts,
      env: opts.env ?? this.env,
    });
  }

  /** Stops dockerd and removes its data (unmounting what it left mounted there). */
  async stop(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGTERM');
      const deadline = Date.now() + 20_000;
      for (;;) {
        process.kill(this.pid, 0); // throws once it is gone
        if (Date.now() > deadline) {
          process.kill(this.pid, 'SIGKILL');
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch {
      // gone
    }
    const mounts = readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((m) => m.startsWith(`${this.dir}/`))
      .reverse();
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
