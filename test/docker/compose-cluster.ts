// The compose cluster for tests: a Docker engine of the test's own (docker-engine.ts), a base image built
// locally (no registry), an offline build context, `compose up -d --build` and 3 Ready nodes for kubectl.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DockerEngine, run, type Run } from './docker-engine.js';
import { kubectlBin } from '../helpers/kubectl.js';

export const REPO = resolve(import.meta.dirname, '../..');
const BASE_IMAGE = 'kubemu-base:local';

export interface ComposeCluster {
  engine: DockerEngine;
  /** io.kubemu.cluster label of its containers (and `kubemu chaos --name`) */
  cluster: string;
  kubeconfig: string;
  compose(args: string[], timeoutMs?: number): Promise<Run>;
  /** kubectl inside the engine's network namespace, where 127.0.0.1:6443 is the cluster's */
  kubectl(args: string[], input?: string): Promise<Run>;
  /** `kubemu ARGS` (dist/cli) as a client of the engine */
  kubemu(args: string[]): Promise<Run>;
  /** `compose down -v`, dockerd stopped, temp files removed */
  stop(): Promise<void>;
}

export const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

/** Everything up to `compose up -d --build` and 3 Ready nodes; throws (after cleaning up) when any step fails. */
export async function startComposeCluster(opts: {
  project: string;
  cluster: string;
}): Promise<ComposeCluster> {
  const work = mkdtempSync(join(tmpdir(), 'kubemu-docker-'));
  const kubeconfig = join(work, 'out', 'kubeconfig');
  let engine: DockerEngine | undefined;
  let compose: ComposeCluster['compose'] | undefined;
  const stop = async (): Promise<void> => {
    // --remove-orphans: node containers `kubemu node add` made
    if (compose) await compose(['down', '-v', '--remove-orphans', '--timeout', '5'], 120_000);
    await engine?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    // a short path: dockerd's sockets live under it
    engine = await DockerEngine.start(join('/tmp', `kd${process.pid}${opts.project.slice(0, 4)}`));
    const e = engine;
    must(await run('sh', [join(REPO, 'docker/base-image.sh'), BASE_IMAGE], { env: e.env }), 'base image');
    const context = join(work, 'context');
    must(
      await run(process.execPath, [join(REPO, 'docker/stage-context.mjs'), context], { timeoutMs: 120_000 }),
      'stage context',
    );
    const v2 = (await e.docker(['compose', 'version'])).code === 0;
    const env = {
      ...e.env,
      BASE_IMAGE,
      PREBUILT: '1',
      KUBEMU_BUILD_CONTEXT: context,
      KUBEMU_KUBECONFIG_DIR: join(work, 'out'),
      KUBEMU_CLUSTER_NAME: opts.cluster,
    };
    const file = join(REPO, 'compose.yaml');
    const c: ComposeCluster['compose'] = (args, timeoutMs = 300_000) =>
      v2
        ? run('docker', ['compose', '-p', opts.project, '-f', file, ...args], { env, timeoutMs })
        : run('docker-compose', ['-p', opts.project, '-f', file, ...args], { env, timeoutMs });
    compose = c;
    must(await c(['up', '-d', '--build']), 'compose up');
    const kubectl = (args: string[], input?: string): Promise<Run> =>
      e.inNet(kubectlBin(), ['--kubeconfig', kubeconfig, ...args], {
        timeoutMs: 30_000,
        ...(input !== undefined ? { input } : {}),
      });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await kubectl(['get', 'nodes', '-o', 'json']);
      const ready =
        r.code === 0
          ? (
              JSON.parse(r.stdout) as {
                // a Node just registered has no conditions until its kubelet writes its status
                items: { status?: { conditions?: { type: string; status: string }[] } }[];
              }
            ).items.filter((n) =>
              n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'),
            ).length
          : 0;
      if (ready === 3) break;
      if (Date.now() > deadline) throw new Error(`3 Ready nodes not seen in 120 s: ${r.stdout}${r.stderr}`);
      await new Promise((res) => setTimeout(res, 500));
    }
    return {
      engine: e,
      cluster: opts.cluster,
      kubeconfig,
      compose: c,
      kubectl,
      kubemu: (args) =>
        run(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], { env: e.env, timeoutMs: 60_000 }),
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
