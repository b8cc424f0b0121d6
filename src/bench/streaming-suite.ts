// The streaming API (#20) as a user meets it: `kubectl exec POD -- true` round trips with the plain kubectl of the
// server's version (WebSocket for 1.30+; kubectl-binary.ts: not the Cloud SDK's version dispatcher, which costs an
// extra process and request per call and is reported beside it), and HTTP through `kubectl port-forward` against the
// same pod reached directly, in interleaved rounds (each request a new connection, so each is a new pair of
// port-forward streams). `kubectl version --client` (no request) beside them says how much of a call is kubectl's own
// process start-up.
import { spawn } from 'node:child_process';
import http from 'node:http';
import { basename } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { cpuMs } from './apiserver-process.js';
import { freePort, upBenchCluster } from './cluster.js';
import { readKubeconfig } from '../util/kubeconfig.js';
import { kubectlBinaries, onPath } from './kubectl-binary.js';
import { closedLoop, type LoadStats } from './load.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';
import { wsExec, type ExecPhases } from './ws-exec.js';

const EXECS = 21;
const ROUNDS = 4;
const ROUND_MS = 2000;
const CONCURRENCY = 4;
const IDLE_MS = 3000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function kubectl(bin: string, kubeconfig: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`${bin} ${args.join(' ')}: exit ${code}: ${stderr}`)),
    );
  });
}

const p50 = (xs: number[]): number => Math.round(median(xs));

/** new-connection GETs: each one is a new TCP connection (a new port-forward stream pair) */
const load = (host: string, port: number): Promise<LoadStats> =>
  closedLoop(CONCURRENCY, ROUND_MS, () => http.get({ host, port, path: '/', agent: false }));

