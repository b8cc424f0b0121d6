#!/usr/bin/env node
// kubelet for kubemu: `node dist/cmd/kubelet.js --kubeconfig FILE --node-name node-1 --node-ip 127.0.1.1 --pod-cidr 127.244.1.0/24 --root-dir DIR`
// [--tls-cert-file FILE --tls-private-key-file FILE --client-ca-file FILE] (`kubemu up` passes all three).
import { readFileSync } from 'node:fs';
import { parseQuantity, quantityValue } from '../api/schema/quantity.js';
import { fromKubeconfig } from '../client/index.js';
import { ApiserverReviewer } from '../kubelet/auth-webhook.js';
import { Kubelet } from '../kubelet/kubelet.js';
import { parseDuration } from '../util/duration.js';
import { DEFAULT_LOG_ROTATION, validateLogRotation } from '../kubelet/runtime/log-rotation.js';
import { CONTAINER_UMASK } from '../kubelet/runtime/isolation.js';
import { UsageError, runComponent } from '../util/component-main.js';

const AUTH_CACHE_FLAGS = [
  'authentication-token-webhook-cache-ttl',
  'authorization-webhook-cache-authorized-ttl',
  'authorization-webhook-cache-unauthorized-ttl',
] as const;
const USAGE = 'usage: kubelet --kubeconfig FILE --node-name NAME --node-ip IP --pod-cidr CIDR --root-dir DIR';

