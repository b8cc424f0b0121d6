#!/usr/bin/env node
// kubemu's cluster DNS: `node dist/cmd/dns.js --kubeconfig FILE [--listen 127.96.0.10:53] [--zone cluster.local] [--ttl 5]`.
// The default port is 53 when this process may bind it, else 1053.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { connectKubeClient } from '../client/index.js';
import { ClusterDns, DEFAULT_DNS_IP, DEFAULT_TTL, DEFAULT_ZONE } from '../dns/index.js';
import { readKubeconfig } from '../util/kubeconfig.js';
import { createLogger } from '../util/logger.js';
import { runUntilSignal } from '../util/run.js';

/** may this process bind port 53? root, or a lowered net.ipv4.ip_unprivileged_port_start */
function mayBindPort53(): boolean {
  if (process.getuid?.() === 0) return true;
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim()) <= 53;
  } catch {
    return false;
  }
}

export function defaultListen(): string {
  return `${DEFAULT_DNS_IP}:${mayBindPort53() ? 53 : 1053}`;
}

/** `127.96.0.10:53` → host and port */
export function parseListen(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(':');
  const host = colon < 0 ? text : text.slice(0, colon);
  const port = colon < 0 ? 53 : Number(text.slice(colon + 1));
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`--listen ${JSON.stringify(text)}: expected HOST:PORT such as 127.96.0.10:53`);
  return { host, port };
}

export function dnsMain(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      listen: { type: 'string' },
      zone: { type: 'string', default: DEFAULT_ZONE },
      ttl: { type: 'string', default: String(DEFAULT_TTL) },
    },
    strict: true,
  });
  const log = createLogger('dns');
  const kubeconfig = values.kubeconfig ?? process.env['KUBECONFIG'];
  if (!kubeconfig) {
    log.fatal('--kubeconfig is required');
    process.exit(2);
  }
  runUntilSignal(log, async () => {
    const { host, port } = parseListen(values.listen ?? defaultListen());
    const creds = readKubeconfig(kubeconfig, values.context);
    const { client, connection } = connectKubeClient({
      server: creds.server,
      ...(creds.token ? { token: creds.token } : {}),
      ...(creds.caPem ? { ca: creds.caPem } : {}),
      logger: log,
    });
    const dns = new ClusterDns({
      client,
      host,
      port,
      zone: values.zone,
      ttl: Number(values.ttl),
      logger: log,
    });
    await dns.start();
    log.info({ listen: `${host}:${dns.port}`, zone: values.zone }, 'serving cluster DNS');
    return {
      async close() {
        await dns.stop();
        await connection.close();
      },
    };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) dnsMain(process.argv.slice(2));
