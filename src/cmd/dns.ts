#!/usr/bin/env node
// kubemu's cluster DNS: `node dist/cmd/dns.js --kubeconfig FILE [--listen 127.96.0.10:53] [--zone cluster.local] [--ttl 5]
// [--read-timeout 3s] [--write-timeout 5s] [--idle-timeout 10s]`.
// The default port is 53 when this process may bind it, else 1053; the TCP timeouts are CoreDNS's (`timeouts` plugin).
import { ClusterDns, DEFAULT_TTL, DEFAULT_ZONE } from '../dns/index.js';
import { DEFAULT_TCP_TIMEOUTS, type TcpTimeouts } from '../dns/index.js';
import { durationFlag, runComponent } from '../util/component-main.js';
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
      'read-timeout': { type: 'string', default: `${DEFAULT_TCP_TIMEOUTS.readMs / 1000}s` },
      'write-timeout': { type: 'string', default: `${DEFAULT_TCP_TIMEOUTS.writeMs / 1000}s` },
      'idle-timeout': { type: 'string', default: `${DEFAULT_TCP_TIMEOUTS.idleMs / 1000}s` },
    },
    check(values): TcpTimeouts {
      const duration = (flag: 'read-timeout' | 'write-timeout' | 'idle-timeout'): number =>
        durationFlag(flag, values[flag]);
      return {
        readMs: duration('read-timeout'),
        writeMs: duration('write-timeout'),
        idleMs: duration('idle-timeout'),
      };
    },
    async start({ values, checked: tcpTimeouts, logger: log, connect }) {
      const { host, port } = parseListen(values.listen ?? defaultDnsListen());
      const { client } = connect();
      const dns = new ClusterDns({
        client,
        host,
        port,
        zone: values.zone,
        ttl: Number(values.ttl),
        logger: log,
        tcpTimeouts,
      });
      await dns.start();
      log.info({ listen: `${host}:${dns.port}`, zone: values.zone }, 'serving cluster DNS');
      return { close: () => dns.stop() };
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) dnsMain(process.argv.slice(2));
