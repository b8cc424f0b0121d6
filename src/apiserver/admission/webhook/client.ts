// Calling an admission webhook (upstream's util/webhook ClientManager + the webhook plugins' request code): the
// target is the clientConfig's `url`, or its `service`, reached at one of the Service's ready endpoints (upstream's
// endpoint service resolver, kube-apiserver --enable-aggregator-routing: pod IPs are reachable from the apiserver in
// every kubemu network mode, ClusterIPs not from the netns sandbox), with TLS verified against the `caBundle` (or
// the system roots) for the name `<service>.<namespace>.svc`. The POST never blocks the event loop and is cut at
// the webhook's timeoutSeconds.
import { Agent, request } from 'node:https';
import { isIP } from 'node:net';
import type { KubeObject } from '../../../api/request.js';
import type { AdmissionStore } from '../interface.js';

export interface ClientConfig {
  url?: string;
  service?: { namespace: string; name: string; path?: string; port?: number };
  /** base64 PEM, as stored */
  caBundle?: string;
}

/** upstream's ErrCallingWebhook: the call failed (failurePolicy decides) */
export class CallError extends Error {
  constructor(
    readonly webhook: string,
    readonly reason: string,
  ) {
    super(`failed calling webhook "${webhook}": ${reason}`);
  }
}

interface Target {
  /** what upstream's messages show: https://svc.ns.svc:443/path?timeout=10s */
  shownUrl: string;
  host: string;
  port: number;
  path: string;
  servername: string;
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface EndpointSlice extends KubeObject {
  addressType?: string;
  endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

interface ServiceObject extends KubeObject {
  spec?: {
    type?: string;
    externalName?: string;
    ports?: { name?: string; port: number; targetPort?: number | string; protocol?: string }[];
  };
}

async function resolveService(
  svc: NonNullable<ClientConfig['service']>,
  store: AdmissionStore,
): Promise<{ host: string; port: number }> {
  const port = svc.port ?? 443;
  const service: ServiceObject | undefined = await store.get('', 'services', svc.namespace, svc.name);
  if (!service) throw new Error(`service "${svc.name}" not found`);
  if (service.spec?.type === 'ExternalName' && service.spec.externalName)
    return { host: service.spec.externalName, port };
  const sp = service.spec?.ports?.find((p) => p.port === port);
  if (!sp) throw new Error(`no service port ${port} found for service "${svc.name}"`);
  const slices = (await store.list('discovery.k8s.io', 'endpointslices', svc.namespace)) as EndpointSlice[];
  const candidates: { host: string; port: number }[] = [];
  for (const s of slices) {
    if (s.metadata?.labels?.[SERVICE_NAME_LABEL] !== svc.name) continue;
    const epPort = s.ports?.find((p) => (p.name ?? '') === (sp.name ?? ''))?.port;
    if (epPort === undefined) continue;
    for (const e of s.endpoints ?? [])
      if (e.conditions?.ready !== false && e.addresses[0])
        candidates.push({ host: e.addresses[0], port: epPort });
  }
  if (candidates.length === 0) throw new Error(`no endpoints available for service "${svc.name}"`);
  return candidates[Math.floor(Math.random() * candidates.length)];
}

async function target(cc: ClientConfig, timeoutSeconds: number, store: AdmissionStore): Promise<Target> {
  const timeout = `timeout=${timeoutSeconds}s`;
  if (cc.url) {
    const u = new URL(cc.url);
    u.search = u.search ? `${u.search}&${timeout}` : `?${timeout}`;
    const shownUrl = u.toString();
    const post = `Post "${shownUrl}"`;
    if (u.protocol !== 'https:')
      throw new Error(`${post}: unsupported protocol scheme "${u.protocol.replace(':', '')}"`);
    const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
    return {
      shownUrl,
      host: hostname,
      port: Number(u.port || 443),
      path: `${u.pathname}${u.search}`,
      servername: isIP(hostname) ? '' : hostname,
    };
  }
  const svc = cc.service;
  if (!svc) throw new Error('neither url nor service is set in clientConfig');
  const servername = `${svc.name}.${svc.namespace}.svc`;
  const path = `${svc.path ?? '/'}?${timeout}`;
  const shownUrl = `https://${servername}:${svc.port ?? 443}${path}`;
  try {
    const { host, port } = await resolveService(svc, store);
    return { shownUrl, host, port, path, servername };
  } catch (e) {
    throw new Error(`Post "${shownUrl}": ${(e as Error).message}`);
  }
}

const agents = new Map<string, Agent>();
function agentFor(caBundle: string | undefined): Agent {
  const key = caBundle ?? '';
  let agent = agents.get(key);
  if (!agent) {
    const ca = caBundle ? Buffer.from(caBundle, 'base64').toString('utf8') : undefined;
    agent = new Agent({ keepAlive: true, maxSockets: 64, ...(ca ? { ca } : {}) });
    if (agents.size > 100) {
      for (const a of agents.values()) a.destroy();
      agents.clear();
    }
    agents.set(key, agent);
  }
  return agent;
}

/** Go's net/http wording of the errors users see in upstream's messages */
function goError(e: NodeJS.ErrnoException, t: Target): string {
  const addr = `${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${t.port}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${addr}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${addr}: connect: no route to host`;
    case 'ECONNRESET':
      return `read tcp ${addr}: read: connection reset by peer`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: certificate is valid for other names, not ${t.servername || t.host}`;
    default:
      return e.message;
  }
}

/** POST the AdmissionReview; resolves to the parsed response body, rejects with CallError */
export async function callWebhook(
  name: string,
  cc: ClientConfig,
  timeoutSeconds: number,
  review: unknown,
  store: AdmissionStore,
): Promise<unknown> {
  let t: Target;
  try {
    t = await target(cc, timeoutSeconds, store);
  } catch (e) {
    throw new CallError(name, `failed to call webhook: ${(e as Error).message}`);
  }
  const body = Buffer.from(JSON.stringify(review));
  return new Promise((resolve, reject) => {
    const fail = (why: string) =>
      reject(new CallError(name, `failed to call webhook: Post "${t.shownUrl}": ${why}`));
    const req = request({
      host: t.host,
      port: t.port,
      path: t.path,
      method: 'POST',
      agent: agentFor(cc.caBundle),
      ...(t.servername ? { servername: t.servername } : {}),
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'content-length': body.length,
      },
    });
    const timer = setTimeout(() => {
      req.destroy();
      fail('context deadline exceeded');
    }, timeoutSeconds * 1000);
    req.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      fail(goError(e, t));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        // upstream reads at most 3 MiB (plus a little) of a webhook's response
        if (size > 3 * 1024 * 1024 + 4096) {
          req.destroy();
          clearTimeout(timer);
          fail('response body too large');
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) < 200 || (res.statusCode ?? 0) > 299) {
          reject(
            new CallError(
              name,
              `failed to call webhook: an error on the server ("${text.slice(0, 200)}") has prevented the request from succeeding`,
            ),
          );
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (e) {
          reject(new CallError(name, `received invalid webhook response: ${(e as Error).message}`));
        }
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        fail(e.message);
      });
    });
    req.end(body);
  });
}
