// The kernel data path of #19's network model: pod → ClusterIP against pod → pod IP (throughput and the p99 of a
// new connection's first round trip), and "host" → NodePort against "host" → pod IP. Everything runs in network
// namespaces this suite makes (`ip netns add`): a node with cni0 (10.244.1.1/24) and an uplink (172.31.50.1), a
// client pod, a server pod, and an outside namespace on the uplink standing in for the host (no packet to 10.x ever
// leaves from the host's own namespace). The node's table is what kube-proxy --proxy-mode=nftables writes
// (its generator) for the Service plus 1,000 others, applied with nft. Directions alternate within each round.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NftRuleGenerator } from '../proxy/nftables/generator.js';
import type { ServicePortInfo } from '../proxy/nftables/service-ports.js';
import { median } from './ab-compare.js';
import { percentile } from './apiserver-process.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'tcp-probe.js');
const ROUNDS = 3;
const MB = 256;
const CONNECTIONS = 300;
const CLUSTER_IP = '10.96.0.10';
const NODE_IP = '172.31.50.1';
const OUTSIDE_IP = '172.31.50.2';
const CLIENT_IP = '10.244.1.2';
const SERVER_IP = '10.244.1.3';
const NODE_PORT = 30080;

function servicePort(i: number, endpoints: string[]): ServicePortInfo {
  return {
    namespace: 'bench',
    name: `s-${i}`,
    portName: 'http',
    protocol: 'tcp',
    clusterIP: i === 0 ? CLUSTER_IP : `10.96.${1 + (i >> 8)}.${i & 255}`,
    port: 80,
    nodePort: i === 0 ? NODE_PORT : 0,
    externalIPs: [],
    loadBalancerVIPs: [],
    loadBalancerSourceRanges: [],
    internalPolicyLocal: false,
    externalPolicyLocal: false,
    endpoints: endpoints.map((ip) => ({
      ip,
      port: 8080,
      ready: true,
      serving: true,
      terminating: false,
      isLocal: true,
    })),
  };
}

interface Latency {
  connectRttMs: number[];
  rttMs: number[];
}

