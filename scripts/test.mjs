#!/usr/bin/env node
// `npm test` after the build: the whole suite in phases.
//
//   0. the Debian packages the tests' setups install when missing (`ensureCommands([...])` in the test files and
//      test/helpers, read from there), installed once up front: installed inside a setup, apt-get runs against that
//      hook's timeout, and holds the apt lock that other files' setups wait on against theirs;
//   1. unit and integration tests (vitest projects `unit`, `integration`), as `vitest run` would;
//   2. the end-to-end files and the Docker Compose file, KUBEMU_TEST_JOBS (default 2) at a time, longest first.
//      Every e2e cluster uses the same addresses (nodes 127.0.1.N, pods 127.244.N.x, ingress on :80/:443), so each
//      e2e file runs in a network namespace of its own (`unshare --net`, loopback up), where the whole of 127/8 is
//      its own. The compose file runs its Docker engine in a namespace of its own already. Setups that install a
//      Debian package reach the mirror through the host's namespace (KUBEMU_TEST_HOST_NETNS, see
//      test/helpers/tools.ts). Without root or `unshare` the e2e files run one at a time in this namespace, and
//      this says so;
//   3. the chaos files, one at a time and alone (they time how a cluster heals, so they get the machine).
//
// KUBEMU_TEST_NETWORK=netns|loopback (handed on to every file) picks the clusters' `kubemu up --network`
// (test/helpers/cluster.ts); unset, kubemu's default.
//
// Each file's output is printed whole when it ends, with its time; a summary follows. Exit status 1 if anything
// failed. A file that runs over KUBEMU_TEST_FILE_TIMEOUT seconds (default 1200) is killed and counts as failed.
// Arguments are not taken: to run some files, use `npx vitest run FILE...` (inside `unshare -n` for e2e files).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VITEST = join(ROOT, 'node_modules/vitest/vitest.mjs');
const TIMES = join(ROOT, 'node_modules/.cache/kubemu-test-times.json');
const jobs = Math.max(1, Number(process.env.KUBEMU_TEST_JOBS ?? 2) || 2);
const fileTimeoutMs = Math.max(60, Number(process.env.KUBEMU_TEST_FILE_TIMEOUT ?? 1200) || 1200) * 1000;

const children = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) killGroup(child);
    process.exit(130);
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs argv with its output passed through as it comes (phases 1 and 3) and kept, so that what failed
 * can be printed again after the summary; resolves with its exit code and output.
 */
function runPassedThrough(argv) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(child);
    const chunks = [];
    child.stdout.on('data', (d) => {
      chunks.push(d);
      process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      chunks.push(d);
      process.stderr.write(d);
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code: signal ? 1 : (code ?? 1), output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** Runs argv with its output collected; resolves with code, output and wall time. */
function runCollected(argv, env) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(child);
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, fileTimeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      // whatever the file left in its process group (it should have cleaned up) goes with it
      killGroup(child);
      let output = Buffer.concat(chunks).toString('utf8');
      if (timedOut)
        output += `\n[scripts/test.mjs] killed after ${seconds(fileTimeoutMs)} (KUBEMU_TEST_FILE_TIMEOUT)\n`;
      resolve({ code: timedOut || signal ? 1 : (code ?? 1), output, ms: Date.now() - started });
    });
  });
}

/** The "Failed Tests" part of a vitest run's output, without colours, at most 60 lines (or its last 30 lines). */
function failureOf(output) {
  // eslint-disable-next-line no-control-regex
  const lines = output.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const from = lines.findIndex((l) => l.includes('Failed Tests'));
  const to = lines.findIndex((l, i) => i > from && /^\s*Test Files/.test(l));
  const part = from >= 0 ? lines.slice(from, to > from ? to : undefined) : lines.slice(-30);
  return (
    part.length > 60
      ? [...part.slice(0, 60), `... (${part.length - 60} more lines in its output above)`]
      : part
  )
    .map((l) => `    ${l}`)
    .join('\n');
}

function listTests(dir) {
  const out = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTests(rel));
    else if (entry.name.endsWith('.test.ts')) out.push(rel);
  }
  return out;
}

function readTimes() {
  try {
    return JSON.parse(readFileSync(TIMES, 'utf8'));
  } catch {
    return {};
  }
}

/** Can this process give a child a network namespace of its own? */
function canUnshare() {
  if (process.getuid?.() !== 0) return 'not root';
  const r = spawnSync('unshare', ['--net', 'true'], { stdio: 'ignore', timeout: 10_000 });
  if (r.error) return `unshare: ${r.error.message}`;
  if (r.status !== 0) return `unshare --net exited ${r.status}`;
  return undefined;
}

/** `[command, package]` pairs of every `ensureCommands([...])` in the test files and helpers. */
function wantedCommands() {
  const files = [
    ...listTests('src'),
    ...listTests('test'),
    ...readdirSync(join(ROOT, 'test/helpers')).map((f) => join('test/helpers', f)),
  ].filter((f) => f.endsWith('.ts'));
  const pairs = new Map();
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (let at = text.indexOf('ensureCommands(['); at >= 0; at = text.indexOf('ensureCommands([', at + 1)) {
      const end = text.indexOf('])', at);
      if (end < 0) continue;
      for (const m of text.slice(at, end).matchAll(/\[\s*'([\w.+-]+)',\s*'([\w.+-]+)'\s*\]/g))
        pairs.set(m[1], m[2]);
    }
  }
  return pairs;
}

