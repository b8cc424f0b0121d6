// The apiserver's health endpoints, as upstream's k8s.io/apiserver/pkg/server/healthz: /livez, /readyz and /healthz
// are each a list of named checks. `GET /readyz` answers `ok`, or 500 with every check's line
// (`[-]etcd failed: reason withheld`, the endpoint being public) and `readyz check failed`; `?verbose` lists the
// checks on success too; `?exclude=NAME` skips one (`[+]NAME excluded: ok`); `/readyz/NAME` runs one check
// (`ok`, or 500 `internal server error: <its error>`), and an unknown NAME is a 404. The storage check is named
// `etcd` on SQLite too, as on k3s's kine: clients and balancers ask for that name.
import type { ServerResponse } from 'node:http';
import type { Logger } from '../util/logger.js';

export interface HealthCheck {
  name: string;
  /** resolves when healthy; rejects (or throws) with the reason, which only the single-check path shows */
  check(): Promise<void> | void;
}

export type HealthEndpoint = 'livez' | 'readyz' | 'healthz';

export interface HealthChecksOptions {
  /** the storage backend answers (etcd: a read of `/registry/health` with a 2 s deadline, as upstream's check) */
  storage: () => Promise<void>;
  /** true once the apiserver is shutting down: /readyz fails, so balancers move clients away first */
  shuttingDown: () => boolean;
}

/**
 * Post-start work this apiserver finishes before it listens (so by the time anyone can ask, it is done), under
 * upstream's hook names.
 */
const POST_START_HOOKS = [
  'poststarthook/start-system-namespaces-controller',
  'poststarthook/bootstrap-controller',
  'poststarthook/start-service-ip-repair-controllers',
  'poststarthook/rbac/bootstrap-roles',
  'poststarthook/scheduling/bootstrap-system-priority-classes',
  'poststarthook/priority-and-fairness-config-producer',
  // started as the apiserver listens (identity-lease.ts); its first renewal may still be under way
  'poststarthook/start-kube-apiserver-identity-lease-controller',
  'poststarthook/start-kube-apiserver-identity-lease-garbage-collector',
];

/** upstream's checks of each endpoint, in its order: healthz and livez alike, readyz with readiness and shutdown */
export function healthChecks(opts: HealthChecksOptions): Record<HealthEndpoint, HealthCheck[]> {
  const ping: HealthCheck = { name: 'ping', check: () => undefined };
  const log: HealthCheck = { name: 'log', check: () => undefined };
  const etcd: HealthCheck = { name: 'etcd', check: opts.storage };
  const hooks = POST_START_HOOKS.map((name) => ({ name, check: () => undefined }));
  const common = [ping, log, etcd];
  return {
    healthz: [...common, ...hooks],
    livez: [...common, ...hooks],
    readyz: [
      ...common,
      { name: 'etcd-readiness', check: opts.storage },
      // every watch cache is primed before the apiserver listens
      { name: 'informer-sync', check: () => undefined },
      ...hooks,
      {
        name: 'shutdown',
        check: () => {
          if (opts.shuttingDown()) throw new Error('process is shutting down');
        },
      },
    ],
  };
}

async function run(check: HealthCheck): Promise<Error | undefined> {
  try {
    await check.check();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

function send(res: ServerResponse, code: number, text: string): void {
  res
    .writeHead(code, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Content-Length': String(Buffer.byteLength(text)),
    })
    .end(text);
}

/**
 * Serves `/livez`, `/readyz`, `/healthz` and their `/NAME` paths from `checks`; false for any other path.
 * Checks run one after another, as upstream's handler runs them.
 */
export async function serveHealth(
  res: ServerResponse,
  url: URL,
  checks: Record<HealthEndpoint, HealthCheck[]>,
  log?: Logger,
): Promise<boolean> {
  const m = /^\/(livez|readyz|healthz)(?:\/(.+))?$/.exec(url.pathname);
  if (!m) return false;
  const endpoint = m[1] as HealthEndpoint;
  const list = checks[endpoint];
  const one = m[2];
  if (one !== undefined) {
    const check = list.find((c) => c.name === one);
    if (!check) {
      send(res, 404, '404 page not found\n');
      return true;
    }
    const err = await run(check);
    if (err) send(res, 500, `internal server error: ${err.message}\n`);
    else send(res, 200, 'ok');
    return true;
  }
  const excluded = new Set(url.searchParams.getAll('exclude'));
  const lines: string[] = [];
  const failed: string[] = [];
  for (const check of list) {
    if (excluded.delete(check.name)) {
      lines.push(`[+]${check.name} excluded: ok`);
      continue;
    }
    const err = await run(check);
    if (err) {
      // the endpoint is public: the reason goes to the log, not to the caller
      lines.push(`[-]${check.name} failed: reason withheld`);
      failed.push(`${check.name}: ${err.message}`);
    } else lines.push(`[+]${check.name} ok`);
  }
  if (excluded.size > 0)
    lines.push(
      `warn: some health checks cannot be excluded: no matches for ${[...excluded]
        .sort()
        .map((n) => JSON.stringify(n))
        .join(',')}`,
    );
  if (failed.length > 0) {
    log?.info({ endpoint, failed }, `${endpoint} check failed`);
    send(res, 500, `${lines.join('\n')}\n${endpoint} check failed\n`);
    return true;
  }
  if (!url.searchParams.has('verbose')) send(res, 200, 'ok');
  else send(res, 200, `${lines.join('\n')}\n${endpoint} check passed\n`);
  return true;
}