export function kubeletMain(argv: string[]): void {
  runComponent({
    name: 'kubelet',
    argv,
    options: {
      'node-name': { type: 'string' },
      'node-ip': { type: 'string' },
      'pod-cidr': { type: 'string' },
      // netns: a network namespace per pod; the kubelet must run in its node's namespace (src/netns/node-net.ts)
      'pod-network': { type: 'string', default: 'loopback' },
      cpu: { type: 'string', default: '2' },
      memory: { type: 'string', default: '4Gi' },
      'max-pods': { type: 'string', default: '110' },
      'root-dir': { type: 'string' },
      'state-dir': { type: 'string' },
      port: { type: 'string', default: '10250' },
      // upstream's flags: the serving certificate (signed by the cluster CA for the node's addresses, so the
      // apiserver can verify it) and the CA whose client certificates may call (the apiserver's)
      'tls-cert-file': { type: 'string' },
      'tls-private-key-file': { type: 'string' },
      'client-ca-file': { type: 'string' },
      // webhook authentication and authorization of the kubelet's callers, as kubeadm configures upstream's kubelet:
      // bearer tokens checked with TokenReview, every request with SubjectAccessReview, each answer cached this long
      'authentication-token-webhook-cache-ttl': { type: 'string', default: '2m0s' },
      'authorization-webhook-cache-authorized-ttl': { type: 'string', default: '5m0s' },
      'authorization-webhook-cache-unauthorized-ttl': { type: 'string', default: '30s' },
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
      // upstream's KubeletConfiguration containerLogMaxSize / containerLogMaxFiles (and their flags): 10Mi × 5
      'container-log-max-size': { type: 'string', default: '10Mi' },
      'container-log-max-files': { type: 'string', default: String(DEFAULT_LOG_ROTATION.maxFiles) },
      // the credential of the built-in local-path provisioner (its ServiceAccount's); without it, none runs
      'local-path-provisioner-kubeconfig': { type: 'string' },
    },
    // unlike the other components, the kubelet takes no $KUBECONFIG: --kubeconfig is one of its required flags
    check(v) {
      const required = ['kubeconfig', 'node-name', 'node-ip', 'pod-cidr', 'root-dir'] as const;
      const missing = required.filter((k) => !v[k]);
      if (missing.length)
        throw new UsageError(`missing flags: ${missing.map((m) => `--${m}`).join(', ')}; ${USAGE}`, {
          missing,
        });
      if (v['pod-network'] !== 'loopback' && v['pod-network'] !== 'netns')
        throw new UsageError(`--pod-network ${v['pod-network']}: want loopback or netns`);
      const memory = parseQuantity(v.memory);
      if (!memory) throw new UsageError(`--memory ${v.memory}: not a quantity`);
      if (!v['tls-cert-file'] !== !v['tls-private-key-file'])
        throw new UsageError('--tls-cert-file and --tls-private-key-file go together: give both or neither');
      const read = (
        flag: 'tls-cert-file' | 'tls-private-key-file' | 'client-ca-file',
      ): string | undefined => {
        const file = v[flag];
        if (!file) return undefined;
        try {
          return readFileSync(file, 'utf8');
        } catch (err) {
          throw new UsageError(`--${flag} ${file}: ${(err as Error).message}`);
        }
      };
      const certPem = read('tls-cert-file');
      const keyPem = read('tls-private-key-file');
      const clientCaPem = read('client-ca-file');
      const maxSize = parseQuantity(v['container-log-max-size']);
      if (!maxSize)
        throw new UsageError(
          `--container-log-max-size ${v['container-log-max-size']}: not a quantity (e.g. 10Mi)`,
        );
      const logRotation = {
        maxSize: Math.floor(quantityValue(maxSize)),
        maxFiles: Number(v['container-log-max-files']),
      };
      const ttl = (flag: (typeof AUTH_CACHE_FLAGS)[number]): number => {
        try {
          return parseDuration(v[flag]);
        } catch (err) {
          throw new UsageError(`--${flag} ${v[flag]}: ${(err as Error).message} (e.g. 2m0s, 30s)`);
        }
      };
      const [tokenTtlMs, authorizedTtlMs, unauthorizedTtlMs] = AUTH_CACHE_FLAGS.map(ttl);
      const invalid = validateLogRotation(logRotation);
      if (invalid)
        throw new UsageError(`--container-log-max-files ${v['container-log-max-files']}: ${invalid}`);
      return {
        memory,
        logRotation,
        authCache: { tokenTtlMs, authorizedTtlMs, unauthorizedTtlMs },
        ...(certPem && keyPem ? { tls: { certPem, keyPem } } : {}),
        ...(clientCaPem ? { clientCaPem } : {}),
      };
    },
    async start({
      values: v,
      checked: { memory, logRotation, tls, clientCaPem, authCache },
      logger: log,
      connect,
    }) {
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
      const { client, credentials } = connect(log.child({ module: 'client' }));
      const provisionerFile = v['local-path-provisioner-kubeconfig'];
      const provisioner = provisionerFile
        ? fromKubeconfig(provisionerFile, { logger: log.child({ module: 'provisioner-client' }) })
        : undefined;
      // the kubelet's own token creates the reviews (upstream's system:node role may)
      const reviewer = credentials.token
        ? new ApiserverReviewer({
            server: credentials.server,
            token: credentials.token,
            ...(credentials.caPem ? { caPem: credentials.caPem } : {}),
          })
        : undefined;
      if (!reviewer)
        log.warn(
          'the kubeconfig has no token: no TokenReview or SubjectAccessReview, only system:masters certificates may call',
        );
      const kubelet = await Kubelet.start({
        client,
        nodeName: v['node-name']!,
        nodeIP: v['node-ip']!,
        podCIDR: v['pod-cidr']!,
        podNetwork: v['pod-network'] === 'netns' ? 'netns' : 'loopback',
        cpu: v.cpu,
        memoryBytes: Math.floor(quantityValue(memory)),
        maxPods: Number(v['max-pods']),
        rootDir: v['root-dir']!,
        ...(v['state-dir'] ? { stateDir: v['state-dir'] } : {}),
        port: Number(v.port),
        ...(v['cluster-dns'] ? { clusterDNS: v['cluster-dns'] } : {}),
        clusterDomain: v['cluster-domain'],
        ...(tls ? { tls } : {}),
        ...(clientCaPem ? { clientCaPem } : {}),
        authWebhook: { ...(reviewer ? { reviewer } : {}), cache: authCache },
        leaseDurationSeconds: upstream ? 40 : Number(v['lease-duration-seconds']),
        leaseRenewIntervalMs: seconds('node-lease-renew-interval-seconds', 10),
        nodeStatusUpdateFrequencyMs: seconds('node-status-update-frequency-seconds', 10),
        nodeStatusReportFrequencyMs: seconds('node-status-report-frequency-seconds', 300),
        crashLoopBackoff: backoff,
        imagePullBackoff: backoff,
        logRotation,
        ...(provisioner ? { provisionerClient: provisioner.client } : {}),
        log,
      });
      return {
        async close() {
          await kubelet.close();
          await provisioner?.connection.close();
          reviewer?.close();
        },
      };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) kubeletMain(process.argv.slice(2));
