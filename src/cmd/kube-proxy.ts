#!/usr/bin/env node
// kube-proxy for kubemu: `node dist/cmd/kube-proxy.js --kubeconfig FILE --node-name node-1 --node-ip 127.0.1.1 [--metrics-port N]`.
import type { Node } from 'kubernetes-types/core/v1.js';
import type { KubeClient } from '../client/index.js';
import { Proxier } from '../proxy/index.js';
import { sleep } from '../util/clock.js';
import { METRICS_OPTIONS, UsageError, runComponent } from '../util/component-main.js';
import type { Logger } from '../util/logger.js';

/** without --node-ip, the Node's InternalIP (as upstream's --bind-address detection), waiting for the kubelet to register it */
async function nodeInternalIP(client: KubeClient, nodeName: string, log: Logger): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const node: Node = await client.nodes.get(nodeName);
      const ip = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
      if (ip) return ip;
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
    },
    check(values, kubeconfig) {
      const nodeName = values['node-name'] ?? values['hostname-override'] ?? process.env['NODE_NAME'];
      if (!kubeconfig || !nodeName) throw new UsageError('--kubeconfig and --node-name are required');
      return nodeName;
    },
    async start({ values, checked: nodeName, logger: log, connect, serveMetrics }) {
      const { client } = connect();
      const nodeIP = values['node-ip'] ?? (await nodeInternalIP(client, nodeName, log));
      const proxier = new Proxier({
        client,
        nodeName,
        nodeIP,
        logger: log,
        bindRetryMs: Number(values['bind-retry-ms']),
        connectTimeoutMs: Number(values['connect-timeout-ms']),
        udpIdleTimeoutMs: Number(values['udp-idle-timeout-ms']),
      });
      await serveMetrics(() => proxier.hasSynced(), 'serving /metrics and /healthz');
      log.info({ nodeName, nodeIP }, 'starting kube-proxy');
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
