// Issue #23 Show 4: the latency a validating admission webhook adds to a write. One apiserver; ConfigMap updates
// (PUT, answered 200) from 4 keep-alive clients, in rounds that alternate between no webhook and a
// ValidatingWebhookConfiguration whose webhook (an HTTPS server in this process on 127.0.0.1, caBundle from a CA made
// here) allows every request. Reported: p50/p99 of both sides and their difference (the webhook call's cost).
import { Agent, createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate } from '../util/pki.js';
import { alternate, compareRounds } from './ab-compare.js';
import { startBenchApiServer, type BenchApiServer } from './apiserver-process.js';
import { closedLoop } from './load.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const DEFAULT_ROUNDS = 4;
const CONCURRENCY = 4;
const DURATION_MS = 5_000;
const CONFIG_PATH = '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations';

function call(server: BenchApiServer, method: string, path: string, body?: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        ca: server.ca,
        headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function allowAllWebhook(): Promise<{ url: string; caBundle: string; close: () => Promise<void> }> {
  const ca = await createCertificateAuthority('bench-webhook-ca');
  const leaf = await issueCertificate(ca, { commonName: 'bench-webhook', hosts: ['127.0.0.1'] });
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const review = JSON.parse(body) as { request: { uid: string } };
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          apiVersion: 'admission.k8s.io/v1',
          kind: 'AdmissionReview',
          response: { uid: review.request.uid, allowed: true },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/validate`,
    caBundle: Buffer.from(ca.certPem).toString('base64'),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

interface Figures {
  p50Ms: number;
  p99Ms: number;
}

async function measure(server: BenchApiServer): Promise<Figures> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: server.ca });
  const body = JSON.stringify({ metadata: { name: 'cm', namespace: 'default' }, data: { a: 'b' } });
  const stats = await closedLoop(CONCURRENCY, DURATION_MS, () => {
    const req = request(`${server.url}/api/v1/namespaces/default/configmaps/cm`, {
      method: 'PUT',
      agent,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    });
    req.end(body);
    return req;
  });
  agent.destroy();
  if (stats.errors > 0) throw new Error(`${stats.errors} updates failed`);
  return { p50Ms: stats.p50Ms, p99Ms: stats.p99Ms };
}

registerSuite('webhook', async (): Promise<BenchResult[]> => {
  const rounds = Number(process.env.KUBEMU_BENCH_ROUNDS || DEFAULT_ROUNDS);
  const hook = await allowAllWebhook();
  const server = await startBenchApiServer();
  const runs: Record<'none' | 'webhook', Figures[]> = { none: [], webhook: [] };
  try {
    const created = await call(server, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'cm' },
      data: { a: 'b' },
    });
    if (created >= 300) throw new Error(`create ConfigMap: HTTP ${created}`);
    for (let round = 0; round < rounds; round++) {
      for (const side of alternate(round, 'none' as const, 'webhook' as const)) {
        if (side === 'webhook') {
          const code = await call(server, 'POST', CONFIG_PATH, {
            metadata: { name: 'bench' },
            webhooks: [
              {
                name: 'allow.bench.example.com',
                clientConfig: { url: hook.url, caBundle: hook.caBundle },
                rules: [
                  { operations: ['UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] },
                ],
                sideEffects: 'None',
                admissionReviewVersions: ['v1'],
              },
            ],
          });
          if (code >= 300) throw new Error(`ValidatingWebhookConfiguration: HTTP ${code}`);
        }
        const f = await measure(server);
        runs[side].push(f);
        process.stderr.write(
          `  round ${round + 1}/${rounds} ${side}: p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms\n`,
        );
        if (side === 'webhook') await call(server, 'DELETE', `${CONFIG_PATH}/bench`);
      }
    }
  } finally {
    await server.stop();
    await hook.close();
  }
  const results: BenchResult[] = [];
  for (const [label, pick] of [
    ['p50', (f: Figures) => f.p50Ms],
    ['p99', (f: Figures) => f.p99Ms],
  ] as const) {
    const c = compareRounds(runs.none.map(pick), runs.webhook.map(pick), 'lower');
    const name = `ConfigMap update ${label} (4 clients)`;
    results.push(
      { name: `${name}: no webhook`, value: Number(c.baseline.toFixed(2)), unit: 'ms' },
      { name: `${name}: validating webhook`, value: Number(c.current.toFixed(2)), unit: 'ms' },
      {
        name: `webhook call added latency ${label}`,
        value: Number((c.current - c.baseline).toFixed(2)),
        unit: 'ms',
        note: `webhook / none per round ${c.ratioMin.toFixed(2)} to ${c.ratioMax.toFixed(2)}, median ${c.ratio.toFixed(3)}`,
      },
    );
  }
  return results;
});
