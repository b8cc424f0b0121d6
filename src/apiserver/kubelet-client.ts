// The apiserver's one way to a kubelet (pods/log, the metrics scraper's /stats/summary, any later exec or proxy):
// HTTPS with the apiserver's own client certificate (kube-apiserver --kubelet-client-certificate/-key), the
// kubelet's serving certificate verified against the cluster CA for the node's address
// (--kubelet-certificate-authority). No bearer token is ever sent: a listener posing as a kubelet learns nothing.
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../api/errors.js';
import type { ApiHandler, UserInfo } from '../api/request.js';
import { SpareConnections } from './spare-connections.js';

export interface KubeletClientCredentials {
  /** the CA kubelets' serving certificates must chain to */
  caPem: string;
  /** the apiserver's client certificate and key (CN kube-apiserver-kubelet-client) */
  certPem: string;
  keyPem: string;
}

export interface KubeletEndpoint {
  host: string;
  port: number;
}

/** Where a node's kubelet listens: its InternalIP (else its first address) and daemonEndpoints' port. */
export function kubeletEndpoint(node: Node): KubeletEndpoint | undefined {
  const addrs = node.status?.addresses ?? [];
  const host = (addrs.find((a) => a.type === 'InternalIP') ?? addrs[0])?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return host && port ? { host, port } : undefined;
}

/**
 * A failure to reach a kubelet, worded as Go's `*url.Error` (`Get "https://...": <cause>`) and sent as
 * upstream's apiserver sends any error that is not a Status: code 500 with no reason, so kubectl prints
 * `Error from server: Get "https://...": ...`.
 */
export class KubeletDialError extends ApiError {
  constructor(url: string, cause: string, options?: { cause?: unknown }) {
    super('InternalError', `Get "${url}": ${cause}`, undefined, options);
    this.name = 'KubeletDialError';
  }

  override toStatus(): Status {
    const { reason: _unknown, ...status } = super.toStatus();
    return status;
  }
}

/** Node's certificate verification codes that Go reports as an unknown authority */
const UNKNOWN_AUTHORITY = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

type DialErr = NodeJS.ErrnoException & { cert?: { subjectaltname?: string } };

/** The cause of a failed kubelet request as Go's net/http and crypto/x509 word it. */
export function goDialCause(err: DialErr, endpoint: KubeletEndpoint): string {
  const dial = `dial tcp ${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return `${dial}: connect: connection refused`;
  if (code === 'EHOSTUNREACH') return `${dial}: connect: no route to host`;
  if (code === 'ENETUNREACH') return `${dial}: connect: network is unreachable`;
  if (code === 'ECONNRESET')
    return `read tcp ${endpoint.host}:${endpoint.port}: read: connection reset by peer`;
  if (code === 'ETIMEDOUT')
    return 'net/http: request canceled (Client.Timeout exceeded while awaiting headers)';
  const verify = 'tls: failed to verify certificate: x509:';
  if (UNKNOWN_AUTHORITY.has(code)) return `${verify} certificate signed by unknown authority`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')
    return `${verify} certificate has expired or is not yet valid`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const sans = (err.cert?.subjectaltname ?? '').split(', ').filter((s) => s !== '');
    const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice('IP Address:'.length));
    if (ips.length === 0)
      return `${verify} cannot validate certificate for ${endpoint.host} because it doesn't contain any IP SANs`;
    return `${verify} certificate is valid for ${ips.join(', ')}, not ${endpoint.host}`;
  }
  return err.message;
}

export class KubeletClient {
  private readonly agent: https.Agent;
  private secureContext: tls.SecureContext | undefined;
  /** the last TLS session of each kubelet dialled, for resumption */
  private readonly sessions = new Map<string, Buffer>();
  /** a connection made ahead to each kubelet streamed from lately, for its next stream */
  private readonly spares = new SpareConnections<tls.TLSSocket>();

  constructor(
    private readonly creds: KubeletClientCredentials,
    private readonly timeoutMs = 10_000,
  ) {
    this.agent = new https.Agent({
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
      rejectUnauthorized: true,
      // the metrics scraper asks every node each second: reuse connections and TLS sessions
      keepAlive: true,
      maxFreeSockets: 4,
    });
  }