registerSuite('service-path', async (): Promise<BenchResult[]> => {
  execFileSync('nft', ['--version']);
  const prefix = `kubemu-bench-svc-${process.pid}`;
  const made: string[] = [];
  const children: ChildProcess[] = [];
  const ns = (short: string): string => `${prefix}-${short}`;
  const ip = (short: string, ...args: string[]): void => void execFileSync('ip', ['-n', ns(short), ...args]);
  const inNs = (short: string, cmd: string, args: string[], input?: string): string =>
    execFileSync('ip', ['netns', 'exec', ns(short), cmd, ...args], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      ...(input !== undefined ? { input } : {}),
    });
  const add = (short: string): void => {
    execFileSync('ip', ['netns', 'add', ns(short)]);
    made.push(ns(short));
    ip(short, 'link', 'set', 'lo', 'up');
  };
  const probe = <T>(short: string, args: string[]): T =>
    JSON.parse(inNs(short, process.execPath, [PROBE, ...args])) as T;
  try {
    add('node');
    ip('node', 'link', 'add', 'cni0', 'type', 'bridge');
    ip('node', 'addr', 'add', '10.244.1.1/24', 'dev', 'cni0');
    ip('node', 'link', 'set', 'cni0', 'up');
    inNs('node', 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    for (const [i, [short, addr]] of [
      ['client', CLIENT_IP],
      ['server', SERVER_IP],
    ].entries()) {
      add(short);
      ip('node', 'link', 'add', `veth${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns(short));
      ip('node', 'link', 'set', `veth${i}`, 'master', 'cni0', 'up');
      ip(short, 'addr', 'add', `${addr}/24`, 'dev', 'eth0');
      ip(short, 'link', 'set', 'eth0', 'up');
      ip(short, 'route', 'add', 'default', 'via', '10.244.1.1');
    }
    add('outside');
    ip('node', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns('outside'));
    ip('node', 'addr', 'add', `${NODE_IP}/24`, 'dev', 'eth0');
    ip('node', 'link', 'set', 'eth0', 'up');
    ip('outside', 'addr', 'add', `${OUTSIDE_IP}/24`, 'dev', 'eth0');
    ip('outside', 'link', 'set', 'eth0', 'up');
    ip('outside', 'route', 'add', '10.244.1.0/24', 'via', NODE_IP);

    const gen = new NftRuleGenerator({
      family: 'IPv4',
      masqueradeMark: '0x4000',
      localCIDRs: ['10.244.0.0/16'],
      nodePortIPs: [NODE_IP],
      nodeIP: NODE_IP,
      serviceCIDRs: ['10.96.0.0/12'],
    });
    const ports = new Map<string, ServicePortInfo[]>();
    ports.set('bench/s-0', [servicePort(0, [SERVER_IP])]);
    for (let i = 1; i <= 1000; i++)
      ports.set(`bench/s-${i}`, [
        servicePort(
          i,
          [0, 1, 2].map((j) => `10.244.${2 + j}.${1 + (i % 250)}`),
        ),
      ]);
    inNs('node', 'nft', ['-f', '-'], gen.plan(ports, new Set(), Date.now()).script);

    const server = spawn('ip', ['netns', 'exec', ns('server'), process.execPath, PROBE, 'server', '8080'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`the probe server exited with ${code}`)));
    });

    const pod = { direct: `${SERVER_IP}:8080`, service: `${CLUSTER_IP}:80` };
    const host = { direct: `${SERVER_IP}:8080`, service: `${NODE_IP}:${NODE_PORT}` };
    type Side = 'direct' | 'service';
    const tput: Record<string, Record<Side, number[]>> = {
      pod: { direct: [], service: [] },
      host: { direct: [], service: [] },
    };
    const lat: Record<string, Record<Side, Latency[]>> = {
      pod: { direct: [], service: [] },
      host: { direct: [], service: [] },
    };
    for (let r = 0; r < ROUNDS; r++) {
      const order: Side[] = r % 2 === 0 ? ['direct', 'service'] : ['service', 'direct'];
      for (const [from, targets] of [
        ['client', pod],
        ['outside', host],
      ] as const) {
        const key = from === 'client' ? 'pod' : 'host';
        for (const side of order) {
          const [h, p] = targets[side].split(':');
          tput[key][side].push(probe<{ mbPerS: number }>(from, ['throughput', h, p, String(MB)]).mbPerS);
          lat[key][side].push(probe<Latency>(from, ['latency', h, p, String(CONNECTIONS)]));
        }
      }
    }
    const p99 = (ls: Latency[], k: keyof Latency): number =>
      percentile(
        ls.flatMap((l) => l[k]).sort((a, b) => a - b),
        99,
      );
    const ratio = (key: string): number => median(tput[key].service.map((s, i) => s / tput[key].direct[i]));
    const mbps = (key: string, side: Side): string => tput[key][side].map((x) => Math.round(x)).join(', ');
    const figures = (key: string, svc: string) =>
      `${svc}: ${mbps(key, 'service')} MB/s against ${mbps(key, 'direct')} MB/s direct per round; p99 of a new connection's first round trip ${p99(lat[key].service, 'connectRttMs').toFixed(2)} ms against ${p99(lat[key].direct, 'connectRttMs').toFixed(2)} ms, of a round trip on an open connection ${p99(lat[key].service, 'rttMs').toFixed(2)} against ${p99(lat[key].direct, 'rttMs').toFixed(2)} ms`;
    const setup = `${ROUNDS} rounds alternating, ${MB} MB and ${CONNECTIONS} connections each way a round; node namespace with kube-proxy's nftables table for 1,001 Services; Node.js clients`;
    return [
      {
        name: 'pod → ClusterIP throughput ÷ pod → pod IP',
        value: Number(ratio('pod').toFixed(3)),
        unit: 'ratio',
        target: { op: '>=', value: 0.9 },
        note: `${figures('pod', 'ClusterIP')}; ${setup}`,
      },
      {
        name: "pod → ClusterIP: added p99 of a new connection's first round trip",
        value: Number(
          (p99(lat.pod.service, 'connectRttMs') - p99(lat.pod.direct, 'connectRttMs')).toFixed(3),
        ),
        unit: 'ms',
        target: { op: '<=', value: 0.3 },
        note: 'ClusterIP p99 minus pod IP p99 (the DNAT is looked up when a connection starts); see the throughput row',
      },
      {
        name: 'host → NodePort throughput ÷ host → pod IP',
        value: Number(ratio('host').toFixed(3)),
        unit: 'ratio',
        note: `${figures('host', 'NodePort')}; "host": a namespace on the node's uplink; reported, no target`,
      },
    ];
  } finally {
    for (const c of children) c.kill('SIGKILL');
    for (const name of made.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name]);
      } catch {
        /* already gone */
      }
    }
  }
});
