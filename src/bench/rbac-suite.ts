// Issue #21 Show 5: API request latency with RBAC on versus allow-all (--authorization-mode=AlwaysAllow), same
// run, in rounds that alternate which mode goes first, each a fresh apiserver process. The requests come from a
// user who is not in system:masters (a token in the `edit` role through a RoleBinding of its group, with 40 other
// users' bindings beside it), so every request walks RBAC's bindings; target: p99 at most 5 % slower.
import { Agent, request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureComponentToken } from '../apiserver/auth/token-file.js';
import { alternate, compareRounds } from './ab-compare.js';
import { cpuMs, startBenchApiServer, type BenchApiServer } from './apiserver-process.js';
import { defaultBaselineCacheDir, prepareBaselineBuild } from './baseline-build.js';
import { closedLoop } from './load.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const MODES = ['AlwaysAllow', 'RBAC'] as const;
type Mode = (typeof MODES)[number];
const DEFAULT_ROUNDS = 3;
const NS = 'bench-rbac';
const CONCURRENCY = 8;
const DURATION_MS = 8_000;
const OTHER_BINDINGS = 40;
const MAX_SLOWDOWN_PCT = 5;
/** this build's dist/ */
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');

function call(
  server: BenchApiServer,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.url}${path}`,
      {
        method,
        ca: server.ca,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
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

async function must(what: string, p: Promise<number>): Promise<void> {
  const code = await p;
  if (code >= 300) throw new Error(`${what}: HTTP ${code}`);
}

interface RoundFigures {
  p50Ms: number;
  p99Ms: number;
  rps: number;
  cpuMsPer1000: number;
}

/** the user's mix: get one ConfigMap, list the namespace's ConfigMaps, get the namespace's Deployments */
async function measure(server: BenchApiServer, mode: Mode): Promise<RoundFigures> {
  const admin = server.token;
  const userToken = ensureComponentToken(dirname(server.kubeconfig), 'bench-dev', ['bench-devs']);
  await must('namespace', call(server, admin, 'POST', '/api/v1/namespaces', { metadata: { name: NS } }));
  const binding = (name: string, kind: string, subject: string) => ({
    metadata: { name, namespace: NS },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind, name: subject }],
  });
  const rbPath = `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`;
  for (let i = 0; i < OTHER_BINDINGS; i++)
    await must(
      'rolebinding',
      call(server, admin, 'POST', rbPath, binding(`other-${i}`, 'User', `someone-${i}`)),
    );
  await must('rolebinding', call(server, admin, 'POST', rbPath, binding('devs', 'Group', 'bench-devs')));
  await must(
    'configmap',
    call(server, admin, 'POST', `/api/v1/namespaces/${NS}/configmaps`, {
      metadata: { name: 'cm' },
      data: { a: 'b' },
    }),
  );
  // `edit` gets its rules from the aggregation controller, which does not run here: aggregate-to-edit is bound
  // directly as well, so the user's rights come from RBAC either way
  await must(
    'rolebinding',
    call(server, admin, 'POST', rbPath, {
      ...binding('devs-direct', 'Group', 'bench-devs'),
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'system:aggregate-to-view',
      },
    }),
  );
  for (let i = 0; ; i++) {
    if ((await call(server, userToken, 'GET', `/api/v1/namespaces/${NS}/configmaps/cm`)) === 200) break;
    if (i > 100) throw new Error(`${mode}: the bench user is never allowed`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY, ca: server.ca });
  const paths = [
    `/api/v1/namespaces/${NS}/configmaps/cm`,
    `/api/v1/namespaces/${NS}/configmaps`,
    `/apis/apps/v1/namespaces/${NS}/deployments`,
  ];
  let n = 0;
  const cpu0 = cpuMs(server.pid);
  const stats = await closedLoop(CONCURRENCY, DURATION_MS, () => {
    const req = request(`${server.url}${paths[n++ % paths.length]}`, {
      agent,
      headers: { Authorization: `Bearer ${userToken}` },
    });
    req.end();
    return req;
  });
  const cpu = cpuMs(server.pid) - cpu0;
  agent.destroy();
  if (stats.errors > 0) throw new Error(`${mode}: ${stats.errors} requests failed`);
  return {
    p50Ms: stats.p50Ms,
    p99Ms: stats.p99Ms,
    rps: stats.rps,
    cpuMsPer1000: (cpu * 1000) / stats.requests,
  };
}

/**
 * KUBEMU_BENCH_RBAC_BASELINE=REV: RBAC as built at REV is measured in the same rounds as a third side, for an A/B of
 * the authorizer itself (its slowdown over the same AlwaysAllow rounds, and its CPU per 1,000 requests).
 */
function baselineSide(): { label: string; dist: string } | undefined {
  const revision = process.env.KUBEMU_BENCH_RBAC_BASELINE;
  if (!revision) return undefined;
  const build = prepareBaselineBuild(revision, {
    repoRoot: join(DIST, '..'),
    cacheDir: defaultBaselineCacheDir(),
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  return { label: `RBAC@${build.commit.slice(0, 7)}`, dist: build.dist };
}

registerSuite('rbac', async (): Promise<BenchResult[]> => {
  const rounds = Number(process.env.KUBEMU_BENCH_ROUNDS || DEFAULT_ROUNDS);
  const baseline = baselineSide();
  const runs: Record<string, RoundFigures[]> = { AlwaysAllow: [], RBAC: [] };
  if (baseline) runs[baseline.label] = [];
  for (let round = 0; round < rounds; round++) {
    const sides: { label: string; mode: Mode; dist?: string }[] = alternate(round, MODES[0], MODES[1]).map(
      (mode) => ({ label: mode, mode }),
    );
    // the baseline's RBAC beside this build's, first in every other round
    if (baseline)
      sides.splice(round % 2 === 0 ? 0 : sides.length, 0, {
        label: baseline.label,
        mode: 'RBAC',
        dist: baseline.dist,
      });
    for (const side of sides) {
      // KUBEMU_BENCH_CPU_PROF=DIR: each apiserver writes a .cpuprofile under DIR/<side>-<round>/ when it stops
      const profDir = process.env.KUBEMU_BENCH_CPU_PROF;
      const nodeArgs = profDir
        ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, `${side.label}-${round}`)]
        : [];
      const server = await startBenchApiServer(['--authorization-mode', side.mode], {
        ...(side.dist ? { dist: side.dist } : {}),
        nodeArgs,
      });
      try {
        const f = await measure(server, side.mode);
        runs[side.label].push(f);
        process.stderr.write(
          `  round ${round + 1}/${rounds} ${side.label}: p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms, ${Math.round(f.rps)} req/s, CPU ${f.cpuMsPer1000.toFixed(0)} ms / 1,000 requests\n`,
        );
      } finally {
        await server.stop();
      }
    }
  }
  const results: BenchResult[] = [];
  const figures: { name: string; unit: string; pick: (f: RoundFigures) => number; target: boolean }[] = [
    {
      name: 'API request p99 (get/list as an RBAC-bound user, 8 clients)',
      unit: 'ms',
      pick: (f) => f.p99Ms,
      target: true,
    },
    { name: 'API request p50', unit: 'ms', pick: (f) => f.p50Ms, target: false },
    { name: 'apiserver CPU per 1,000 requests', unit: 'ms', pick: (f) => f.cpuMsPer1000, target: false },
  ];
  for (const fig of figures) {
    const c = compareRounds(runs.AlwaysAllow.map(fig.pick), runs.RBAC.map(fig.pick), 'lower');
    results.push(
      { name: `${fig.name}: AlwaysAllow`, value: Number(c.baseline.toFixed(2)), unit: fig.unit },
      { name: `${fig.name}: RBAC`, value: Number(c.current.toFixed(2)), unit: fig.unit },
      {
        name: `${fig.name}: RBAC slowdown`,
        value: Number(c.regressionPct.toFixed(1)),
        unit: '%',
        ...(fig.target ? { target: { op: '<=' as const, value: MAX_SLOWDOWN_PCT } } : {}),
        note: `RBAC / AlwaysAllow per round ${c.ratioMin.toFixed(2)} to ${c.ratioMax.toFixed(2)}, median ${c.ratio.toFixed(3)}`,
      },
    );
    if (baseline) {
      const b = compareRounds(runs.AlwaysAllow.map(fig.pick), runs[baseline.label].map(fig.pick), 'lower');
      results.push(
        { name: `${fig.name}: ${baseline.label}`, value: Number(b.current.toFixed(2)), unit: fig.unit },
        {
          name: `${fig.name}: ${baseline.label} slowdown`,
          value: Number(b.regressionPct.toFixed(1)),
          unit: '%',
          note: `${baseline.label} / AlwaysAllow per round ${b.ratioMin.toFixed(2)} to ${b.ratioMax.toFixed(2)}, median ${b.ratio.toFixed(3)}`,
        },
      );
    }
  }
  results[0].note = `medians of ${rounds} rounds, each a fresh apiserver per mode, alternating which goes first`;
  return results;
});
