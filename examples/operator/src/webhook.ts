// The Website admission webhook: AdmissionReview v1 over HTTPS, with the certificate the Secret mounts at
// $TLS_DIR (tls.crt, tls.key). POST /mutate sets spec.replicas to 1 when it is left out and labels the Website;
// POST /validate refuses a message with HTML in it. GET /healthz is the readiness probe.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Website } from './website.js';

interface AdmissionRequest {
  uid: string;
  operation: string;
  name?: string;
  namespace?: string;
  object?: Website;
}
interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  patchType?: 'JSONPatch';
  patch?: string;
}
type JsonPatch = { op: 'add' | 'replace'; path: string; value: unknown }[];

const MANAGED_BY = 'app.kubernetes.io/managed-by';

/** what /mutate changes: the default replicas and a label saying who manages the Website */
function mutate(website: Website): JsonPatch {
  const patch: JsonPatch = [];
  if (website.spec.replicas === undefined) patch.push({ op: 'add', path: '/spec/replicas', value: 1 });
  const labels = website.metadata?.labels;
  if (!labels)
    patch.push({ op: 'add', path: '/metadata/labels', value: { [MANAGED_BY]: 'website-operator' } });
  else if (labels[MANAGED_BY] !== 'website-operator')
    patch.push({
      op: 'add',
      path: `/metadata/labels/${MANAGED_BY.replace('/', '~1')}`,
      value: 'website-operator',
    });
  return patch;
}

/** why /validate refuses the Website, or undefined when it is fine */
function validate(website: Website): string | undefined {
  const message = website.spec.message;
  if (/[<>]/.test(message))
    return `spec.message: Invalid value: ${JSON.stringify(message)}: must be plain text, without HTML tags`;
  return undefined;
}

function review(path: string, request: AdmissionRequest): AdmissionResponse {
  const response: AdmissionResponse = { uid: request.uid, allowed: true };
  const website = request.object;
  if (!website?.spec) return response;
  if (path === '/validate') {
    const refusal = validate(website);
    if (refusal) {
      response.allowed = false;
      response.status = { code: 403, reason: 'Forbidden', message: refusal };
    }
  } else if (path === '/mutate') {
    const patch = mutate(website);
    if (patch.length > 0) {
      response.patchType = 'JSONPatch';
      response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
    }
  }
  return response;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'https://webhook').pathname;
  if (req.method === 'GET' && path === '/healthz') {
    res.end('ok\n');
    return;
  }
  if (req.method !== 'POST' || (path !== '/validate' && path !== '/mutate')) {
    res.statusCode = 404;
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: { request?: AdmissionRequest };
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: AdmissionRequest };
    } catch {
      res.statusCode = 400;
      res.end('not JSON\n');
      return;
    }
    if (!body.request?.uid) {
      res.statusCode = 400;
      res.end('not an AdmissionReview\n');
      return;
    }
    const response = review(path, body.request);
    console.log(
      `${path} ${body.request.operation} ${body.request.namespace}/${body.request.name ?? ''}: ` +
        (response.allowed ? 'allowed' : 'denied') +
        (response.patch ? ' (patched)' : ''),
    );
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
  });
}

const dir = process.env.TLS_DIR ?? '/etc/webhook/tls';
const server = createServer(
  { cert: readFileSync(`${dir}/tls.crt`), key: readFileSync(`${dir}/tls.key`) },
  handle,
);
const port = Number(process.env.PORT ?? 8443);
server.listen(port, process.env.POD_IP ?? '0.0.0.0', () => console.log(`website webhook on :${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