  /**
   * GET `pathAndQuery` from the node's kubelet. Resolves with the response, whatever its status; rejects with a
   * KubeletDialError when the kubelet cannot be reached or its certificate does not verify.
   */
  get(endpoint: KubeletEndpoint, pathAndQuery: string, timeoutMs = this.timeoutMs): Promise<IncomingMessage> {
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const url = `https://${host}:${endpoint.port}${pathAndQuery}`;
    return new Promise((resolve, reject) => {
      // no Authorization header, ever: the client certificate is the apiserver's only credential
      const req = https.request(url, { method: 'GET', agent: this.agent, timeout: timeoutMs, headers: {} });
      req.once('response', resolve);
      req.once('timeout', () =>
        req.destroy(Object.assign(new Error(`timeout after ${timeoutMs}ms`), { code: 'ETIMEDOUT' })),
      );
      req.once('error', (err: DialErr) =>
        reject(new KubeletDialError(url, goDialCause(err, endpoint), { cause: err })),
      );
      req.end();
    });
  }

  /** GET and read the whole body (up to `maxBytes`), for small JSON answers such as /stats/summary. */
  async getText(
    endpoint: KubeletEndpoint,
    pathAndQuery: string,
    timeoutMs = this.timeoutMs,
    maxBytes = 64 * 1024 * 1024,
  ): Promise<{ status: number; body: string }> {
    const res = await this.get(endpoint, pathAndQuery, timeoutMs);
    return { status: res.statusCode ?? 0, body: await readBody(res, maxBytes) };
  }

  /**
   * A TLS connection of its own to the node's kubelet, for an upgraded request (exec, attach, port-forward) whose
   * bytes the apiserver then relays: the same certificate and verification as every other call, no token. The
   * spare made ahead when the last stream to that kubelet ended, when there is one (spare-connections.ts).
   */
  dial(endpoint: KubeletEndpoint, timeoutMs = this.timeoutMs): Promise<tls.TLSSocket> {
    return this.spares.take(`${endpoint.host}:${endpoint.port}`, () => this.connect(endpoint, timeoutMs));
  }

  private connect(endpoint: KubeletEndpoint, timeoutMs: number): Promise<tls.TLSSocket> {
    const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
    const url = `https://${host}:${endpoint.port}`;
    return new Promise((resolve, reject) => {
      // one SecureContext (the PEMs parsed once) and the node's last TLS session: an exec resumes the session
      // instead of a full handshake with the kubelet
      this.secureContext ??= tls.createSecureContext({
        ca: this.creds.caPem,
        cert: this.creds.certPem,
        key: this.creds.keyPem,
      });
      const sessionKey = `${endpoint.host}:${endpoint.port}`;
      const session = this.sessions.get(sessionKey);
      const socket = tls.connect({
        host: endpoint.host,
        port: endpoint.port,
        secureContext: this.secureContext,
        rejectUnauthorized: true,
        ALPNProtocols: ['http/1.1'],
        ...(session ? { session } : {}),
      });
      socket.on('session', (s: Buffer) => {
        this.sessions.delete(sessionKey);
        this.sessions.set(sessionKey, s);
        // a cluster has a handful of nodes; a bound all the same
        if (this.sessions.size > 256) this.sessions.delete(this.sessions.keys().next().value!);
      });
      const timer = setTimeout(
        () => socket.destroy(Object.assign(new Error(`timeout after ${timeoutMs}ms`), { code: 'ETIMEDOUT' })),
        timeoutMs,
      );
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        // a relayed stream's small frames (a port-forward's request, an exec's keystrokes) go out at once, not
        // after Nagle waits for the peer's delayed ACK (40 ms per request through port-forward)
        socket.setNoDelay(true);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: DialErr) => {
        clearTimeout(timer);
        reject(new KubeletDialError(url, goDialCause(err, endpoint), { cause: err }));
      });
    });
  }

  close(): void {
    this.spares.close();
    this.agent.destroy();
  }
}

/** The body as text, at most `maxBytes` of it (the rest is read and dropped). */
export function readBody(res: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (c: Buffer) => {
      if (size >= maxBytes) return;
      chunks.push(c.subarray(0, maxBytes - size));
      size += Math.min(c.length, maxBytes - size);
    });
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('the kubelet closed the connection mid-answer')));
  });
}

/** GET a core/v1 object (a pod, its node) through the API handler as the calling user, as the kubelet proxies do */
export async function getCoreObject<T>(
  handler: ApiHandler,
  resource: string,
  namespace: string | undefined,
  name: string,
  user: UserInfo,
): Promise<T> {
  const r = await handler.handle({
    verb: 'get',
    group: '',
    version: 'v1',
    resource,
    ...(namespace ? { namespace } : {}),
    name,
    options: {},
    user,
  });
  return r.body as T;
}
