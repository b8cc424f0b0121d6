// A/B of `npx kubemu up` (issue #16's target): two project directories (say a build of main and this clone), run
// alternately, cold and warm as `npm run bench -- --only up` does, reporting for each run the wall time, the
// "Ready in" kubemu printed, and CPU: the npx command's own tree (npm, sh, the CLI) and the cluster's processes
// (pm2's daemon and everything under it) at the moment `up` returned. On a loaded machine the wall times say little;
// the CPU, what two cores have to do before the nodes are Ready, is the figure to compare.
//
//   unshare -n sh -c 'ip link set lo up; node scripts/bench-up-ab.mjs OLD_DIR NEW_DIR [ROUNDS]'
//
// Run it in a network namespace of its own: the clusters take the fixed node, ingress and DNS addresses.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [oldDir, newDir, roundsArg] = process.argv.slice(2);
if (!oldDir || !newDir) {
  console.error('usage: node scripts/bench-up-ab.mjs OLD_PROJECT_DIR NEW_PROJECT_DIR [ROUNDS]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 3);
const TICK = 100; // USER_HZ

/** utime+stime of a process, its reaped children included (/proc/PID/stat fields 14–17), in ms */
function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 1000) / TICK;
  } catch {
    return 0;
  }
}

function treeOf(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${out[i]}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      try {
        const kids = readFileSync(`/proc/${out[i]}/task/${t}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      } catch {
        // gone
      }
    }
  }
  return out;
}

const SECOND_WAVE = new Set(['scheduler', 'kube-proxy', 'ingress', 'cloud-lb', 'dns']);

/** the component a cluster process runs: `node dist/cli/main.js COMPONENT ...` */
function componentOf(pid) {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.findIndex((a) => a.endsWith('/cli/main.js'));
    return i >= 0 ? argv[i + 1] : '';
  } catch {
    return '';
  }
}

/** runs `npx kubemu ARGS` in `dir`; wall ms, its tree's CPU ms (from wait4's rusage via /usr/bin/time), stdout */
function npx(dir, args, env) {
  const t0 = performance.now();
  return new Promise((res, rej) => {
    const child = spawn('/usr/bin/time', ['-f', 'CPU %U %S', 'npx', 'kubemu', ...args], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const wall = performance.now() - t0;
      const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(err);
      if (code !== 0) rej(new Error(`npx kubemu ${args[0]} in ${dir}: exit ${code}\n${out}\n${err}`));
      else res({ wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, out });
    });
  });
}

async function upRun(dir, root, mode) {
  const home = join(root, 'home');
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, HOME: home, KUBEMU_LOG_LEVEL: 'warn', npm_config_cache: join(home, '.npm') };
  const flags = ['--name', 'ab', '--state-dir', join(root, 'state')];
  const up = await npx(dir, ['up', ...flags, '--nodes', '3', '--kubeconfig', join(root, 'kubeconfig')], env);
  const daemon = Number(readFileSync(join(root, 'state', 'pm2', 'pm2.pid'), 'utf8'));
  const tree = treeOf(daemon);
  const cluster = tree.reduce((sum, pid) => sum + cpuOf(pid), 0);
  // the second wave (scheduler, kube-proxies, ingress, ...): what loads while the nodes come Ready
  const secondWave = tree
    .filter((pid) => SECOND_WAVE.has(componentOf(pid)))
    .reduce((sum, pid) => sum + cpuOf(pid), 0);
  await npx(dir, ['down', ...flags], env);
  return {
    mode,
    wall: up.wall,
    printed: Number(/Ready in ([\d.]+)s/.exec(up.out)?.[1] ?? NaN) * 1000,
    npxCpu: up.cpu,
    clusterCpu: cluster,
    secondWaveCpu: secondWave,
  };
}

const results = { old: [], new: [] };
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? ['old', 'new'] : ['new', 'old'];
  for (const which of order) {
    const dir = resolve(which === 'old' ? oldDir : newDir);
    const root = mkdtempSync(join(tmpdir(), `kubemu-ab-${which}-`));
    try {
      for (const mode of ['cold', 'warm']) {
        const res = await upRun(dir, root, mode);
        results[which].push(res);
        const f = (n) => (n / 1000).toFixed(2).padStart(6);
        console.log(
          `round ${r + 1} ${which} ${mode}: wall ${f(res.wall)} s, printed ${f(res.printed)} s, ` +
            `CPU npx+cli ${f(res.npxCpu)} s + cluster ${f(res.clusterCpu)} s = ${f(res.npxCpu + res.clusterCpu)} s ` +
            `(second wave ${f(res.secondWaveCpu)} s)`,
        );
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log('\nmedians (s)          wall  printed  npx+cli  cluster  total CPU  2nd wave');
for (const mode of ['cold', 'warm'])
  for (const which of ['old', 'new']) {
    const rs = results[which].filter((x) => x.mode === mode);
    const m = (k) => (median(rs.map(k)) / 1000).toFixed(2).padStart(8);
    console.log(
      `${which.padEnd(4)} ${mode.padEnd(5)}     ${m((x) => x.wall)} ${m((x) => x.printed)} ${m((x) => x.npxCpu)} ` +
        `${m((x) => x.clusterCpu)} ${m((x) => x.npxCpu + x.clusterCpu)}   ${m((x) => x.secondWaveCpu)}`,
    );
  }
