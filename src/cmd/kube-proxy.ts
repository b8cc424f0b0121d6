#!/usr/bin/env node
// kube-proxy for kubemu: `node dist/cmd/kube-proxy.js --kubeconfig FILE --node-name node-1 --node-ip 127.0.1.1
// [--proxy-mode userspace|nftables] [--metrics-port N]`.
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../client/index.js';
import { Proxier } from '../proxy/index.js';
import { NftProxier, nftablesUnavailable } from '../proxy/nftables/index.js';
import { sleep } from '../util/clock.js';
import { parseDuration } from '../util/duration.js';
import { METRICS_OPTIONS, UsageError, durationFlag, runComponent } from '../util/component-main.js';
import type { Logger } from '../util/logger.js';

/**
 * --proxy-mode: `userspace` (kubemu's listeners on the shared loopback; the default until every node has its own
 * network namespace) or upstream's `nftables` (kernel forwarding, only inside a node's network namespace).
 */
const PROXY_MODES = ['userspace', 'nftables'] as const;
type ProxyMode = (typeof PROXY_MODES)[number];

/** without --node-ip, the Node's InternalIPs (as upstream's --bind-address detection), waiting for the kubelet to register it */
async function nodeInternalIPs(client: KubeClient, nodeName: string, log: Logger): Promise<string[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const node: Node = await client.nodes.get(nodeName);
      const ips = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
      if (ips.length) return ips;
    } catch (err) {
      if (attempt === 0) log.info({ err }, 'waiting for the Node object to learn its InternalIP');
    }
    await sleep(500);
  }
}

export function kubeProxyMain(argv: string[]): void {
  runComponent({
    name: 'kube-proxy',
    argv,
    options: {
      'node-name': { type: 'string' },
      'hostname-override': { type: 'string' },
      'node-ip': { type: 'string' },
      ...METRICS_OPTIONS,
      'bind-retry-ms': { type: 'string', default: '400' },
      'connect-timeout-ms': { type: 'string', default: '3000' },
      'udp-idle-timeout-ms': { type: 'string', default: '30000' },
      'proxy-mode': { type: 'string', default: 'userspace' },
      // nftables mode, as upstream's flags
      'cluster-cidr': { type: 'string' },
      'masquerade-bit': { type: 'string', default: '14' },
      'masquerade-all': { type: 'boolean', default: false },
      'min-sync-period': { type: 'string', default: '1s' },
      'sync-period': { type: 'string', default: '30s' },
    },
    check(values, kubeconfig) {
      const nodeName = values['node-name'] ?? values['hostname-override'] ?? process.env['NODE_NAME'];
      if (!kubeconfig || !nodeName) throw new UsageError('--kubeconfig and --node-name are required');
      const mode = values['proxy-mode'] as ProxyMode;
      if (!PROXY_MODES.includes(mode))
        throw new UsageError(
          `--proxy-mode ${JSON.stringify(values['proxy-mode'])}: kubemu's kube-proxy supports ${PROXY_MODES.join(' and ')}` +
            (['iptables', 'ipvs', 'kernelspace'].includes(values['proxy-mode'] ?? '')
              ? ' (nftables is the kernel mode here)'
              : ''),
        );
      const bit = Number(values['masquerade-bit']);
      if (!Number.isInteger(bit) || bit < 0 || bit > 31)
        throw new UsageError(`--masquerade-bit ${values['masquerade-bit']}: must be within [0, 31]`);
      if (mode === 'nftables') {
        durationFlag('min-sync-period', values['min-sync-period']);
        durationFlag('sync-period', values['sync-period']);
        const why = nftablesUnavailable();
        if (why) throw new UsageError(why);
      }
      return { nodeName, mode };
    },
    async start({ values, checked: { nodeName, mode }, logger: log, connect, serveMetrics }) {
      const { client } = connect();
      const nodeIPs = values['node-ip']
        ? values['node-ip'].split(',').map((s) => s.trim())
        : await nodeInternalIPs(client, nodeName, log);
      if (mode === 'nftables') {
        const proxier = new NftProxier({
          client,
          nodeName,
          nodeIPs,
          clusterCIDRs: (values['cluster-cidr'] ?? '')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          masqueradeBit: Number(values['masquerade-bit']),
          masqueradeAll: values['masquerade-all'] ?? false,
          minSyncPeriodMs: parseDuration(values['min-sync-period']),
          syncPeriodMs: parseDuration(values['sync-period']),
          // KUBEMU_NFT_SESSION=off: one `nft -f -` process a sync, as before (the bench's A/B comparison)
          nftSession: process.env['KUBEMU_NFT_SESSION'] !== 'off',
          logger: log,
        });
        // open as upstream's kube-proxy metrics (its node-proxier identity may create no TokenReview)
        await serveMetrics(() => proxier.hasSynced(), 'serving /metrics and /healthz', true);
        log.info({ nodeName, nodeIPs, proxyMode: mode }, 'starting kube-proxy');
        await proxier.start();
        return {
          close() {
            proxier.stop();
            return Promise.resolve();
          },
        };
      }
      const nodeIP = nodeIPs[0];
      const proxier = new Proxier({
        client,
        nodeName,
        nodeIP,
        logger: log,
        bindRetryMs: Number(values['bind-retry-ms']),
        connectTimeoutMs: Number(values['connect-timeout-ms']),
        udpIdleTimeoutMs: Number(values['udp-idle-timeout-ms']),
      });
      await serveMetrics(() => proxier.hasSynced(), 'serving /metrics and /healthz', true);
      log.info({ nodeName, nodeIP, proxyMode: mode }, 'starting kube-proxy');
      await proxier.start();
      return {
        close() {
          proxier.stop();
          return Promise.resolve();
        },
      };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) kubeProxyMain(process.argv.slice(2));
