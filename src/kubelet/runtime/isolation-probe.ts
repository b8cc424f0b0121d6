// Which isolation works here (isolation.ts's modes), found by trying it: `unshare` of the namespaces a container gets,
// with the mounts it makes, and `setpriv --pdeathsig`. Run once by each kubelet at its start — or once by `kubemu up`
// for all its kubelets: `up` probes while pm2's daemon starts and writes the answer to a file in the state dir, and
// each kubelet it starts (KUBEMU_ISOLATION_PROBE=FILE) reads it instead of blocking its event loop on the same probe.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { findSubordinateIds, inUserNamespaceArgs, type IdRange, type SubordinateIds } from './id-map.js';

export type ProbedMode = 'namespaces' | 'userns' | 'none';

export interface ProbeResult {
  mode: ProbedMode;
  /** why: the failed probes, when the mode is not the best one for this user */
  why?: string;
  /** `userns`: the user's subordinate ids, when a container's user namespace maps them (id-map.ts) */
  subordinate?: SubordinateIds;
  /** `userns`: why it maps only uid 0 */
  subordinateWhy?: string;
}

/** the environment variable naming `kubemu up`'s probe file for the kubelets it starts */
export const PROBE_FILE_ENV = 'KUBEMU_ISOLATION_PROBE';

interface Outcome {
  status: number | null;
  error?: Error;
  stderr: string;
}
type Runner<R> = (command: string, args: string[]) => R;

function unshareArgs(userns: boolean): string[] {
  return [
    ...(userns ? ['--user', '--map-root-user'] : []),
    '--pid',
    '--fork',
    '--kill-child',
    '--mount',
    '--propagation',
    'private',
    '--mount-proc',
    '--',
    '/bin/sh',
    '-c',
    // and the private root's pivot (isolation.ts)
    'mount -t tmpfs kubemu-probe /tmp && mount -t overlay overlay -o lowerdir=/etc:/usr /mnt && ' +
      'mkdir /tmp/r && mount --bind /tmp/r /tmp/r && cd /tmp/r && pivot_root . .',
  ];
}
const SETPRIV_ARGS = ['--pdeathsig', 'KILL', '--', 'true'];
const SUBORDINATE_CHECK = ['setpriv', '--reuid=1', '--regid=1', '--clear-groups', '--', 'true'];

const failure = (userns: boolean, r: Outcome): string => {
  const why = r.error ? r.error.message : r.stderr.trim().split('\n')[0] || `exit status ${r.status}`;
  return `unshare${userns ? ' --user' : ''}: ${why}`;
};

/** The probe's steps, in order; `next` runs one and hands its outcome back (synchronously or not). */
function* steps(root: boolean): Generator<[string, string[]], ProbeResult, Outcome> {
  const failures: string[] = [];
  for (const userns of root ? [false, true] : [true]) {
    const r = yield ['unshare', unshareArgs(userns)];
    if (r.status !== 0) {
      failures.push(failure(userns, r));
      continue;
    }
    const setpriv = yield ['setpriv', SETPRIV_ARGS];
    if (setpriv.status !== 0) {
      failures.push('setpriv --pdeathsig KILL -- true failed (no setpriv or no true on PATH)');
      continue;
    }
    if (!userns) return { mode: 'namespaces' };
    // the subordinate ids: found, and newuidmap/newgidmap let this user map them (a switch to one of them works)
    const found = findSubordinateIds();
    if ('why' in found) return { mode: 'userns', subordinateWhy: found.why };
    const mapped = yield ['unshare', inUserNamespaceArgs(found.ids, SUBORDINATE_CHECK)];
    if (mapped.status !== 0)
      return { mode: 'userns', subordinateWhy: failure(true, mapped).replace('--user', '--map-users') };
    return { mode: 'userns', subordinate: found.ids };
  }
  return { mode: 'none', why: failures.join('; ') };
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** The probe, blocking (a kubelet's start). */
export function probeIsolationSync(root = isRoot()): ProbeResult {
  const run: Runner<Outcome> = (command, args) => {
    const r = spawnSync(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    return { status: r.status, stderr: r.stderr?.toString() ?? '', ...(r.error ? { error: r.error } : {}) };
  };
  const it = steps(root);
  let step = it.next();
  while (!step.done) step = it.next(run(...step.value));
  return step.value;
}

/** The same probe without blocking the event loop (`kubemu up`). */
export async function probeIsolation(root = isRoot()): Promise<ProbeResult> {
  const run: Runner<Promise<Outcome>> = (command, args) =>
    new Promise((resolve) => {
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', (error) => resolve({ status: null, error, stderr }));
      child.once('close', (status) => resolve({ status, stderr }));
    });
  const it = steps(root);
  let step = it.next();
  while (!step.done) step = it.next(await run(...step.value));
  return step.value;
}

/** The probe file's content (written by `kubemu up`, src/cli/cluster/isolation-probe-file.ts). */
export interface ProbeFile extends ProbeResult {
  /** the user it was run as: it says nothing about another's */
  uid: number | undefined;
}

/** What `file` says, when it was written by a probe run as this user; else undefined (the caller probes itself). */
export function readProbeFile(file: string): ProbeResult | undefined {
  let record: Partial<ProbeFile>;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as Partial<ProbeFile>;
  } catch {
    return undefined;
  }
  if (record.uid !== process.getuid?.()) return undefined;
  if (record.mode !== 'namespaces' && record.mode !== 'userns' && record.mode !== 'none') return undefined;
  const range = (r: Partial<IdRange> | undefined): r is IdRange =>
    Number.isInteger(r?.start) && Number.isInteger(r?.count);
  const sub = record.subordinate;
  return {
    mode: record.mode,
    ...(typeof record.why === 'string' ? { why: record.why } : {}),
    ...(sub && range(sub.uid) && range(sub.gid) ? { subordinate: { uid: sub.uid, gid: sub.gid } } : {}),
    ...(typeof record.subordinateWhy === 'string' ? { subordinateWhy: record.subordinateWhy } : {}),
  };
}
