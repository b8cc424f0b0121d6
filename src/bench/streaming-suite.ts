// The streaming API (#20) as a user meets it: `kubectl exec POD -- true` round trips (kubectl on PATH, WebSocket for
// 1.30+), and HTTP through `kubectl port-forward` against the same pod reached directly, in interleaved rounds
// (each request a new connection, so each is a new pair of port-forward streams).
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { cpuMs } from './apiserver-process.js';
import { freePort, upBenchCluster } from './cluster.js';
import { closedLoop, type LoadStats } from './load.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const EXECS = 21;
const ROUNDS = 4;
const ROUND_MS = 2000;
const CONCURRENCY = 4;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function kubectl(kubeconfig: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${stderr}`)),
    );
  });
}

/** new-connection GETs: each one is a new TCP connection (a new port-forward stream pair) */
const load = (host: string, port: number): Promise<LoadStats> =>
  closedLoop(CONCURRENCY, ROUND_MS, () => http.get({ host, port, path: '/', agent: false }));

registerSuite('streaming', async (): Promise<BenchResult[]> => {
  const cluster = await upBenchCluster(1);
  try {
    const { client, kubeconfig } = cluster;
    await client.pods.create(
      { metadata: { name: 'target' }, spec: { containers: [{ name: 'app', image: 'kubemu/hello:v1' }] } },
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

    // exec and kubectl's own start-up (`get --raw /version`: one request, nothing of ours to speak of) alternate, so
    // both see the same load; the control plane's CPU (user+sys) is read around each kind of run
    const pids = await cluster.processes();
    const ours = pids
      .filter((p) => p.name === 'apiserver' || p.name.startsWith('kubelet-'))
      .map((p) => p.pid);
    const cpu = (): number => ours.reduce((n, pid) => n + cpuMs(pid), 0);
    const execMs: number[] = [];
    const versionMs: number[] = [];
    let execCpu = 0;
    let versionCpu = 0;
    const timed = async (args: string[]): Promise<{ ms: number; cpu: number }> => {
      const c0 = cpu();
      const t = process.hrtime.bigint();
      await kubectl(kubeconfig, args);
      return { ms: Number(process.hrtime.bigint() - t) / 1e6, cpu: cpu() - c0 };
    };
    for (let i = 0; i < EXECS; i++) {
      const e = await timed(['exec', 'target', '--', 'true']);
      execMs.push(e.ms);
      execCpu += e.cpu;
      const v = await timed(['get', '--raw', '/version']);
      versionMs.push(v.ms);
      versionCpu += v.cpu;
    }
    const localPort = await freePort();
    const pf = spawn('kubectl', [
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
        {
          name: 'kubectl exec POD -- true, round trip p50',
          value: Math.round(median(execMs)),
          unit: 'ms',
          target: { op: '<=', value: 150 },
          note: `${EXECS} runs (min ${Math.round(Math.min(...execMs))}), alternating with kubectl get --raw /version`,
        },
        {
          name: 'kubectl get --raw /version p50 (kubectl’s own start-up, same run)',
          value: Math.round(median(versionMs)),
          unit: 'ms',
          note: `exec p50 beyond it: ${Math.round(median(execMs) - median(versionMs))} ms`,
        },
        {
          name: 'kubectl exec: apiserver + kubelet CPU per exec',
          value: Number(((execCpu - versionCpu) / EXECS).toFixed(1)),
          unit: 'ms',
          note: `user+sys of the apiserver and kubelet during an exec, less during a get --raw /version (${(versionCpu / EXECS).toFixed(1)} ms: background and one request)`,
        },
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
