// The apiserver's storage flags: --storage sqlite|etcd, upstream's --etcd-servers and --etcd-compaction-interval.
import { parseDuration } from '../../util/duration.js';

export interface StorageFlags {
  storageBackend: 'sqlite' | 'etcd';
  etcdServers?: string[];
  etcdCompactionIntervalMs?: number;
}

/** the flags' values checked; throws an Error saying which flag to fix */
export function parseStorageFlags(
  storage: string,
  etcdServers: string | undefined,
  compactionInterval: string,
): StorageFlags {
  if (storage !== 'sqlite' && storage !== 'etcd')
    throw new Error(`--storage must be sqlite or etcd, not "${storage}"`);
  if (storage === 'sqlite') {
    if (etcdServers) throw new Error('--etcd-servers is only used with --storage etcd');
    return { storageBackend: 'sqlite' };
  }
  if (!etcdServers) throw new Error('--storage etcd needs --etcd-servers (e.g. http://127.0.0.1:2379)');
  const servers = etcdServers.split(',').map((s) => s.trim());
  for (const server of servers) {
    let url: URL | undefined;
    try {
      url = new URL(server);
    } catch {
      // reported below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || !url.port)
      throw new Error(`--etcd-servers: "${server}" is not a URL like http://127.0.0.1:2379`);
    if (url.protocol === 'https:')
      throw new Error(
        `--etcd-servers: "${server}": TLS to etcd is not supported yet, use http:// on 127.0.0.1`,
      );
  }
  let intervalMs: number;
  try {
    intervalMs = parseDuration(compactionInterval);
  } catch (err) {
    throw new Error(`--etcd-compaction-interval: ${(err as Error).message} (e.g. 5m, 30s, 0 to turn it off)`);
  }
  return { storageBackend: 'etcd', etcdServers: servers, etcdCompactionIntervalMs: intervalMs };
}
