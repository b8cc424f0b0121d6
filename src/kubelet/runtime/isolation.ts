// How a container process is isolated: private mount+PID namespaces when the kernel lets us, else a documented degraded mode.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CpuJoin } from './cgroups.js';
import {
  findSubordinateIds,
  ownNamespaceSize,
  thisUser,
  userNamespaceArgs,
  type IdMapping,
  type SubordinateIds,
} from './id-map.js';
import { PROBE_FILE_ENV, probeIsolationSync, readProbeFile, type ProbeResult } from './isolation-probe.js';

/**
 * - `namespaces`: root; `unshare --pid --mount` per container, volumes bind-mounted at their paths in a private root.
 * - `userns`: the same inside an unprivileged user namespace (`--user --map-root-user`), for non-root kubelets.
 * - `none`: no namespaces; absolute volume paths live under `$KUBEMU_ROOT` (the built-in images honour it) and
 *   a per-node watchdog, not a PID namespace, kills what is left when the kubelet dies.
 */
export type IsolationMode = 'namespaces' | 'userns' | 'none';

/** Where an image's files appear inside its container; image manifests refer to their files under it. */
export const IMAGE_MOUNT_PATH = '/app';
/** the umask containers start with, as runc gives it (the kubelet's own, which its containers inherit) */
export const CONTAINER_UMASK = 0o022;

export interface Mount {
  /** A directory or file on this machine (e.g. <podDir>/volumes/<name>). */
  hostPath: string;
  /** Absolute path inside the container. */
  containerPath: string;
  readOnly?: boolean;
}

let detected: IsolationMode | undefined;
let detectedWhy: string | undefined;
let probed: ProbeResult | undefined;

/**
 * Detects once per process which isolation works here; KUBEMU_ISOLATION=namespaces|userns|none forces one. A kubelet
 * started by `kubemu up` takes the answer of up's own probe from the file KUBEMU_ISOLATION_PROBE names, when it is
 * there and was probed as this user (isolation-probe.ts), and probes itself otherwise.
 */
export function detectIsolation(): IsolationMode {
  if (detected) return detected;
  const forced = process.env['KUBEMU_ISOLATION'];
  if (forced === 'namespaces' || forced === 'userns' || forced === 'none') {
    detectedWhy = `forced by KUBEMU_ISOLATION=${forced}`;
    return (detected = forced);
  }
  const file = process.env[PROBE_FILE_ENV];
  const result = (file ? readProbeFile(file) : undefined) ?? probeIsolationSync();
  probed = result;
  // namespaces and userns were found with setpriv working
  if (result.mode !== 'none') setprivPresent = true;
  detectedWhy = result.why;
  return (detected = result.mode);
}

/** Why detectIsolation() chose what it did when that was forced or `none` (the failed probes), for the Node's condition. */
export function isolationDetail(): string | undefined {
  detectIsolation();
  return detectedWhy;
}

/**
 * Which ids a container may run as under isolation `mode` (id-map.ts): a root kubelet's are the node's; a container's
 * user namespace maps the user's subordinate ids when the probe found them working; otherwise only uid 0.
 */
export function idMapping(mode: IsolationMode = detectIsolation()): IdMapping {
  const user = thisUser();
  if (mode === 'userns') {
    // forced userns: nothing probed, the ranges are taken as found
    const found = probed?.mode === 'userns' ? probed : undefined;
    const sub = found
      ? found.subordinate
        ? { ids: found.subordinate }
        : { why: found.subordinateWhy ?? 'no subordinate ids' }
      : findSubordinateIds(user);
    return 'ids' in sub
      ? { kind: 'subordinate', user: user.name, ids: sub.ids }
      : { kind: 'single', user: user.name, uid: 0, gid: 0, why: sub.why };
  }
  if (user.uid !== 0)
    return {
      kind: 'single',
      user: user.name,
      uid: user.uid,
      gid: user.gid,
      why: 'the kubelet is not root and runs containers without a user namespace',
    };
  // root of a user namespace that maps only itself (`kubemu up --network=netns` by a user)
  if (ownNamespaceSize('uid') < 65537 || ownNamespaceSize('gid') < 65537)
    return {
      kind: 'single',
      user: user.name,
      uid: 0,
      gid: 0,
      why: "the kubelet's own user namespace maps only uid 0 (a cluster started by a user who is not root)",
    };
  return { kind: 'host' };
}