/** Phase 0: installs the packages of the wanted commands that are missing; what it did, for the summary. */
function installWanted() {
  const has = (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  const missing = [...wantedCommands()].filter(([command]) => !has(command));
  if (missing.length === 0) return { code: 0, what: 'nothing missing' };
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].sort();
  if (process.getuid?.() !== 0)
    return { code: 0, what: `not root: left to the tests' setups (${packages.join(' ')})` };
  console.log(`[scripts/test.mjs] phase 0: apt-get install ${packages.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args, timeout) =>
    spawnSync('flock', ['-w', '900', '/var/lock/kubemu-test-apt', 'apt-get', ...args], {
      env,
      stdio: 'inherit',
      timeout,
    });
  apt(['update'], 600_000);
  // one unknown package (kubectl is not Debian's) fails the whole install: then each on its own
  let r = apt(['install', '-y', ...packages], 900_000);
  if (r.status !== 0) for (const pkg of packages) r = apt(['install', '-y', pkg], 900_000);
  const still = missing.filter(([command]) => !has(command)).map(([command]) => command);
  return {
    code: 0,
    what:
      still.length === 0
        ? `installed ${packages.join(' ')}`
        : `apt-get exited ${r.status ?? r.error?.message}; still missing ${still.join(', ')} (their tests fail)`,
  };
}

async function main() {
  const results = [];
  const t0 = Date.now();

  // 0. the packages the tests' setups need
  const p0 = Date.now();
  const installed = installWanted();
  results.push({ name: `packages: ${installed.what}`, code: installed.code, ms: Date.now() - p0 });

  // 1. unit + integration
  console.log('\n[scripts/test.mjs] phase 1: unit and integration tests\n');
  const p1 = Date.now();
  const r1 = await runPassedThrough([
    process.execPath,
    VITEST,
    'run',
    '--project',
    'unit',
    '--project',
    'integration',
  ]);
  results.push({
    name: 'unit + integration',
    code: r1.code,
    ms: Date.now() - p1,
    failure: r1.code === 0 ? undefined : failureOf(r1.output),
  });

  // 2. e2e files (each in a network namespace of its own) beside the compose file
  const whyNot = canUnshare();
  const times = readTimes();
  const e2e = listTests('test/e2e');
  const docker = listTests('test/docker');
  const weight = (file) => times[file] ?? statSync(join(ROOT, file)).size / 100; // ~100 bytes of test a second
  const queue = [...e2e, ...docker].sort((a, b) => weight(b) - weight(a));
  const parallel = whyNot ? 1 : jobs;
  console.log(
    `\n[scripts/test.mjs] phase 2: ${e2e.length} end-to-end files and ${docker.length} compose file(s), ` +
      (whyNot
        ? `ONE AT A TIME in this network namespace (${whyNot}: no namespace per file, so no parallel clusters)`
        : `${parallel} at a time, each e2e file in a network namespace of its own`) +
      '\n',
  );
  const env = { ...process.env, KUBEMU_TEST_HOST_NETNS: `/proc/${process.pid}/ns/net` };
  const p2 = Date.now();
  const worker = async () => {
    for (let file = queue.shift(); file; file = queue.shift()) {
      const project = file.startsWith('test/docker/') ? 'docker' : 'e2e';
      const vitest = [process.execPath, VITEST, 'run', '--project', project, file];
      // the compose file makes its own namespaces; an e2e file gets one here
      const argv =
        project === 'e2e' && !whyNot
          ? ['unshare', '--net', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...vitest]
          : vitest;
      console.log(`[scripts/test.mjs] start ${file}`);
      const r = await runCollected(argv, env);
      process.stdout.write(
        `\n========== ${file}: ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`} in ${seconds(r.ms)}\n` +
          r.output +
          `========== end of ${file}\n\n`,
      );
      results.push({
        name: file,
        code: r.code,
        ms: r.ms,
        failure: r.code === 0 ? undefined : failureOf(r.output),
      });
      if (r.code === 0) times[file] = r.ms / 1000;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  results.push({ name: `phase 2 (${parallel} at a time)`, code: 0, ms: Date.now() - p2, phase: true });
  try {
    mkdirSync(dirname(TIMES), { recursive: true });
    writeFileSync(TIMES, JSON.stringify(times, null, 1));
  } catch {
    // a read-only checkout: the next run orders by file size again
  }

  // 3. chaos, alone
  console.log('\n[scripts/test.mjs] phase 3: chaos files, one at a time\n');
  const p3 = Date.now();
  const r3 = await runPassedThrough([process.execPath, VITEST, 'run', '--project', 'chaos']);
  results.push({
    name: 'chaos',
    code: r3.code,
    ms: Date.now() - p3,
    failure: r3.code === 0 ? undefined : failureOf(r3.output),
  });

  const failed = results.filter((r) => r.code !== 0);
  console.log('\n[scripts/test.mjs] summary');
  for (const r of results)
    console.log(`  ${r.code === 0 ? 'ok    ' : 'FAILED'} ${seconds(r.ms).padStart(9)}  ${r.name}`);
  console.log(
    `  total ${seconds(Date.now() - t0)}; ${failed.length ? `${failed.length} failed` : 'all passed'}`,
  );
  // CI shows the end of the output: what failed, again, after the summary
  for (const r of failed.filter((f) => f.failure))
    console.log(`\n[scripts/test.mjs] ${r.name} failed:\n${r.failure}`);
  process.exit(failed.length ? 1 : 0);
}

await main();
