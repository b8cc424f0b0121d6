#!/usr/bin/env node
// kube-apiserver for kubemu: `node dist/cmd/apiserver.js --state-dir DIR [--port 6443] [--host 127.0.0.1]`.
import { parseArgs } from 'node:util';
import { startApiServer } from '../apiserver/apiserver.js';
import { pluginList } from '../apiserver/admission/index.js';
import { parseAuthorizationMode, type AuthorizationMode } from '../apiserver/auth/rbac/index.js';
import { createLogger } from '../util/logger.js';
import { runUntilSignal } from '../util/run.js';
import { parseStorageFlags } from '../apiserver/storage/storage-flags.js';
import { parseDuration } from '../util/duration.js';

export function apiserverMain(argv: string[]): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      'state-dir': { type: 'string' },
      port: { type: 'string', default: '6443' },
      host: { type: 'string', default: '127.0.0.1' },
      // more serving-certificate names, as k3s's flag (kubemu up --network=netns: the host's address, 10.96.0.1)
      'tls-san': { type: 'string', multiple: true, default: [] },
      name: { type: 'string', default: 'kubemu' },
      'service-cluster-ip-range': { type: 'string', default: '127.96.0.0/16' },
      'service-node-port-range': { type: 'string', default: '30000-32767' },
      'default-not-ready-toleration-seconds': { type: 'string', default: '2' },
      'watch-cache-size': { type: 'string', default: '10000' },
      'bookmark-interval-ms': { type: 'string', default: '5000' },
      'enable-admission-plugins': { type: 'string' },
      'disable-admission-plugins': { type: 'string' },
      'authorization-mode': { type: 'string', default: 'Node,RBAC' },
      'service-account-issuer': { type: 'string', multiple: true, default: [] },
      'api-audiences': { type: 'string' },
      'service-account-signing-key-file': { type: 'string' },
      'service-account-key-file': { type: 'string', multiple: true, default: [] },
      'anonymous-auth': { type: 'string', default: 'true' },
      'encryption-provider-config': { type: 'string' },
      // where objects live: sqlite (the state dir's state.db, default) or etcd (upstream's --etcd-servers)
      storage: { type: 'string', default: 'sqlite' },
      'etcd-servers': { type: 'string' },
      'etcd-compaction-interval': { type: 'string', default: '5m' },
      // upstream's: how long Events are kept after their last write
      'event-ttl': { type: 'string', default: '1h0m0s' },
      // the port the `kubernetes` Service's endpoints name (default --port): the balancer's, behind one
      'advertise-port': { type: 'string' },
    },
    strict: true,
  });
  const log = createLogger('apiserver');
  const stateDir = values['state-dir'];
  if (!stateDir) {
    log.fatal('--state-dir is required');
    process.exit(2);
  }
  let authorizationMode: AuthorizationMode;
  try {
    authorizationMode = parseAuthorizationMode(values['authorization-mode']);
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(2);
  }
  let storage: {
    storageBackend: 'sqlite' | 'etcd';
    etcdServers?: string[];
    etcdCompactionIntervalMs?: number;
  };
  try {
    storage = parseStorageFlags(values.storage, values['etcd-servers'], values['etcd-compaction-interval']);
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(2);
  }
  let eventTtlSeconds: number;
  try {
    eventTtlSeconds = parseDuration(values['event-ttl']) / 1000;
    if (!(eventTtlSeconds >= 1))
      throw new TypeError(`--event-ttl must be at least 1s, got "${values['event-ttl']}"`);
  } catch (err) {
    log.fatal((err as Error).message);
    process.exit(2);
  }
  const [lo, hi] = values['service-node-port-range'].split('-').map(Number);
  runUntilSignal(log, () =>
    startApiServer({
      stateDir,
      host: values.host,
      tlsSans: values['tls-san'],
      port: Number(values.port),
      logger: log,
      clusterName: values.name,
      serviceCidr: values['service-cluster-ip-range'],
      nodePortRange: [lo, hi],
      notReadyTolerationSeconds: Number(values['default-not-ready-toleration-seconds']),
      watchCacheSize: Number(values['watch-cache-size']),
      bookmarkIntervalMs: Number(values['bookmark-interval-ms']),
      eventTtlSeconds,
      authorizationMode,
      anonymousAuth: values['anonymous-auth'] !== 'false',
      ...storage,
      ...(values['advertise-port'] ? { advertisePort: Number(values['advertise-port']) } : {}),
      ...(values['encryption-provider-config']
        ? { encryptionProviderConfig: values['encryption-provider-config'] }
        : {}),
      ...(values['service-account-issuer'].length
        ? { serviceAccountIssuers: values['service-account-issuer'] }
        : {}),
      ...(values['api-audiences'] ? { apiAudiences: pluginList(values['api-audiences']) } : {}),
      ...(values['service-account-signing-key-file']
        ? { serviceAccountSigningKeyFile: values['service-account-signing-key-file'] }
        : {}),
      serviceAccountKeyFiles: values['service-account-key-file'],
      admission: {
        enable: pluginList(values['enable-admission-plugins']),
        disable: pluginList(values['disable-admission-plugins']),
      },
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) apiserverMain(process.argv.slice(2));
