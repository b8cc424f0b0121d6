// Big objects against a real apiserver (issue #17 item 3): how long /healthz takes while the largest valid objects
// are written and read — a 1 MiB ConfigMap of 30,000 keys applied server-side by kubectl, a 2 MiB YAML body,
// and a cluster-wide list of 80 MB — and how much memory the apiserver takes meanwhile.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, rssMb, startBenchApiServer, type BenchApiServer } from './apiserver-process.js';
import { startOpenLoopHealthzProbe } from './healthz-probe.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';
import { bigConfigMapYaml } from './big-configmap.js';

/** 75 ConfigMaps of 1,040,000 bytes of data: a cluster-wide list of about 80 MB */
const FAT_CONFIGMAPS = 75;
const HEALTHZ_TARGET_MS = 100;
const PROBE_INTERVAL_MS = 10;

interface Probe {
  latencies: number[];
  /** probes that failed (connection reset, ...): their time counts as a latency too */
  errors: string[];
  peakRssMb: number;
}

/**
 * /healthz every PROBE_INTERVAL_MS from a worker thread of its own, whether or not the previous probes have been
 * answered (an open loop: a probe waiting on the one before it would count a 90 s stall as one slow sample), and
 * the apiserver's RSS, until `done` settles. A probe's latency runs from when it was due to its answer. The probe
 * is off the bench's main thread, which decodes the 80 MB answers, as a user's `/healthz` comes from another
 * process.
 */
async function probeWhile(server: BenchApiServer, done: Promise<unknown>): Promise<Probe> {
  const probe = startOpenLoopHealthzProbe(server, PROBE_INTERVAL_MS);
  let peakRssMb = rssMb(server.pid);
  let finished = false;
  const settled = done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    peakRssMb = Math.max(peakRssMb, rssMb(server.pid));
    await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
  }
  await settled;
  const { latencies, errors } = await probe.stop();
  return { latencies, errors, peakRssMb };
}

function kubectl(kubeconfig: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('kubectl', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfig },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${stderr}`)),
    );
  });
}

/** One HTTP request with the admin token; the response is read (and counted), never buffered whole. */
function call(
  server: BenchApiServer,
  method: string,
  path: string,
  body?: { text: string; contentType: string },
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        ca: server.ca,
        headers: {
          Authorization: `Bearer ${server.token}`,
          Accept: 'application/json',
          ...(body ? { 'Content-Type': body.contentType } : {}),
        },
      },
      (res) => {
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      },
    );
    req.on('error', reject);
    req.end(body?.text);
  });
}

async function expectStatus(p: Promise<{ status: number; bytes: number }>, want: number, what: string) {
  const r = await p;
  if (r.status !== want) throw new Error(`${what}: HTTP ${r.status}, want ${want}`);
  return r;
}

function writeKubeconfig(dir: string, server: BenchApiServer): string {
  writeFileSync(join(dir, 'ca.crt'), server.ca);
  const file = join(dir, 'kubeconfig');
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: bench',
      `  cluster: {server: "${server.url}", certificate-authority: "${join(dir, 'ca.crt')}"}`,
      'users:',
      '- name: admin',
      `  user: {token: "${server.token}"}`,
      'contexts:',
      '- name: bench',
      '  context: {cluster: bench, user: admin}',
      'current-context: bench',
      '',
    ].join('\n'),
  );
  return file;
}

/**
 * Run one scenario while probing /healthz: its p99 against the target and the apiserver's peak RSS. A scenario
 * that fails (the old code's apiserver reset connections under the 2 MiB YAML body) is reported, not thrown.
 */
async function measure(
  server: BenchApiServer,
  scenario: string,
  run: () => Promise<unknown>,
): Promise<BenchResult[]> {
  const t0 = performance.now();
  const done = run();
  const probe = await probeWhile(server, done);
  const took = performance.now() - t0;
  let failure = '';
  await done.catch((e: unknown) => (failure = `; the scenario failed: ${(e as Error).message}`));
  const sorted = [...probe.latencies].sort((a, b) => a - b);
  return [
    {
      name: `/healthz p99 during ${scenario}`,
      value: percentile(sorted, 99),
      unit: 'ms',
      target: { op: '<=', value: HEALTHZ_TARGET_MS },
      note:
        `${sorted.length} probes over ${(took / 1000).toFixed(1)} s, max ${sorted.at(-1)?.toFixed(0) ?? '?'} ms` +
        (probe.errors.length ? `; ${probe.errors.length} failed (${probe.errors[0]})` : '') +
        failure,
    },
    { name: `apiserver peak RSS during ${scenario}`, value: probe.peakRssMb, unit: 'MB' },
  ];
}

registerSuite('big-objects', async (): Promise<BenchResult[]> => {
  const results: BenchResult[] = [];
  const server = await startBenchApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'kubemu-bench-big-'));
  try {
    const kubeconfig = writeKubeconfig(dir, server);
    // kubectl's first call fetches discovery and OpenAPI: not what is measured here
    writeFileSync(join(dir, 'small.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n');
    await kubectl(kubeconfig, ['apply', '--server-side', '-f', join(dir, 'small.yaml')]);

    // 1. kubectl apply --server-side of the 30,000-key ConfigMap: the create, then a change of one key
    const manifest = join(dir, 'big.yaml');
    writeFileSync(manifest, bigConfigMapYaml('big'));
    const changed = join(dir, 'big-changed.yaml');
    writeFileSync(changed, bigConfigMapYaml('big', { change: 7 }));
    results.push(
      ...(await measure(
        server,
        'kubectl apply --server-side of a 1 MiB, 30,000-key ConfigMap (create, then change one key)',
        async () => {
          await kubectl(kubeconfig, ['apply', '--server-side', '-f', manifest]);
          await kubectl(kubeconfig, ['apply', '--server-side', '-f', changed]);
        },
      )),
    );

    // 2. a 2 MiB YAML body (the same data, every line commented) POSTed as application/yaml
    const yaml = bigConfigMapYaml('yaml', { comment: 'x'.repeat(34) });
    results.push(
      ...(await measure(server, 'a POST of a 2 MiB YAML body (30,000 keys)', () =>
        expectStatus(
          call(server, 'POST', '/api/v1/namespaces/default/configmaps', {
            text: yaml,
            contentType: 'application/yaml',
          }),
          201,
          'POST of the 2 MiB YAML body',
        ),
      )),
    );

    // 3. a cluster-wide list of about 80 MB, read twice over the REST face
    const value = (i: number, k: number): string => `${i}-${k}-`.padEnd(104_000, 'x');
    for (let i = 0; i < FAT_CONFIGMAPS; i++) {
      const data = Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`k${k}`, value(i, k)]));
      const text = JSON.stringify({ metadata: { name: `fat-${i}` }, data });
      await expectStatus(
        call(server, 'POST', '/api/v1/namespaces/default/configmaps', {
          text,
          contentType: 'application/json',
        }),
        201,
        `create fat-${i}`,
      );
    }
    results.push(
      ...(await measure(
        server,
        'a cluster-wide list of 80 MB (75 ConfigMaps of 1 MiB), read twice',
        async () => {
          for (let round = 0; round < 2; round++) {
            const r = await expectStatus(call(server, 'GET', '/api/v1/configmaps'), 200, 'list');
            if (r.bytes < 78_000_000) throw new Error(`the list was ${r.bytes} bytes, not 80 MB`);
          }
        },
      )),
    );
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
});
