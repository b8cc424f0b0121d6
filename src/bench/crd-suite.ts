// Issue #23 Show 4: creates/s of a custom resource with a structural schema against a ConfigMap of the same size,
// same run. One apiserver; the Kubernetes docs' CronTab CRD (stable.example.com/v1: a pattern, bounds, and the docs'
// two x-kubernetes-validations rules, so pruning, defaulting, structural validation and CEL all run); 4 keep-alive
// clients POST for 5 s, in rounds that alternate which kind goes first. Reported: the median creates/s of each and
// the median of the per-round ratios (target ≥ 0.8).
import { Agent, request } from 'node:https';
import { alternate, balancedRounds, compareRounds } from './ab-compare.js';
import { startBenchApiServer, type BenchApiServer } from './apiserver-process.js';
import { closedLoop } from './load.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const DEFAULT_ROUNDS = 4;
const CONCURRENCY = 4;
const DURATION_MS = 5_000;
const CR_PATH = '/apis/stable.example.com/v1/namespaces/default/crontabs';
const CM_PATH = '/api/v1/namespaces/default/configmaps';
/** each create names its object (generateName's 5 random characters collide within a few thousand creates) */
const NAME_SLOT = 'bench-00000000';
let created = 0;

/** the docs' CronTab ("Create a CustomResourceDefinition" and "Validation rules"), one version */
const CRONTAB_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'crontabs.stable.example.com' },
  spec: {
    group: 'stable.example.com',
    scope: 'Namespaced',
    names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                'x-kubernetes-validations': [
                  {
                    rule: 'self.minReplicas <= self.replicas',
                    message: 'replicas should be greater than or equal to minReplicas.',
                  },
                  {
                    rule: 'self.replicas <= self.maxReplicas',
                    message: 'replicas should be smaller than or equal to maxReplicas.',
                  },
                ],
                properties: {
                  cronSpec: { type: 'string', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
                  image: { type: 'string' },
                  replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1 },
                  minReplicas: { type: 'integer' },
                  maxReplicas: { type: 'integer' },
                },
                required: ['minReplicas', 'replicas', 'maxReplicas'],
              },
            },
          },
        },
      },
    ],
  },
};

const CRONTAB = {
  apiVersion: 'stable.example.com/v1',
  kind: 'CronTab',
  metadata: { name: NAME_SLOT },
  spec: {
    cronSpec: '* * * * */5',
    image: 'my-awesome-cron-image',
    replicas: 2,
    minReplicas: 1,
    maxReplicas: 5,
  },
};

/** a ConfigMap whose JSON body is as long as the CronTab's */
function configMapOfSize(bytes: number): Record<string, unknown> {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: NAME_SLOT },
    data: { cronSpec: CRONTAB.spec.cronSpec, image: CRONTAB.spec.image, padding: '' },
  };
  cm.data.padding = 'x'.repeat(Math.max(0, bytes - JSON.stringify(cm).length));
  return cm;
}

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

async function createsPerSecond(server: BenchApiServer, path: string, template: string): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: server.ca });
  const stats = await closedLoop(
    CONCURRENCY,
    DURATION_MS,
    () => {
      const req = request(`${server.url}${path}`, {
        method: 'POST',
        agent,
        headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
      });
      req.end(template.replace(NAME_SLOT, `bench-${String(++created).padStart(8, '0')}`));
      return req;
    },
    201,
  );
  agent.destroy();
  if (stats.errors > 0) throw new Error(`${stats.errors} creates of ${path} failed`);
  return stats.rps;
}

registerSuite('crd', async (): Promise<BenchResult[]> => {
  const rounds = balancedRounds(Number(process.env.KUBEMU_BENCH_ROUNDS || DEFAULT_ROUNDS));
  const server = await startBenchApiServer();
  const crBody = JSON.stringify(CRONTAB);
  const cmBody = JSON.stringify(configMapOfSize(crBody.length));
  const runs: Record<'configmap' | 'custom', number[]> = { configmap: [], custom: [] };
  try {
    const code = await call(
      server,
      'POST',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      CRONTAB_CRD,
    );
    if (code >= 300) throw new Error(`create CRD: HTTP ${code}`);
    // served within a second of the create: wait for the resource, then check one object is accepted
    for (let i = 0; (await call(server, 'GET', CR_PATH)) !== 200; i++) {
      if (i > 100) throw new Error('the CronTab resource was not served within 5 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let round = 0; round < rounds; round++) {
      for (const side of alternate(round, 'configmap' as const, 'custom' as const)) {
        const rps = await createsPerSecond(
          server,
          side === 'custom' ? CR_PATH : CM_PATH,
          side === 'custom' ? crBody : cmBody,
        );
        runs[side].push(rps);
        process.stderr.write(`  round ${round + 1}/${rounds} ${side}: ${rps.toFixed(0)} creates/s\n`);
      }
    }
  } finally {
    await server.stop();
  }
  const c = compareRounds(runs.configmap, runs.custom, 'higher');
  const sizes = `bodies ${crBody.length} / ${cmBody.length} bytes`;
  return [
    { name: 'ConfigMap creates/s (4 clients)', value: Math.round(c.baseline), unit: '/s', note: sizes },
    {
      name: 'CronTab (structural schema + 2 CEL rules) creates/s (4 clients)',
      value: Math.round(c.current),
      unit: '/s',
    },
    {
      name: 'custom resource / ConfigMap creates/s',
      value: Number(c.ratio.toFixed(3)),
      unit: 'ratio',
      note: `per round ${c.ratioMin.toFixed(2)} to ${c.ratioMax.toFixed(2)}, target ≥ 0.8`,
    },
  ];
});