let setprivPresent: boolean | undefined;
export function hasSetpriv(): boolean {
  setprivPresent ??=
    spawnSync('setpriv', ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore' }).status === 0;
  return setprivPresent;
}

/** What to spawn: the program and its arguments, plus the host cwd (only meaningful without namespaces). */
export interface Launch {
  file: string;
  args: string[];
  cwd: string;
  /** Extra environment for the container (KUBEMU_ROOT in degraded mode). */
  env: Record<string, string>;
}

export interface LaunchInput {
  mode: IsolationMode;
  /** Scratch dir of this container instance: private root, /tmp, overlay layers live here. */
  containerDir: string;
  imageDir: string;
  mounts: Mount[];
  /** argv after entrypoint/cmd/command/args resolution; argv[0] may be a name looked up on PATH. */
  argv: string[];
  workingDir: string;
  /**
   * How the container takes its CPU weight: the first process the kubelet starts joins, so the whole launch chain
   * (setpriv, unshare, the mounts) runs at the pod's weight, not at the kubelet's. Moving the process from the
   * kubelet instead would cost the cgroup mutex on the kubelet's event loop.
   */
  cpuJoin?: CpuJoin;
  /**
   * `nsenter --target PAUSE --net --uts` of the pod's network (the netns pod network): the launch chain enters it
   * first, so the container shares the pod's IP, localhost and hostname with the pod's other containers.
   */
  network?: string[];
  /** absent: a PID namespace of its own; `host`: the node's; a PID: the namespace of that process (joined) */
  pidNamespace?: 'host' | number;
  /**
   * Node paths no container may see (the cluster's state dir, the kubelet's root dir, the user's home): masked where
   * they lie inside the image's base directories; elsewhere they are not in a container's root at all.
   */
  hiddenPaths?: string[];
  /** securityContext.readOnlyRootFilesystem: the private root and its layers are mounted read-only */
  readOnlyRoot?: boolean;
  /** `userns`: the subordinate ids the container's user namespace maps besides uid 0 (id-map.ts) */
  subordinateIds?: SubordinateIds;
}

// Inside the namespaces: mount everything listed in the fstab in one `mount -a`, make the private root the root
// (pivot_root, then the node's root detached, as runc does: no chroot to climb out of), then chdir and exec the
// container's init. A working dir that is not in the image is made, as runc makes it.
const setupScript = (readOnlyRoot: boolean): string =>
  'mount -a -T "$1" || { echo "kubemu: failed to set up container mounts" >&2; exit 128; }; ' +
  (readOnlyRoot ? 'mount -o remount,bind,ro "$2" || exit 128; ' : '') +
  'cd "$2" && pivot_root . . && umount -l . || { echo "kubemu: failed to pivot to the container\'s root" >&2; exit 128; }; ' +
  'cd "$3" 2>/dev/null || { mkdir -p "$3" && cd "$3"; } || exit 128; ' +
  'i=$4; shift 4; exec /bin/sh -c "$i" kubemu-init "$@"';

/**
 * The container's PID 1 (like `docker run --init`): runs the program as its child and exits with its status. The
 * kernel drops a signal sent to a PID namespace's init that has no handler for it, so with the program itself as
 * PID 1 a SIGTERM that came before the program had installed its handler (while the launch chain was still
 * exec'ing, or node still booting) was lost, and the pod waited out its grace period for a SIGKILL. The program is
 * not an init: the kubelet sends it SIGTERM (ContainerProcess.stop, once it has exec'd), and before its handler
 * that ends it (143) instead of vanishing. `unshare --` only execs the program, with the "failed to execute"
 * message a missing program always had (StartError); `wait` is quiet, or it says "Terminated" in the log. The
 * program gets the init's stdin (a shell gives a background job /dev/null): `stdin: true` containers read it.
 */
export const INIT_SCRIPT = 'exec 3<&0; unshare -- "$@" <&3 3<&- & wait "$!" 2>/dev/null';

/** Builds the spawn line for a container and prepares its private root on disk. */
export function prepareLaunch(input: LaunchInput): Launch {
  const mounts = [
    { hostPath: input.imageDir, containerPath: IMAGE_MOUNT_PATH, readOnly: true },
    ...input.mounts.map((m) => ({ ...m, containerPath: path.posix.normalize(m.containerPath) })),
  ];
  // Containers run at a lower CPU priority than kubemu's own processes (see cgroups.ts for their weight), as
  // upstream reserves CPU for the kubelet and the control plane (kube-reserved/system-reserved): a burst of
  // container start-ups must not starve the kubelets that report them.
  // setpriv execs nsenter execs unshare: one process, whose parent (for PDEATHSIG) is still the kubelet
  const pdeath = [
    ...(hasSetpriv() ? ['setpriv', '--pdeathsig', 'KILL', '--'] : []),
    ...(input.network ?? []),
  ];
  if (input.mode === 'none') return prepareDegraded(input, mounts, pdeath);

  const rootfs = path.join(input.containerDir, 'rootfs');
  const tmpDir = path.join(input.containerDir, 'tmp');
  fs.mkdirSync(rootfs, { recursive: true });
  fs.mkdirSync(tmpDir, { recursive: true, mode: 0o1777 });
  fs.chmodSync(tmpDir, 0o1777);
  // an image's root has a /root (HOME) and a /run, the host's stay out of sight
  for (const dir of ['root', 'run']) fs.mkdirSync(path.join(rootfs, dir), { recursive: true });
  const ro = input.readOnlyRoot ? ',ro' : '';

  // The node's Node.js, when it is installed outside the directories an image is made of (~/.nvm, say).
  const node = nodeInstallMount();
  if (node) mounts.unshift(node);

  const lines: string[] = [];
  // The private root is a mount of its own: pivot_root needs one, and readOnlyRootFilesystem remounts it ro.
  lines.push(fstab(rootfs, rootfs, 'none', 'bind'));
  // The private root's mount points and symlinks are made by the container's own setup (mount's
  // X-mount.mkdir, `ln -s` in the script), not here: this runs on the kubelet's event loop, and a burst of
  // pods would queue behind some twenty filesystem calls per container.
  const links: [string, string][] = [];
  const layers: string[] = [];
  for (const entry of imageBase()) {
    const target = path.join(rootfs, entry.name);
    if (entry.symlink !== undefined) {
      // A top-level link to a directory (merged /usr: /bin -> usr/bin) is bound as that directory of the private
      // root (the container's own layer): one more line for `mount -a` instead of an `ln` process per link.
      const resolved = path.resolve('/', entry.symlink);
      if (isDirectory(resolved) && imageBase().some((e) => `/${e.name}` === `/${topLevel(resolved)}`))
        layers.push(fstab(path.join(rootfs, resolved), target, 'none', `rbind,X-mount.mkdir${ro}`));
      else links.push([entry.symlink, target]);
      continue;
    }
    if (KERNEL_DIRS.has(entry.name)) {
      lines.push(fstab(`/${entry.name}`, target, 'none', 'rbind,X-mount.mkdir'));
      continue;
    }
    // The node's /usr, /etc, /var... are the image's lower layer: the container writes to its own upper layer
    // (containerd's overlay snapshots), never to the node's files.
    const upper = path.join(input.containerDir, 'overlay', entry.name, 'upper');
    const work = path.join(input.containerDir, 'overlay', entry.name, 'work');
    fs.mkdirSync(upper, { recursive: true });
    fs.mkdirSync(work, { recursive: true });
    lines.push(
      fstab(
        'overlay',
        target,
        'overlay',
        `lowerdir=/${entry.name},upperdir=${upper},workdir=${work},X-mount.mkdir${ro}`,
      ),
    );
  }
  lines.push(...layers);
  // the pod's own /dev/shm (upstream's 64Mi), not the node's: that holds every container's scratch
  lines.push(
    fstab('shm', path.join(rootfs, 'dev', 'shm'), 'tmpfs', 'nosuid,nodev,noexec,mode=1777,size=64m'),
  );
  fs.mkdirSync(path.join(rootfs, 'tmp'), { recursive: true });
  lines.push(fstab(tmpDir, path.join(rootfs, 'tmp'), 'none', `bind${ro}`));
  // What must stay unseen though it lies inside the image's layers (the state dir in /var/lib, say): masked
  // with an empty read-only tmpfs, as runc masks paths.
  for (const hidden of outermost(input.hiddenPaths ?? [])) {
    const top = topLevel(hidden);
    if (!imageBase().some((e) => e.name === top && e.symlink === undefined) || KERNEL_DIRS.has(top)) continue;
    const kind = statKind(hidden);
    if (kind === 'dir')
      lines.push(fstab('kubemu-masked', path.join(rootfs, hidden), 'tmpfs', 'ro,size=4k,mode=000'));
    else if (kind === 'file') lines.push(fstab('/dev/null', path.join(rootfs, hidden), 'none', 'bind,ro'));
  }

  // Parents before children, so /data is mounted before /data/cache.
  const ordered = [...mounts].sort((a, b) => depth(a.containerPath) - depth(b.containerPath));
  for (const m of ordered) {
    const top = topLevel(m.containerPath);
    const isFile = fs.statSync(m.hostPath).isFile();
    // Create the mount point where it will be seen: our private root, /tmp, or an overlay's upper layer.
    let onDisk: string | undefined;
    if (top === 'tmp') onDisk = path.join(tmpDir, m.containerPath.slice('/tmp'.length));
    else if (!isLayer(top)) onDisk = path.join(rootfs, m.containerPath);
    else if (!fs.existsSync(m.containerPath) || isSymlink(m.containerPath))
      // a target that is a symlink in the lower layer (as /etc/resolv.conf often is) would lead the mount out
      // of the private root: the upper layer's file hides it
      onDisk = path.join(input.containerDir, 'overlay', top, 'upper', m.containerPath.slice(top.length + 1));
    if (onDisk && !insideOtherMount(m, ordered)) ensureMountPoint(onDisk, isFile);
    const opts = ['bind', ...(m.readOnly ? ['ro'] : []), ...(isFile ? [] : ['X-mount.mkdir'])].join(',');
    lines.push(fstab(m.hostPath, path.join(rootfs, m.containerPath), 'none', opts));
  }
  const fstabFile = path.join(input.containerDir, 'fstab');
  fs.writeFileSync(fstabFile, lines.join('\n') + '\n');

  // The launch chain's shape stays the same whatever the PID namespace: the process kubemu spawns has one child, the
  // container's init (ContainerProcess.initPid), forked by `unshare --fork` or, joining another's PID namespace,
  // by nsenter (which forks to enter it; unshare then only makes the mount namespace).
  const joined = typeof input.pidNamespace === 'number' ? input.pidNamespace : undefined;
  const joinPidNamespace =
    joined === undefined
      ? []
      : [
          'nsenter',
          '--target',
          String(joined),
          ...(input.mode === 'userns' ? ['--user', '--preserve-credentials'] : []),
          '--pid',
          '--',
        ];
  const unshare = [
    ...joinPidNamespace,
    'unshare',
    ...(input.mode === 'userns' && joined === undefined ? userNamespaceArgs(input.subordinateIds) : []),
    ...(input.pidNamespace === undefined ? ['--pid'] : []),
    ...(joined === undefined ? ['--fork', '--kill-child'] : []),
    '--mount',
    '--propagation',
    'private',
    '--mount-proc',
    '--',
    '/bin/sh',
    '-c',
    links.map(([to, at]) => `ln -sfn ${shellQuote(to)} ${shellQuote(at)}; `).join('') +
      setupScript(input.readOnlyRoot === true),
    'kubemu-init',
    fstabFile,
    rootfs,
    input.workingDir,
    INIT_SCRIPT,
    ...input.argv,
  ];
  // A burst of 100 pods starts 100 of these chains at once; at the kubelet's weight they took the CPU from the
  // kubelets and the apiserver that report the pods Ready. The join needs a shell: one more small exec. It runs
  // after setpriv has set the death signal (kept across the execs): a shell first would leave a kubelet killed
  // while it joins the cgroup with an orphan that setpriv then arms against init, a container that never dies.
  const all = input.cpuJoin
    ? [...pdeath, '/bin/sh', '-c', `${joinCommand(input.cpuJoin)}exec "$@"`, 'kubemu-join', ...unshare]
    : [...pdeath, ...unshare];
  return { file: all[0], args: all.slice(1), cwd: input.containerDir, env: {} };
}

/** No namespaces: a per-container root of symlinks; argv and working dir under /app are rewritten to the image. */
function prepareDegraded(input: LaunchInput, mounts: Mount[], pdeath: string[]): Launch {
  const root = path.join(input.containerDir, 'root');
  fs.mkdirSync(root, { recursive: true });
  for (const m of mounts) {
    const link = path.join(root, m.containerPath);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    if (!fs.existsSync(link)) fs.symlinkSync(m.hostPath, link);
  }
  const rewrite = (p: string): string =>
    p === IMAGE_MOUNT_PATH || p.startsWith(`${IMAGE_MOUNT_PATH}/`)
      ? path.join(input.imageDir, p.slice(IMAGE_MOUNT_PATH.length))
      : p;
  const argv = input.argv.map(rewrite);
  const cwd = rewrite(input.workingDir);
  const all = [...pdeath, ...argv];
  return {
    file: all[0],
    args: all.slice(1),
    cwd: fs.existsSync(cwd) ? cwd : root,
    env: { KUBEMU_ROOT: root },
  };
}

interface TopEntry {
  name: string;
  symlink?: string;
}
let topEntries: TopEntry[] | undefined;

/**
 * The node's top-level directories an image's root is made of: the system's programs, libraries and settings (the
 * shell image runs the node's tools) and the kernel's /dev, /proc, /sys. Everything else — /root, /home, /run, /mnt,
 * /srv, the directory kubemu was started from — is the node's, not the image's, and never appears in a container
 * unless a hostPath volume asks for it.
 */
const IMAGE_BASE = new Set([
  'bin',
  'sbin',
  'lib',
  'lib32',
  'lib64',
  'libx32',
  'usr',
  'etc',
  'opt',
  'var',
  'dev',
  'proc',
  'sys',
]);
/** bound as they are (the container's own /proc is mounted by unshare --mount-proc); the rest are overlay layers */
const KERNEL_DIRS = new Set(['dev', 'proc', 'sys']);

/** The node's top-level entries that make up the image's base, read once. */
function imageBase(): TopEntry[] {
  topEntries ??= fs
    .readdirSync('/', { withFileTypes: true })
    .filter((e) => IMAGE_BASE.has(e.name) && (e.isDirectory() || e.isSymbolicLink()))
    .map((e) =>
      e.isSymbolicLink() ? { name: e.name, symlink: fs.readlinkSync(`/${e.name}`) } : { name: e.name },
    );
  return topEntries;
}

/** a top-level directory that is an overlay layer of the private root */
function isLayer(top: string): boolean {
  return !KERNEL_DIRS.has(top) && imageBase().some((e) => e.name === top && e.symlink === undefined);
}

/**
 * The Node.js that runs the built-in images, bound read-only where it is installed when that is outside the image's
 * base directories (nvm's ~/.nvm/versions/node/vX): its prefix, i.e. the parent of its bin/.
 */
function nodeInstallMount(): Mount | undefined {
  let real: string;
  try {
    real = fs.realpathSync(process.execPath);
  } catch {
    return undefined;
  }
  if (IMAGE_BASE.has(topLevel(real)) && topLevel(real) !== 'dev') return undefined;
  const prefix = path.dirname(path.dirname(real));
  return prefix === '/' ? undefined : { hostPath: prefix, containerPath: prefix, readOnly: true };
}

/** the paths not inside another of them */
function outermost(paths: string[]): string[] {
  const norm = [...new Set(paths.map((p) => path.resolve(p)))].filter((p) => p !== '/');
  return norm.filter((p) => !norm.some((o) => o !== p && p.startsWith(`${o}/`)));
}

function statKind(p: string): 'dir' | 'file' | undefined {
  try {
    const st = fs.statSync(p);
    return st.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isSymlink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function topLevel(p: string): string {
  return p.split('/')[1] ?? '';
}

function depth(p: string): number {
  return p.split('/').length;
}

function insideOtherMount(m: Mount, all: Mount[]): boolean {
  return all.some((o) => o !== m && m.containerPath.startsWith(`${o.containerPath}/`));
}

function ensureMountPoint(p: string, isFile: boolean): void {
  if (fs.existsSync(p)) return;
  fs.mkdirSync(isFile ? path.dirname(p) : p, { recursive: true });
  if (isFile) fs.writeFileSync(p, '');
}

// fstab fields are whitespace-separated; util-linux decodes \040-style octal escapes.
function fstabEscape(s: string): string {
  return s.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

/** The container's first act: take its CPU weight (a process writes its own pid as 0). */
function joinCommand(join: CpuJoin): string {
  return join.kind === 'cgroup'
    ? `echo 0 > ${shellQuote(join.selfFile)} 2>/dev/null; `
    : `echo ${join.nice} > /proc/self/autogroup 2>/dev/null; `;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function fstab(source: string, target: string, type: string, options: string): string {
  return `${fstabEscape(source)} ${fstabEscape(target)} ${type} ${options} 0 0`;
}
