// One `exec POD -- CMD` as kubectl ≥ 1.30 speaks it (WebSocket, v5.channel.k8s.io), from inside the bench: no
// kubectl process, so its phases can be told apart — the apiserver's and kubelet's set-up (until the 101), the
// command in the container (until the status on the error channel), and the close.
import WebSocket from 'ws';
import type { KubeconfigCredentials } from '../util/kubeconfig.js';

export interface ExecPhases {
  /** request sent → 101 Switching Protocols (a TLS connection to the apiserver, which dials the kubelet) */
  upgradeMs: number;
  /** 101 → the status on the error channel (the command started, ran and ended in the container) */
  commandMs: number;
  /** request sent → the connection closed */
  totalMs: number;
  /** the status's reason, or 'Success' */
  status: string;
}

const ERROR_CHANNEL = 3;

export function wsExec(
  creds: KubeconfigCredentials,
  namespace: string,
  pod: string,
  command: string[],
  timeoutMs = 30_000,
): Promise<ExecPhases> {
  const q = new URLSearchParams();
  for (const c of command) q.append('command', c);
  q.set('stdout', 'true');
  q.set('stderr', 'true');
  const url = `${creds.server.replace(/^http/, 'ws')}/api/v1/namespaces/${namespace}/pods/${pod}/exec?${q.toString()}`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let upgraded = NaN;
    let statusAt = NaN;
    let status = '';
    const ws = new WebSocket(url, ['v5.channel.k8s.io'], {
      ...(creds.caPem ? { ca: creds.caPem } : {}),
      headers: creds.token ? { Authorization: `Bearer ${creds.token}` } : {},
      perMessageDeflate: false,
    });
    const timer = setTimeout(() => ws.terminate(), timeoutMs);
    ws.once('upgrade', () => (upgraded = performance.now()));
    ws.on('message', (data: Buffer) => {
      if (data[0] !== ERROR_CHANNEL) return;
      statusAt = performance.now();
      const decoded = JSON.parse(data.subarray(1).toString()) as { reason?: string };
      status = decoded.reason ?? 'Success';
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.once('close', () => {
      clearTimeout(timer);
      if (Number.isNaN(statusAt)) {
        reject(new Error('the exec closed without a status'));
        return;
      }
      resolve({
        upgradeMs: upgraded - t0,
        commandMs: statusAt - upgraded,
        totalMs: performance.now() - t0,
        status,
      });
    });
  });
}
