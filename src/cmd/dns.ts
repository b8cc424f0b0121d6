#!/usr/bin/env node
// kubemu's cluster DNS: `node dist/cmd/dns.js --kubeconfig FILE [--listen 127.96.0.10:53] [--zone cluster.local] [--ttl 5]`.
// The default port is 53 when this process may bind it, else 1053.
import { ClusterDns, DEFAULT_TTL, DEFAULT_ZONE } from '../dns/index.js';
import { runComponent } from '../util/component-main.js';
import { defaultDnsListen } from '../util/dns-address.js';

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
  runComponent({
    name: 'dns',
    argv,
    options: {
      listen: { type: 'string' },
      zone: { type: 'string', default: DEFAULT_ZONE },
      ttl: { type: 'string', default: String(DEFAULT_TTL) },
    },
    async start({ values, logger: log, connect }) {
      const { host, port } = parseListen(values.listen ?? defaultDnsListen());
      const { client } = connect();
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
      return { close: () => dns.stop() };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) dnsMain(process.argv.slice(2));
