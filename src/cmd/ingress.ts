#!/usr/bin/env node
// kubemu's ingress gateway: `node dist/cmd/ingress.js --kubeconfig FILE [--http H:P] [--https H:P] [--metrics-port N|off]
// [--client-header-timeout 60s] [--keep-alive 75s] [--max-connections N]`.
// Defaults: 127.0.3.1:80/443 when root, else 127.0.3.1:8080/8443; metrics on 127.0.3.1:10254 (ingress-nginx's port);
// idle clients closed as ingress-nginx does (client-header-timeout 60 s, keep-alive 75 s); connections capped at
// ingress-nginx's max-worker-connections 16,384 or what the open-file limit allows, whichever is lower.
import {
  IngressController,
  IngressGateway,
  generateDefaultCertificate,
  type ListenAddress,
} from '../ingress/index.js';
import { DEFAULT_CLIENT_TIMEOUTS } from '../ingress/client-timeouts.js';
import { UsageError, durationFlag, runComponent } from '../util/component-main.js';
import { delegatedAuthorizer } from '../util/delegated-auth.js';
import { serveMetrics } from '../util/metrics.js';

import { DEFAULT_HTTP, DEFAULT_HTTPS, DEFAULT_INGRESS_IP } from '../util/ingress-address.js';

export { DEFAULT_HTTP, DEFAULT_HTTPS, DEFAULT_INGRESS_IP };
export const DEFAULT_METRICS_PORT = 10254;

/** `host:port`, `:port` or `port`; an empty string or `off` disables the listener */
export function parseListen(value: string, defaultHost = DEFAULT_INGRESS_IP): ListenAddress | undefined {
  if (value === '' || value === 'off') return undefined;
  const i = value.lastIndexOf(':');
  const host = i < 0 ? defaultHost : value.slice(0, i).replace(/^\[|\]$/g, '') || defaultHost;
  const port = Number(i < 0 ? value : value.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`bad listen address ${value}`);
  return { host, port };
}

export function ingressMain(argv: string[]): void {
  runComponent({
    name: 'ingress',
    argv,
    options: {
      http: { type: 'string', default: DEFAULT_HTTP },
      https: { type: 'string', default: DEFAULT_HTTPS },
      'metrics-port': { type: 'string', default: String(DEFAULT_METRICS_PORT) },
      'status-ip': { type: 'string' },
      'client-header-timeout': { type: 'string', default: `${DEFAULT_CLIENT_TIMEOUTS.headerMs / 1000}s` },
      'keep-alive': { type: 'string', default: `${DEFAULT_CLIENT_TIMEOUTS.keepAliveMs / 1000}s` },
      'max-connections': { type: 'string' },
    },
    check(values) {
      const duration = (flag: 'client-header-timeout' | 'keep-alive'): number =>
        durationFlag(flag, values[flag]);
      const max = values['max-connections'];
      if (max !== undefined && !(Number.isInteger(Number(max)) && Number(max) > 0))
        throw new UsageError(`--max-connections ${JSON.stringify(max)}: expected a positive whole number`);
      return {
        clientTimeouts: { headerMs: duration('client-header-timeout'), keepAliveMs: duration('keep-alive') },
        ...(max !== undefined ? { maxConnections: Number(max) } : {}),
      };
    },
    async start({ values, checked, logger: log, connect }) {
      const http = parseListen(values.http);
      const https = parseListen(values.https);
      const { client } = connect();
      const gateway = new IngressGateway({
        ...(http ? { http } : {}),
        ...(https ? { https } : {}),
        defaultCertificate: await generateDefaultCertificate(),
        log,
        ...checked,
      });
      const statusIp = values['status-ip'] ?? http?.host ?? https?.host ?? DEFAULT_INGRESS_IP;
      const controller = new IngressController({ client, gateway, statusIp, logger: log });
      // Routes first, listeners second: like ingress-nginx, serve nothing until the configuration is loaded,
      // so a restarted gateway never answers 404 for a route it just has not read yet.
      await controller.start();
      const bound = await gateway.start();
      // `off` (or a negative number) serves no /metrics; unlike the other components, on by default
      const metricsPort = values['metrics-port'] === 'off' ? -1 : Number(values['metrics-port']);
      // on the gateway's own address (the status IP is the host's, not this namespace's, in a netns cluster)
      const metricsHost = http?.host ?? https?.host ?? statusIp;
      // behind a TokenReview and a SubjectAccessReview of `get /metrics`, as upstream's controller-manager serves it
      // (ingress-nginx's is open; #21 asks for nothing but health to answer without a credential)
      const metrics =
        metricsPort >= 0
          ? await serveMetrics(metricsPort, metricsHost, undefined, delegatedAuthorizer(client))
          : undefined;
      log.info(
        {
          http: bound.http,
          https: bound.https,
          metricsPort: metrics?.port,
          maxConnections: gateway.maxConnections,
        },
        'ingress gateway ready',
      );
      return {
        async close() {
          await controller.stop();
          await gateway.close();
          await metrics?.close();
        },
      };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) ingressMain(process.argv.slice(2));
