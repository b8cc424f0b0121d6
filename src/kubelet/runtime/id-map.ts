// Which user and group ids a container may run as (securityContext runAsUser, runAsGroup, fsGroup,
// supplementalGroups), and how a rootless kubelet gets more than its own: as rootless podman and containerd (through
// rootlesskit) do, the container's user namespace maps uid 0 to the kubelet's user and 1..N to the user's
// subordinate range from /etc/subuid (/etc/subgid for groups), set by the setuid newuidmap/newgidmap (util-linux's
// `unshare --map-users/--map-groups` runs them). Without a range only uid 0 exists in a container: a pod asking for
// another id is refused (CreateContainerConfigError) and the Node says so (RunAsUserDegraded), never run as
// somebody else.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

/** `count` ids from `start` (outside the container's user namespace) */
export interface IdRange {
  start: number;
  count: number;
}

/** the kubelet user's first subordinate uid and gid ranges */
export interface SubordinateIds {
  uid: IdRange;
  gid: IdRange;
}

/**
 * - `host`: every id is the node's (a root kubelet without a user namespace of its own);
 * - `subordinate`: 0 is the kubelet's user, 1..count its subordinate ids;
 * - `single`: a container runs only as the kubelet's user: uid/gid 0 of its user namespace, or without one the
 *   kubelet's own ids (`uid`, `gid`); `why` says what is missing.
 */
export type IdMapping =
  | { kind: 'host' }
  | { kind: 'subordinate'; user: string; ids: SubordinateIds }
  | { kind: 'single'; user: string; uid: number; gid: number; why: string };

/** The first range of `name` (or `uid`) in /etc/subuid-format text (`NAME_OR_ID:START:COUNT` lines). */
export function findSubordinateRange(text: string, name: string, uid: number): IdRange | undefined {
  for (const line of text.split('\n')) {
    const [who, start, count] = line.trim().split(':');
    if (who === undefined || start === undefined || count === undefined) continue;
    if (who !== name && who !== String(uid)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isInteger(range.start) && Number.isInteger(range.count) && range.start > 0 && range.count > 0)
      return range;
  }
  return undefined;
}

export interface ThisUser {
  name: string;
  uid: number;
  gid: number;
}

export function thisUser(): ThisUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  let name = String(uid);
  try {
    name = os.userInfo().username;
  } catch {
    // no passwd entry: /etc/subuid may still name the uid
  }
  return { name, uid, gid };
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function onPath(command: string): boolean {
  return (process.env['PATH'] ?? '')
    .split(':')
    .some((dir) => dir !== '' && fs.existsSync(`${dir}/${command}`));
}

/**
 * The user's subordinate ranges and the setuid helpers that map them, or why there are none. Files are parameters
 * for tests; a kubelet reads /etc/subuid and /etc/subgid.
 */
export function findSubordinateIds(
  user: ThisUser = thisUser(),
  files = { subuid: '/etc/subuid', subgid: '/etc/subgid' },
): { ids: SubordinateIds } | { why: string } {
  const uid = findSubordinateRange(readText(files.subuid) ?? '', user.name, user.uid);
  if (!uid) return { why: `no subordinate uids for ${user.name} in ${files.subuid}` };
  const gid = findSubordinateRange(readText(files.subgid) ?? '', user.name, user.uid);
  if (!gid) return { why: `no subordinate gids for ${user.name} in ${files.subgid}` };
  for (const helper of ['newuidmap', 'newgidmap'])
    if (!onPath(helper)) return { why: `${helper} is not installed (Debian/Ubuntu: the uidmap package)` };
  return { ids: { uid, gid } };
}

/** the user's subordinate ids when there are any (a clean-up's fallback: what a container left as one of them) */
export function subordinateIdsIfAny(): SubordinateIds | undefined {
  if (process.getuid?.() === 0) return undefined;
  const found = findSubordinateIds();
  return 'ids' in found ? found.ids : undefined;
}

/** `unshare`'s flags for a container's user namespace: 0 is the kubelet's user, 1..count the subordinate ids. */
export function userNamespaceArgs(ids: SubordinateIds | undefined): string[] {
  if (!ids) return ['--user', '--map-root-user'];
  return [
    '--user',
    '--map-root-user',
    // util-linux 2.38's order: outer (the node's) first, then inner (the container's), then count
    `--map-users=${ids.uid.start},1,${ids.uid.count}`,
    `--map-groups=${ids.gid.start},1,${ids.gid.count}`,
  ];
}

/** The ids this process's own user namespace has (/proc/self/uid_map): all of them in the node's. */
export function ownNamespaceSize(kind: 'uid' | 'gid', file = `/proc/self/${kind}_map`): number {
  const text = readText(file);
  if (text === undefined) return 2 ** 32 - 1;
  return text
    .trim()
    .split('\n')
    .map((l) => Number(l.trim().split(/\s+/)[2] ?? 0))
    .reduce((a, b) => a + b, 0);
}

/** Whether a container may run as `id` (a uid or gid of its own user namespace) under `mapping`. */
export function isMapped(mapping: IdMapping, kind: 'uid' | 'gid', id: number): boolean {
  if (mapping.kind === 'host') return true;
  if (mapping.kind === 'single') return id === mapping[kind];
  return id >= 0 && id <= mapping.ids[kind].count;
}

/** The node's id (outside every user namespace) of a container's `id`, or undefined when it is not mapped. */
export function outerId(
  mapping: IdMapping,
  kind: 'uid' | 'gid',
  id: number,
  self: ThisUser,
): number | undefined {
  if (mapping.kind === 'host') return id;
  if (id === 0) return kind === 'uid' ? self.uid : self.gid;
  if (mapping.kind === 'single' || id > mapping.ids[kind].count) return undefined;
  return mapping.ids[kind].start + id - 1;
}

/** Runs `argv` as root of a user namespace with `ids` mapped, where the subordinate ids' files can be changed. */
export function inUserNamespaceArgs(ids: SubordinateIds, argv: string[]): string[] {
  return [...userNamespaceArgs(ids), '--', ...argv];
}

/**
 * Removes `dir` and everything in it; files a container made as a subordinate id (a runAsUser pod's /tmp, its
 * directories in a volume) are not the kubelet user's to remove, so what is left goes through the user namespace.
 */
export function removeTreeSync(dir: string, ids: SubordinateIds | undefined): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!ids || (code !== 'EACCES' && code !== 'EPERM')) throw err;
  }
  const r = spawnSync('unshare', inUserNamespaceArgs(ids, ['rm', '-rf', '--', dir]), {
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 30_000,
  });
  if (r.status !== 0)
    throw new Error(`removing ${dir} in the user namespace: ${r.stderr?.toString().trim()}`);
}

/** removeTreeSync without blocking the event loop (a pod's directories when it is removed). */
export async function removeTree(dir: string, ids: SubordinateIds | undefined): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true });
    return;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!ids || (code !== 'EACCES' && code !== 'EPERM')) throw err;
  }
  await runInUserNamespace(ids, ['rm', '-rf', '--', dir], `removing ${dir}`);
}

/** Runs `argv` as root of a user namespace with the subordinate ids mapped; rejects with its stderr. */
export function runInUserNamespace(ids: SubordinateIds, argv: string[], what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', inUserNamespaceArgs(ids, argv), {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 30_000,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', (err) => reject(new Error(`${what}: ${err.message}`)));
    child.once('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${what}: ${stderr.trim() || `exit status ${code}`}`)),
    );
  });
}
