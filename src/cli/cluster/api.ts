// The few REST calls the CLI makes to its own cluster: /readyz, the node list, and a port check before starting.
import { request, type Agent } from 'node:https';
import { createServer } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Node } from 'kubernetes-types/core/v1.js';
import { nodeDegradations, type NodeProblemSummary } from './degraded.js';

export interface ApiTarget {
  url: string;
  ca: string;
  token?: string;
  /** a keep-alive agent for a caller that polls (one TLS handshake, not one per poll) */
  agent?: Agent;
}

const contexts = new Map<string, SecureContext>();
/**
 * The TLS context that trusts `ca`, made once: given `ca` instead, every connection made its own (parsing the CA and
 * setting up OpenSSL's context), and `kubemu up` polls /readyz every 25 ms while the apiserver boots, each poll a new
 * connection until it listens: ~0.1 s of CPU on the cores the booting cluster needs.
 */
function trusting(ca: string): SecureContext {
  let context = contexts.get(ca);
  if (!context) contexts.set(ca, (context = createSecureContext({ ca })));
  return context;
}

/** The TLS options of a request to `target` (`ca` too: the agent pools connections by it); spread into the options. */
const tlsTo = (target: ApiTarget): { ca: string; secureContext: SecureContext } => ({
  ca: target.ca,
  secureContext: trusting(target.ca),
});

/** GET `path` as JSON; rejects on network errors, non-2xx, or after `timeoutMs`. */
export function getJson<T>(target: ApiTarget, path: string, timeoutMs = 2_000): Promise<T> {
  return requestJson<T>(target, 'GET', path, undefined, timeoutMs);
}

/** POST `body` to `path`; an object that exists already (409) counts as made. */
export async function createIfAbsent(target: ApiTarget, path: string, body: object): Promise<void> {
  await requestJson(target, 'POST', path, body).catch((err: unknown) => {
    if (!/HTTP 409/.test((err as Error).message)) throw err;
  });
}

/** DELETE `path`; an object gone already counts as deleted. */
export async function deleteObject(target: ApiTarget, path: string): Promise<void> {
  await requestJson(target, 'DELETE', path, undefined).catch((err: unknown) => {
    if (!/HTTP 404/.test((err as Error).message)) throw err;
  });
}

/** DELETE `path` (gone already is fine), then POST `body` to `collection`: the object as given, whatever was there. */
export async function replaceObject(
  target: ApiTarget,
  collection: string,
  name: string,
  body: object,
): Promise<void> {
  await requestJson(target, 'DELETE', `${collection}/${name}`, undefined).catch((err: unknown) => {
    if (!/HTTP 404/.test((err as Error).message)) throw err;
  });
  await createIfAbsent(target, collection, body);
}

function requestJson<T>(
  target: ApiTarget,
  method: string,
  path: string,
  body: object | undefined,
  timeoutMs = 2_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.url}${path}`,
      {
        method,
        ...tlsTo(target),
        ...(target.agent ? { agent: target.agent } : {}),
        timeout: timeoutMs,
        headers: {
          Accept: 'application/json',
          ...(body ? { 'Content-Type': 'application/json' } : {}),
          ...(target.token ? { Authorization: `Bearer ${target.token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 300) {
            reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
            return;
          }
          try {
            resolve(JSON.parse(text) as T);
          } catch (err) {
            reject(new Error(`${method} ${path}: not JSON`, { cause: err }));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out after ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

/** Whether /readyz answers 200. */
export function isReady(target: ApiTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      `${target.url}/readyz`,
      { ...tlsTo(target), ...(target.agent ? { agent: target.agent } : {}), timeout: 1_000 },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

export interface NodeSummary {
  name: string;
  internalIP: string | undefined;
  /** the Ready condition's status: True, False or Unknown */
  ready: string;
  /** the node's True *Degraded conditions (src/kubelet/degraded.ts) */
  degraded: NodeProblemSummary[];
}

export function summarizeNode(node: Node): NodeSummary {
  return {
    name: node.metadata?.name ?? '',
    internalIP: node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address,
    ready: node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
    degraded: nodeDegradations(node),
  };
}

export async function listNodes(target: ApiTarget): Promise<NodeSummary[]> {
  return (await listNodeObjects(target)).map(summarizeNode);
}

export async function listNodeObjects(target: ApiTarget): Promise<Node[]> {
  return (await getJson<{ items: Node[] }>(target, '/api/v1/nodes')).items;
}

/** The Ready condition's lastHeartbeatTime in epoch ms (whole seconds), NaN when there is none. */
export const readyHeartbeat = (node: Node): number =>
  Date.parse(node.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime ?? '');

/** Resolves when `host:port` can be bound (then released), rejects with the bind error otherwise. */
export function checkPortFree(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}
