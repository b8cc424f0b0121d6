#!/usr/bin/env node
// kube-proxy for kubemu: `node dist/cmd/kube-proxy.js --kubeconfig FILE --node-name node-1 --node-ip 127.0.1.1 [--metrics-port N]`.
import { parseArgs } from 'node:util';
import type { Node } from 'kubernetes-types/core/v1.js';
import { connectKubeClient, type KubeClient } from '../client/index.js';
import { Proxier } from '../proxy/index.js';
import { sleep } from '../util/clock.js';
import { readKubeconfig } from '../util/kubeconfig.js';
import { createLogger, type Logger } from '../util/logger.js';
import { serveMetrics, type MetricsServer } from '../util/metrics.js';
import { runUntilSignal } from '../util/run.js';

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
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      'node-name': { type: 'string' },
      'hostname-override': { type: 'string' },
      'node-ip': { type: 'string' },
      'metrics-port': { type: 'string' },
      'metrics-host': { type: 'string', default: '127.0.0.1' },
      'bind-retry-ms': { type: 'string', default: '400' },
      'connect-timeout-ms': { type: 'string', default: '3000' },
      'udp-idle-timeout-ms': { type: 'string', default: '30000' },
    },
    strict: true,
  });
  const log = createLogger('kube-proxy');
  const kubeconfig = values.kubeconfig ?? process.env['KUBECONFIG'];
  const nodeName = values['node-name'] ?? values['hostname-override'] ?? process.env['NODE_NAME'];
  if (!kubeconfig || !nodeName) {
    log.fatal('--kubeconfig and --node-name are required');
    process.exit(2);
  }
  runUntilSignal(log, async () => {
    const creds = readKubeconfig(kubeconfig, values.context);
    const { client, connection } = connectKubeClient({
      server: creds.server,
      ...(creds.token ? { token: creds.token } : {}),
      ...(creds.caPem ? { ca: creds.caPem } : {}),
      logger: log,
    });
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
    let metrics: MetricsServer | undefined;
    if (values['metrics-port'] !== undefined) {
      metrics = await serveMetrics(Number(values['metrics-port']), values['metrics-host'], () =>
        proxier.hasSynced(),
      );
      log.info({ port: metrics.port }, 'serving /metrics and /healthz');
    }
    log.info({ nodeName, nodeIP }, 'starting kube-proxy');
    await proxier.start();
    return {
      async close() {
        proxier.stop();
        await metrics?.close();
        await connection.close();
      },
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) kubeProxyMain(process.argv.slice(2));
