// `kubemu dashboard`'s local proxy: plain HTTP on 127.0.0.1 in front of the apiserver's /dashboard/ and its
// read API, adding the kubeconfig's credentials, so the browser sees neither the token nor a self-signed cert
// (like `kubectl proxy`, which `minikube dashboard` runs).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, request } from 'node:https';
import { DASHBOARD_PATH } from './route.js';

export interface LocalProxyOptions {
  /** the apiserver, e.g. https://127.0.0.1:6443 */
  server: string;
  /** the CA that signed the apiserver's certificate; undefined: the system roots */
  caPem: string | undefined;
  token: string | undefined;
  insecureSkipTlsVerify?: boolean;
  /** 0: any free port */
  port: number;
}

export interface LocalProxy {
  /** http://127.0.0.1:PORT/dashboard/ */
  url: string;
  port: number;
  close(): Promise<void>;
}

const LISTEN_HOST = '127.0.0.1';

/** What the page reads: its own files, the core and group APIs. Nothing else is forwarded. */
const FORWARDED = [/^\/dashboard(\/|$)/, /^\/api(\/|$)/, /^\/apis(\/|$)/];

/** kubectl proxy's default --accept-hosts: a DNS-rebinding page arrives with its own host name and is refused. */
const ACCEPTED_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/;

/** Request headers passed on; cookies and any Authorization of the browser's are not. */
const PASSED_REQUEST_HEADERS = [
  'accept',
  'accept-encoding',
  'accept-language',
  'user-agent',
  'if-none-match',
];

/** Hop-by-hop headers (RFC 9110 §7.6.1) and a challenge that would make the browser ask for a password. */
const DROPPED_RESPONSE_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'www-authenticate',
]);

function refuse(
  res: ServerResponse,
  status: number,
  message: string,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...extra }).end(`${message}\n`);
}

export async function startLocalProxy(opts: LocalProxyOptions): Promise<LocalProxy> {
  const upstream = new URL(opts.server);
  const agent = new Agent({
    keepAlive: true,
    ...(opts.caPem ? { ca: opts.caPem } : {}),
    rejectUnauthorized: !opts.insecureSkipTlsVerify,
  });

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!ACCEPTED_HOST.test(req.headers.host ?? '')) return refuse(res, 403, 'Forbidden: host not accepted');
    // a page of another site (or another port of this host) may not use the credentials this proxy adds
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return refuse(res, 403, 'Forbidden: cross-site request');
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return refuse(res, 405, 'the dashboard proxy is read-only (GET and HEAD)', { Allow: 'GET, HEAD' });
    const path = req.url ?? '/';
    const pathname = path.split('?')[0];
    if (pathname === '/') {
      res.writeHead(302, { Location: DASHBOARD_PATH }).end();
      return;
    }
    if (!FORWARDED.some((p) => p.test(pathname))) return refuse(res, 404, 'not found');

    const headers: Record<string, string> = {};
    for (const name of PASSED_REQUEST_HEADERS) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    const out = request(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        path,
        method: req.method,
        headers,
        agent,
      },
      (up) => {
        const copied: Record<string, string | string[]> = {};
        for (const [name, value] of Object.entries(up.headers))
          if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) copied[name] = value;
        res.writeHead(up.statusCode ?? 502, copied);
        // flush each chunk as it comes: watch and log streams are long-lived
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) return void res.destroy();
      refuse(
        res,
        502,
        `kubemu dashboard: the API server at ${opts.server} did not answer (${err.code ?? err.message})`,
      );
    });
    // the browser went away (tab closed, log stream switched): end the upstream stream too
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    out.end();
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: LISTEN_HOST, port: opts.port, exclusive: true }, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${LISTEN_HOST}:${port}${DASHBOARD_PATH}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