registerSuite('streaming', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(1);
  try {
    const { client, kubeconfig } = cluster;
    await client.pods.create(
      {
        metadata: { name: 'target' },
        spec: {
          containers: [{ name: 'app', image: 'kubemu/hello:v1' }],
          // a kubelet starved of CPU by a loaded machine may miss heartbeats: the pod is not evicted mid-run for that
          tolerations: ['not-ready', 'unreachable'].map((t) => ({
            key: `node.kubernetes.io/${t}`,
            operator: 'Exists',
            effect: 'NoExecute',
          })),
        },
      },
      { namespace: 'default' },
    );
    let podIP: string | undefined;
    for (let i = 0; i < 600 && !podIP; i++) {
      const p: Pod = await client.pods.get('target', 'default');
      if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
        podIP = p.status.podIP;
      else await new Promise((r) => setTimeout(r, 100));
    }
    if (!podIP) throw new Error('the pod never became Ready');

    // the kubectl a user has: the plain binary of the server's version (asked of the server, as the Cloud SDK's
    // dispatcher asks it); the `kubectl` on PATH too when it is such a dispatcher, reported beside it
    const first = onPath('kubectl');
    if (!first) throw new Error('kubectl is not on PATH');
    const { gitVersion } = JSON.parse(await kubectl(first, kubeconfig, ['get', '--raw', '/version'])) as {
      gitVersion: string;
    };
    const bins = kubectlBinaries(gitVersion);
    // exec and kubectl's own start-up (`get --raw /version`: one request, nothing of ours to speak of) alternate, so
    // both see the same load; the control plane's CPU (user+sys) is read around each kind of run
    const pids = await cluster.processes();
    const ours = pids
      .filter((p) => p.name === 'apiserver' || p.name.startsWith('kubelet-'))
      .map((p) => p.pid);
    const cpu = (): number => ours.reduce((n, pid) => n + cpuMs(pid), 0);
    interface Series {
      ms: number[];
      cpu: number;
    }
    const series = (): Series => ({ ms: [], cpu: 0 });
    const runs = {
      exec: series(),
      version: series(),
      client: series(),
      dispatchedExec: series(),
      dispatchedVersion: series(),
    };
    const timed = async (into: Series, bin: string, args: string[]): Promise<void> => {
      const c0 = cpu();
      const t = process.hrtime.bigint();
      await kubectl(bin, kubeconfig, args);
      into.ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      into.cpu += cpu() - c0;
    };
    const exec = ['exec', 'target', '--', 'true'];
    const version = ['get', '--raw', '/version'];
    // no request at all: what of `get --raw /version` is kubectl's process start-up (its Go packages' init)
    const clientOnly = ['version', '--client'];
    // the control plane's background CPU rate (status updates, usage sampling), so what accrues because an exec
    // lasts longer than a get --raw is not counted as the exec's
    const idle0 = cpu();
    const idleT = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    const idleRate = (cpu() - idle0) / (Number(process.hrtime.bigint() - idleT) / 1e6);
    // the same exec without a kubectl process (WebSocket v5 from here): our share, in phases
    const creds = readKubeconfig(kubeconfig);
    const phases: ExecPhases[] = [];
    for (let i = 0; i < EXECS; i++) {
      const ws = await wsExec(creds, 'default', 'target', ['true']);
      if (ws.status !== 'Success') throw new Error(`exec over WebSocket ended with ${ws.status}`);
      phases.push(ws);
      await timed(runs.exec, bins.plain, exec);
      await timed(runs.version, bins.plain, version);
      await timed(runs.client, bins.plain, clientOnly);
      if (bins.dispatcher) {
        await timed(runs.dispatchedExec, bins.dispatcher, exec);
        await timed(runs.dispatchedVersion, bins.dispatcher, version);
      }
    }
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
    const execCpu = runs.exec.cpu - runs.version.cpu - idleRate * (sum(runs.exec.ms) - sum(runs.version.ms));
    const execRows: BenchResult[] = [
      {
        name: 'kubectl exec POD -- true, round trip p50',
        value: p50(runs.exec.ms),
        unit: 'ms',
        target: { op: '<=', value: 150 },
        note: `${basename(bins.plain)} (server ${gitVersion}), ${EXECS} runs (min ${Math.round(Math.min(...runs.exec.ms))}), alternating with kubectl get --raw /version`,
      },
      {
        name: 'kubectl get --raw /version p50 (kubectl’s own start-up, same run)',
        value: p50(runs.version.ms),
        unit: 'ms',
        note: `exec p50 beyond it: ${p50(runs.exec.ms) - p50(runs.version.ms)} ms`,
      },
      {
        name: 'kubectl version --client p50 (no request: the process start-up alone, same run)',
        value: p50(runs.client.ms),
        unit: 'ms',
        note: `get --raw /version beyond it (kubeconfig, a TLS connection, one request): ${p50(runs.version.ms) - p50(runs.client.ms)} ms`,
      },
      {
        name: 'kubectl exec: apiserver + kubelet CPU per exec',
        value: Number((execCpu / EXECS).toFixed(1)),
        unit: 'ms',
        note: `user+sys of the apiserver and kubelet during an exec, less during a get --raw /version (${(runs.version.cpu / EXECS).toFixed(1)} ms: background and one request) and less the background rate (${(idleRate * 1000).toFixed(1)} ms/s) over the exec's longer wall time`,
      },
    ];
    const phase = (k: keyof Omit<ExecPhases, 'status'>): number => p50(phases.map((x) => x[k]));
    execRows.push({
      name: 'exec without kubectl (WebSocket v5 from the bench), p50',
      value: phase('totalMs'),
      unit: 'ms',
      note: `to the 101 (apiserver + kubelet set-up, a new TLS connection) ${phase('upgradeMs')} ms, 101 → status (the command in the container) ${phase('commandMs')} ms; ${EXECS} runs alternating with the kubectl ones`,
    });
    if (bins.dispatcher)
      execRows.push({
        name: 'kubectl exec POD -- true p50 through the Cloud SDK’s kubectl dispatcher',
        value: p50(runs.dispatchedExec.ms),
        unit: 'ms',
        note: `${bins.dispatcher}: asks the server’s version, then runs ${basename(bins.plain)}; its get --raw /version p50 ${p50(runs.dispatchedVersion.ms)} ms, same run`,
      });
    const localPort = await freePort();
    const pf = spawn(bins.plain, [
      '--kubeconfig',
      kubeconfig,
      'port-forward',
      'pod/target',
      `${localPort}:8080`,
    ]);
    try {
      await new Promise<void>((resolve, reject) => {
        pf.stdout.on('data', (d: Buffer) => d.toString().includes('Forwarding from') && resolve());
        pf.once('exit', () => reject(new Error('kubectl port-forward exited')));
      });
      await load('127.0.0.1', localPort); // warm-up
      const direct: LoadStats[] = [];
      const forwarded: LoadStats[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) {
          direct.push(await load(podIP, 8080));
          forwarded.push(await load('127.0.0.1', localPort));
        } else {
          forwarded.push(await load('127.0.0.1', localPort));
          direct.push(await load(podIP, 8080));
        }
      }
      const setup = `kubemu/hello:v1, ${CONCURRENCY} loops of new-connection GETs, median of ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} s`;
      const errors = forwarded.reduce((n, s) => n + s.errors, 0);
      return [
        ...execRows,
        {
          name: 'port-forward: throughput / direct to the pod',
          value: Number(median(forwarded.map((f, i) => f.rps / direct[i].rps)).toFixed(3)),
          unit: 'ratio',
          note: `${Math.round(median(forwarded.map((f) => f.rps)))} vs ${Math.round(median(direct.map((d) => d.rps)))} req/s, ${errors} errors through port-forward; ${setup}`,
        },
        {
          name: 'port-forward: p99',
          value: Number(median(forwarded.map((f) => f.p99Ms)).toFixed(2)),
          unit: 'ms',
          note: `direct p99 ${median(direct.map((d) => d.p99Ms)).toFixed(2)} ms`,
        },
      ];
    } finally {
      pf.kill('SIGKILL');
    }
  } finally {
    await cluster.down();
  }
});
