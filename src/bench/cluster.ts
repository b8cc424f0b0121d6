// A real cluster from `kubemu up` for benchmarks: the CLI as a user runs it, plus an admin client.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLocalPort } from '../util/free-port.js';
import { fromKubeconfig, type ApiConnection, type KubeClient } from '../client/index.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'main.js');

/** a loopback port no one listens on now */
export const freePort = freeLocalPort;

export interface BenchCluster {
  /** the cluster's state dir (a node's root dir is `<stateDir>/nodes/<node>`) */
  stateDir: string;
  client: KubeClient;
  connection: ApiConnection;
  /** the admin kubeconfig `up` wrote, for kubectl */
  kubeconfig: string;
  /** `--name ... --state-dir ...`: what names this cluster to the CLI */
  flags: string[];
  /** the CLI's environment (its own HOME) */
  env: NodeJS.ProcessEnv;
  kubemu(args: string[]): Promise<string>;
  processes(): Promise<{ name: string; pid: number }[]>;
  down(): Promise<void>;
}

export async function upBenchCluster(nodes = 3): Promise<BenchCluster> {
  const root = mkdtempSync(join(tmpdir(), 'kubemu-bench-'));
  const env = { ...process.env, HOME: join(root, 'home'), KUBEMU_LOG_LEVEL: 'warn' };
  const stateDir = join(root, 'state');
  const flags = ['--name', 'bench', '--state-dir', stateDir];
  const kubeconfig = join(root, 'kubeconfig');
  const kubemu = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        [CLI, ...args, ...flags],
        { env, timeout: 120_000 },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`kubemu ${args[0]} failed: ${stderr || err.message}`, { cause: err }));
          else resolve(stdout);
        },
      );
    });
  const port = await freePort();
  await kubemu(['up', '--nodes', String(nodes), '--port', String(port), '--kubeconfig', kubeconfig]);
  const { client, connection } = fromKubeconfig(kubeconfig);
  return {
    stateDir,
    client,
    connection,
    kubeconfig,
    flags,
    env,
    kubemu,
    async processes() {
      const status = JSON.parse(await kubemu(['status', '-o', 'json'])) as {
        processes: { name: string; pid: number }[];
      };
      return status.processes;
    },
    async down() {
      await connection.close();
      await kubemu(['down']).catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
}
