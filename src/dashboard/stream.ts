// GET /dashboard/watch: every kind the dashboard shows, listed then watched, multiplexed into one chunked stream of
// JSON lines — the informer loop (list, watch from its resourceVersion, relist on 410) run for the page, as its user.
import type { ServerResponse } from 'node:http';
import { ApiError, errors } from '../api/errors.js';
import type { ApiHandler, KubeObject, UserInfo, WatchHandle } from '../api/request.js';
import type { Logger } from '../util/logger.js';
import { WATCHED, type EtcdMemberView, type Kind, type StreamLine } from './model.js';

export interface WatchStreamDeps {
  handler: ApiHandler;
  logger: Logger;
  /** a page this far behind is cut off (it reconnects and relists) */
  maxBufferBytes?: number;
  /** wait before re-watching after the server ended a watch without error */
  rewatchDelayMs?: number;
  /**
   * The etcd members' status (etcd storage only). Sent to a page whose user may read kube-system's Leases (what the
   * rest of the control-plane panel shows), at its start and whenever it changes.
   */
  etcdMembers?: () => Promise<EtcdMemberView[]>;
  /** how often the members are asked (default 2 s) */
  etcdPollMs?: number;
}

const isExpired = (e: unknown): boolean =>
  e instanceof ApiError && (e.reason === 'Expired' || e.reason === 'Gone');

export function serveWatchStream(deps: WatchStreamDeps, res: ServerResponse, user: UserInfo): void {
  const log = deps.logger;
  const maxBuffer = deps.maxBufferBytes ?? 16 * 1024 * 1024;
  const handles = new Set<WatchHandle>();
  let closed = false;
  let etcdPoll: NodeJS.Timeout | undefined;
  let etcdPolling = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const h of handles) h.stop();
    clearTimeout(etcdPoll);
    res.end();
  };
  const write = (line: StreamLine): boolean => {
    if (closed) return false;
    res.write(`${JSON.stringify(line)}\n`);
    if (res.writableLength > maxBuffer) {
      log.warn({ user: user.username }, 'dashboard stream too far behind: cut off');
      close();
      return false;
    }
    return true;
  };
  res.on('close', close);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'X-Content-Type-Options': 'nosniff',
  });
  res.flushHeaders();

  /** One watch from `rv` until it ends; resolves with its error, if any. */
  const watchOnce = (kind: Kind, rv: string, onRv: (rv: string) => void): Promise<unknown> =>
    new Promise((resolve) => {
      let handle: WatchHandle | undefined;
      let ended = false;
      deps.handler
        .watch(
          {
            verb: 'watch',
            ...WATCHED[kind],
            options: { resourceVersion: rv, allowWatchBookmarks: true },
            user,
          },
          {
            event(ev) {
              const evRv = ev.object.metadata?.resourceVersion;
              if (evRv) onRv(evRv);
              if (ev.type === 'BOOKMARK') return true;
              if (ev.type === 'ERROR') return true; // the end() that follows carries the reason
              return write({ kind, type: ev.type, object: ev.object });
            },
            end(err) {
              ended = true;
              if (handle) handles.delete(handle);
              resolve(err);
            },
          },
        )
        .then(
          (h) => {
            handle = h;
            if (closed) h.stop();
            else if (!ended) handles.add(h);
          },
          (err: unknown) => resolve(err ?? errors.internal('watch failed')),
        );
    });

  /** the members' status now and whenever it changes, until the page goes */
  const pollEtcd = (members: () => Promise<EtcdMemberView[]>): void => {
    etcdPolling = true;
    let last = '';
    const poll = async (): Promise<void> => {
      const now = await members().catch((err: unknown) => {
        log.warn({ err }, 'etcd members not read for the dashboard');
        return undefined;
      });
      if (closed) return;
      const text = JSON.stringify(now);
      if (now && text !== last && write({ kind: 'etcd', type: 'STATUS', members: now })) last = text;
      etcdPoll = setTimeout(() => void poll(), deps.etcdPollMs ?? 2_000);
    };
    void poll();
  };

  const follow = async (kind: Kind): Promise<void> => {
    while (!closed) {
      const list = await deps.handler.handle({ verb: 'list', ...WATCHED[kind], options: {}, user });
      const body = list.body as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
      if (!write({ kind, type: 'SYNC', items: body.items ?? [] })) return;
      // the user reads the control plane's Leases: the etcd members go with them
      if (kind === 'leases' && deps.etcdMembers && !etcdPolling) pollEtcd(deps.etcdMembers);
      let rv = body.metadata?.resourceVersion ?? '';
      for (;;) {
        const err = await watchOnce(kind, rv, (r) => (rv = r));
        if (closed || isExpired(err)) break;
        if (err) throw err instanceof Error ? err : errors.internal(JSON.stringify(err));
        await new Promise((r) => setTimeout(r, deps.rewatchDelayMs ?? 100));
      }
    }
  };

  for (const kind of Object.keys(WATCHED) as Kind[]) {
    follow(kind).catch((err: unknown) => {
      // e.g. Forbidden for this kind: the page shows the rest
      const status = err instanceof ApiError ? err.toStatus() : { message: String(err), code: 500 };
      write({ kind, type: 'ERROR', object: { message: status.message ?? '', code: status.code ?? 500 } });
      if (!(err instanceof ApiError)) log.error({ err, kind }, 'dashboard stream failed');
    });
  }
}
