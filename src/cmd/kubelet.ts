#!/usr/bin/env node
// kubelet for kubemu: `node dist/cmd/kubelet.js --kubeconfig FILE --node-name node-1 --node-ip 127.0.1.1 --pod-cidr 127.244.1.0/24 --root-dir DIR`.
import { parseQuantity, quantityValue } from '../api/schema/quantity.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { CONTAINER_UMASK } from '../kubelet/runtime/isolation.js';
import { UsageError, runComponent } from '../util/component-main.js';

const USAGE = 'usage: kubelet --kubeconfig FILE --node-name NAME --node-ip IP --pod-cidr CIDR --root-dir DIR';

export function kubeletMain(argv: string[]): void {
  runComponent({
    name: 'kubelet',
    argv,
    options: {
      'node-name': { type: 'string' },
      'node-ip': { type: 'string' },
      'pod-cidr': { type: 'string' },
      cpu: { type: 'string', default: '2' },
      memory: { type: 'string', default: '4Gi' },
      'max-pods': { type: 'string', default: '110' },
      'root-dir': { type: 'string' },
      'state-dir': { type: 'string' },
      port: { type: 'string', default: '10250' },
      // `<ip>:<port>` of the cluster DNS: upstream takes IPs only, kubemu's DNS may listen off port 53
      'cluster-dns': { type: 'string' },
      'cluster-domain': { type: 'string', default: 'cluster.local' },
      // Compressed defaults (upstream: 40 s lease, renewed every 10 s; status every 10 s, reported every 5 min).
      'lease-duration-seconds': { type: 'string', default: '2' },
      'node-lease-renew-interval-seconds': { type: 'string', default: '0.5' },
      'node-status-update-frequency-seconds': { type: 'string', default: '1' },
      'node-status-report-frequency-seconds': { type: 'string', default: '10' },
      // CrashLoopBackOff and ImagePullBackOff: upstream 10 s doubling to 300 s.
      'backoff-initial-seconds': { type: 'string', default: '1' },
      'backoff-max-seconds': { type: 'string', default: '10' },
      'upstream-timing': { type: 'boolean', default: false },
    },
    // unlike the other components, the kubelet takes no $KUBECONFIG: --kubeconfig is one of its required flags
    check(v) {
      const required = ['kubeconfig', 'node-name', 'node-ip', 'pod-cidr', 'root-dir'] as const;
      const missing = required.filter((k) => !v[k]);
      if (missing.length)
        throw new UsageError(`missing flags: ${missing.map((m) => `--${m}`).join(', ')}; ${USAGE}`, {
          missing,
        });
      const memory = parseQuantity(v.memory);
      if (!memory) throw new UsageError(`--memory ${v.memory}: not a quantity`);
      return memory;
    },
    async start({ values: v, checked: memory, logger: log, connect }) {
      // Containers get the umask a container runtime gives them (runc's 0022), not the 0077 `kubemu up` runs the
      // components with; the kubelet makes its own state (root dir, logs) 0700 explicitly.
      process.umask(CONTAINER_UMASK);
      const upstream = v['upstream-timing'];
      const seconds = (flag: keyof typeof v, upstreamValue: number): number =>
        (upstream ? upstreamValue : Number(v[flag])) * 1000;
      const backoff = {
        initialMs: seconds('backoff-initial-seconds', 10),
        maxMs: seconds('backoff-max-seconds', 300),
      };
      const { client, credentials: creds } = connect(log.child({ module: 'client' }));
      const kubelet = await Kubelet.start({
        client,
        nodeName: v['node-name']!,
        nodeIP: v['node-ip']!,
        podCIDR: v['pod-cidr']!,
        cpu: v.cpu,
        memoryBytes: Math.floor(quantityValue(memory)),
        maxPods: Number(v['max-pods']),
        rootDir: v['root-dir']!,
        ...(v['state-dir'] ? { stateDir: v['state-dir'] } : {}),
        port: Number(v.port),
        ...(v['cluster-dns'] ? { clusterDNS: v['cluster-dns'] } : {}),
        clusterDomain: v['cluster-domain'],
        token: creds.token,
        leaseDurationSeconds: upstream ? 40 : Number(v['lease-duration-seconds']),
        leaseRenewIntervalMs: seconds('node-lease-renew-interval-seconds', 10),
        nodeStatusUpdateFrequencyMs: seconds('node-status-update-frequency-seconds', 10),
        nodeStatusReportFrequencyMs: seconds('node-status-report-frequency-seconds', 300),
        crashLoopBackoff: backoff,
        imagePullBackoff: backoff,
        log,
      });
      return { close: () => kubelet.close() };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) kubeletMain(process.argv.slice(2));
