// Serves the dashboard's static shell under /dashboard/ from the apiserver: same origin, same TLS, and the data
// comes from the ordinary API (list + ?watch=true streams) with the user's bearer token.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ExtraRoute } from '../apiserver/rest/server.js';
import type { ApiHandler } from '../api/request.js';
import type { Logger } from '../util/logger.js';
import { WATCH_STREAM_PATH, type EtcdMemberView } from './model.js';
import { serveWatchStream } from './stream.js';

export const DASHBOARD_PATH = '/dashboard/';

/** The page's files: name → content type. Anything else under /dashboard/ is a 404. */
const WEB_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'render.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};
/** compiled from src/dashboard/model.ts, so the page and the unit tests share one reducer */
const MODEL_FILE = 'model.js';

/**
 * Paths that need no token: the shell holds no cluster data (the page asks for a token before it reads any).
 * The REST face matches public paths exactly, hence the full list.
 */
export const DASHBOARD_PUBLIC_PATHS: readonly string[] = [
  '/dashboard',
  DASHBOARD_PATH,
  ...[...Object.keys(WEB_FILES), MODEL_FILE].map((f) => `${DASHBOARD_PATH}${f}`),
];

/** The URL `kubemu up` prints: the token rides in the fragment, which browsers never send to the server. */
export function dashboardUrl(apiServerUrl: string, token?: string): string {
  const base = `${apiServerUrl.replace(/\/+$/, '')}${DASHBOARD_PATH}`;
  return token ? `${base}#token=${encodeURIComponent(token)}` : base;
}

export interface DashboardRouteOptions {
  /** the API the page's watch stream reads, as the page's user */
  handler: ApiHandler;
  logger: Logger;
  /** the page's sources; defaults to web/dashboard/ at the package root */
  webDir?: string;
  /** where model.js is; defaults to this module's own (compiled) directory, else dist/dashboard/ */
  modelFile?: string;
  /** the etcd members' status, for the control-plane panel (etcd storage only) */
  etcdMembers?: () => Promise<EtcdMemberView[]>;
}

function defaultModelFile(): string {
  const beside = fileURLToPath(new URL(`./${MODEL_FILE}`, import.meta.url));
  // running from src/ (tests), model.ts has no .js beside it: use the build's
  return existsSync(beside)
    ? beside
    : fileURLToPath(new URL(`../../dist/dashboard/${MODEL_FILE}`, import.meta.url));
}

const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

export function dashboardRoute(opts: DashboardRouteOptions): ExtraRoute {
  const webDir = opts.webDir ?? fileURLToPath(new URL('../../web/dashboard/', import.meta.url));
  const modelFile = opts.modelFile ?? defaultModelFile();
  return async (req, res, { url, user }) => {
    const p = url.pathname;
    if (p !== '/dashboard' && !p.startsWith(DASHBOARD_PATH)) return false;
    // not a public path: the REST face has already answered 401 when there is no user
    if (p === WATCH_STREAM_PATH && req.method === 'GET' && user) {
      serveWatchStream(
        {
          handler: opts.handler,
          logger: opts.logger,
          ...(opts.etcdMembers ? { etcdMembers: opts.etcdMembers } : {}),
        },
        res,
        user,
      );
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return true;
    }
    // relative module and stylesheet URLs need the trailing slash; the fragment survives the redirect
    if (p === '/dashboard') {
      res.writeHead(301, { Location: DASHBOARD_PATH }).end();
      return true;
    }
    const name = p === DASHBOARD_PATH ? 'index.html' : p.slice(DASHBOARD_PATH.length);
    const file = name === MODEL_FILE ? modelFile : WEB_FILES[name] ? `${webDir}/${name}` : undefined;
    const type = name === MODEL_FILE ? 'text/javascript; charset=utf-8' : WEB_FILES[name];
    let body: Buffer | undefined;
    if (file && type) body = await readFile(file).catch(() => undefined);
    if (!body || !type) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return true;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': String(body.length) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
