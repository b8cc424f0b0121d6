// A pod's volumes on disk: emptyDir, configMap, secret, downwardAPI, projected, hostPath, persistentVolumeClaim and
// ephemeral (./claim-volumes.ts); and each container's mounts.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {
  ConfigMap,
  Container,
  KeyToPath,
  Pod,
  Secret,
  ServiceAccountTokenProjection,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { AtomicWriter, InvalidPayloadError, type FileProjection } from './atomic-writer.js';
import type { Mount } from './runtime/isolation.js';
import { BACKSTEPS_MESSAGE, hasBacksteps } from '../api/validation/paths.js';
import { ContainerConfigError, fieldRefValue, resourceFieldValue, type PodAddresses } from './env.js';
import { expand } from './expansion.js';
import {
  ClaimVolumeError,
  claimReadOnly,
  claimVolumePath,
  prepareHostPath,
  type ClaimSources,
} from './claim-volumes.js';

/** A volume that cannot be set up: upstream's FailedMount event. */
export class VolumeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeError';
  }
}

export interface VolumeSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  nodeAllocatable: Record<string, string>;
  /** a token for the pod's ServiceAccount from TokenRequest (the kubelet's token manager) */
  serviceAccountToken?(pod: Pod, source: ServiceAccountTokenProjection): Promise<string>;
  /** claims and PVs, for persistentVolumeClaim and ephemeral volumes; absent: such volumes fail to mount */
  claims?: ClaimSources;
}

/** where `emptyDir.medium: Memory` volumes live: on tmpfs when the node has one (the kubelet's run dir) */
export interface VolumeDirs {
  memoryDir?: string;
}

interface FileToWrite {
  path: string;
  content: Buffer;
  mode: number;
}

function pickItems(
  data: Record<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
  what: string,
  optional: boolean,
): FileToWrite[] {
  if (!items?.length)
    return Object.entries(data).map(([k, v]) => ({ path: k, content: v, mode: defaultMode }));
  const out: FileToWrite[] = [];
  for (const item of items) {
    const content = data[item.key];
    if (content === undefined) {
      if (optional) continue;
      throw new VolumeError(`${what}: configured to use key "${item.key}", but that key was not found`);
    }
    out.push({ path: item.path, content, mode: item.mode ?? defaultMode });
  }
  return out;
}

const cmData = (cm: ConfigMap): Record<string, Buffer> => {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v);
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
};
const secretData = (s: Secret): Record<string, Buffer> => {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = Buffer.from(v);
  return out;
};

/** Files of one volume; undefined for a directory volume (emptyDir, hostPath). */
async function volumeFiles(
  pod: Pod,
  vol: Volume,
  addrs: PodAddresses,
  sources: VolumeSources,
): Promise<FileToWrite[] | undefined> {
  const ns = pod.metadata?.namespace ?? 'default';
  const setupFailed = (why: string): VolumeError =>
    new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${why}`);
  const fromConfigMap = async (
    name: string,
    items: KeyToPath[] | undefined,
    mode: number,
    optional: boolean,
  ): Promise<FileToWrite[]> => {
    const cm = await sources.configMap(ns, name);
    if (!cm) {
      if (optional) return [];
      throw setupFailed(`configmap "${name}" not found`);
    }
    return pickItems(cmData(cm), items, mode, `configmap "${name}"`, optional);
  };
  const fromSecret = async (
    name: string,
    items: KeyToPath[] | undefined,
    mode: number,
    optional: boolean,
  ): Promise<FileToWrite[]> => {
    const s = await sources.secret(ns, name);
    if (!s) {
      if (optional) return [];
      throw setupFailed(`secret "${name}" not found`);
    }
    return pickItems(secretData(s), items, mode, `secret "${name}"`, optional);
  };
  const fromDownward = (
    items: NonNullable<NonNullable<Volume['downwardAPI']>['items']>,
    mode: number,
  ): FileToWrite[] =>
    items.map((item) => {
      let value = '';
      if (item.fieldRef) value = fieldRefValue(pod, item.fieldRef.fieldPath, addrs);
      else if (item.resourceFieldRef) {
        const c = pod.spec?.containers.find((x) => x.name === item.resourceFieldRef!.containerName);
        if (c)
          value = resourceFieldValue(
            c,
            item.resourceFieldRef.resource,
            item.resourceFieldRef.divisor,
            sources.nodeAllocatable,
          );
      }
      return { path: item.path, content: Buffer.from(value), mode: item.mode ?? mode };
    });

  if (vol.configMap) {
    const c = vol.configMap;
    return fromConfigMap(c.name ?? '', c.items, c.defaultMode ?? 0o644, c.optional ?? false);
  }
  if (vol.secret) {
    const s = vol.secret;
    return fromSecret(s.secretName ?? '', s.items, s.defaultMode ?? 0o644, s.optional ?? false);
  }
  if (vol.downwardAPI) return fromDownward(vol.downwardAPI.items ?? [], vol.downwardAPI.defaultMode ?? 0o644);
  if (vol.projected) {
    const mode = vol.projected.defaultMode ?? 0o644;
    const files: FileToWrite[] = [];
    for (const src of vol.projected.sources ?? []) {
      if (src.configMap)
        files.push(
          ...(await fromConfigMap(
            src.configMap.name ?? '',
            src.configMap.items,
            mode,
            src.configMap.optional ?? false,
          )),
        );
      else if (src.secret)
        files.push(
          ...(await fromSecret(src.secret.name ?? '', src.secret.items, mode, src.secret.optional ?? false)),
        );
      else if (src.downwardAPI) files.push(...fromDownward(src.downwardAPI.items ?? [], mode));
      else if (src.serviceAccountToken) {
        if (!sources.serviceAccountToken)
          throw setupFailed('no apiserver to request service account tokens from');
        let token: string;
        try {
          token = await sources.serviceAccountToken(pod, src.serviceAccountToken);
        } catch (err) {
          throw setupFailed(`failed to fetch token: ${(err as Error).message}`);
        }
        files.push({ path: src.serviceAccountToken.path, content: Buffer.from(token), mode });
      }
    }
    return files;
  }
  if (vol.emptyDir || vol.hostPath || vol.persistentVolumeClaim || vol.ephemeral) return undefined;
  const kind = Object.keys(vol).find((k) => k !== 'name') ?? 'unknown';
  throw setupFailed(`volume type ${kind} is not supported by kubemu`);
}

/** configMap, secret, downwardAPI and projected volumes: files the kubelet projects and keeps up to date. */
export function isProjectedVolume(vol: Volume): boolean {
  return !!(vol.configMap || vol.secret || vol.downwardAPI || vol.projected);
}

/**
 * What the kubelet last wrote into each projected volume (volume name → fingerprint of its files), so a re-sync
 * with unchanged sources reads nothing from disk.
 */
export type ProjectionCache = Map<string, string>;

function fingerprint(files: FileToWrite[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)))
    h.update(`${f.path}\0${f.mode}\0${f.content.length}\0`).update(f.content);
  return h.digest('hex');
}

/** Writes one projected volume through the atomic writer, unless the cache says it holds these files already. */
async function project(
  vol: Volume,
  dir: string,
  files: FileToWrite[],
  cache: ProjectionCache | undefined,
): Promise<void> {
  const print = fingerprint(files);
  if (cache?.get(vol.name) === print) return;
  const payload = new Map<string, FileProjection>();
  for (const f of files) payload.set(f.path, { data: f.content, mode: f.mode });
  try {
    await new AtomicWriter(dir).write(payload);
  } catch (err) {
    if (!(err instanceof InvalidPayloadError)) throw err;
    throw new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}" : ${err.message}`);
  }
  cache?.set(vol.name, print);
}

/** Sets up every volume of the pod under podDir/volumes; returns volume name → host path. */
export async function setupVolumes(
  pod: Pod,
  podDir: string,
  addrs: PodAddresses,
  sources: VolumeSources,
  cache?: ProjectionCache,
  dirs: VolumeDirs = {},
): Promise<Map<string, string>> {
  const paths = new Map<string, string>();
  for (const vol of pod.spec?.volumes ?? []) {
    if (vol.hostPath) {
      try {
        paths.set(vol.name, prepareHostPath(vol.name, vol.hostPath));
      } catch (err) {
        throw new VolumeError((err as Error).message);
      }
      continue;
    }
    if (vol.persistentVolumeClaim || vol.ephemeral) {
      if (!sources.claims)
        throw new VolumeError(`error processing PVC for volume "${vol.name}": no claim sources`);
      try {
        paths.set(vol.name, await claimVolumePath(pod, vol, sources.claims));
      } catch (err) {
        if (err instanceof ClaimVolumeError) throw new VolumeError(err.message);
        throw err;
      }
      continue;
    }
    const memory = vol.emptyDir?.medium === 'Memory' && dirs.memoryDir;
    const dir = memory ? path.join(memory, vol.name) : path.join(podDir, 'volumes', vol.name);
    const files = await volumeFiles(pod, vol, addrs, sources);
    if (files) await project(vol, dir, files, cache);
    else {
      fs.mkdirSync(dir, { recursive: true });
      fs.chmodSync(dir, 0o777);
    }
    paths.set(vol.name, dir);
  }
  return paths;
}

/**
 * Brings the pod's projected volumes in line with their sources (a ConfigMap or Secret that changed, the pod's
 * labels for downwardAPI), as upstream's kubelet does on every pod sync. A volume whose source fails keeps its
 * files; the failures come back for FailedMount events, and the other volumes still update.
 */
export async function updateVolumes(
  pod: Pod,
  podDir: string,
  addrs: PodAddresses,
  sources: VolumeSources,
  cache: ProjectionCache,
): Promise<VolumeError[]> {
  const failures: VolumeError[] = [];
  for (const vol of pod.spec?.volumes ?? []) {
    if (!isProjectedVolume(vol)) continue;
    try {
      const files = await volumeFiles(pod, vol, addrs, sources);
      if (files) await project(vol, path.join(podDir, 'volumes', vol.name), files, cache);
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      failures.push(err);
    }
  }
  return failures;
}

/**
 * The container's volumeMounts as runtime mounts (subPath inside the volume; configMap/secret always read-only).
 * `env` is the container's environment, for subPathExpr. A subPath that cannot be used is a ContainerConfigError
 * with upstream's kubelet's message (CreateContainerConfigError); nothing is created outside the volume.
 */
export function containerMounts(
  pod: Pod,
  container: Container,
  volumePaths: ReadonlyMap<string, string>,
  env: ReadonlyMap<string, string> = new Map(),
): Mount[] {
  const mounts: Mount[] = [];
  for (const vm of container.volumeMounts ?? []) {
    const host = volumePaths.get(vm.name);
    if (!host) continue;
    const vol = pod.spec?.volumes?.find((v) => v.name === vm.name);
    const projected = !!vol && isProjectedVolume(vol);
    let hostPath = host;
    const subPath = vm.subPathExpr ? expandSubPathExpr(vm.subPathExpr, env) : vm.subPath;
    if (subPath) {
      // A projected file is `key -> ..data/key`: the mount takes the file of the current timestamped directory, so
      // later updates never reach it (upstream: subPath mounts of configMaps and secrets do not update).
      hostPath = prepareSubPath(host, subPath, vm.name, container.name);
    }
    const readOnly = projected || (vm.readOnly ?? false) || (!!vol && claimReadOnly(vol));
    mounts.push({ hostPath, containerPath: vm.mountPath, readOnly });
  }
  return mounts;
}

/** upstream's ExpandContainerVolumeMounts: every `$(VAR)` must name a variable of the container with a value */
function expandSubPathExpr(expr: string, env: ReadonlyMap<string, string>): string {
  const missing = new Set<string>();
  const expanded = expand(expr, (name) => {
    const value = env.get(name);
    if (!value) missing.add(name);
    return value ?? '';
  });
  if (missing.size > 0) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return expanded;
}

/**
 * The host path to mount for `subPath` of the volume at `volumeDir`, made (as a directory with the volume's mode)
 * when missing, as upstream's kubelet does (SafeMakeDir, PrepareSafeSubpath): never through a symlink that leads
 * out of the volume — a container can make such links in its own volume — and never with `..`. The result is the
 * real path, which is what gets mounted.
 */
export function prepareSubPath(volumeDir: string, subPath: string, mount: string, container: string): string {
  if (subPath.startsWith('/'))
    throw new ContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (hasBacksteps(subPath))
    throw new ContainerConfigError(`unable to provision SubPath \`${subPath}\`: ${BACKSTEPS_MESSAGE}`);
  const root = fs.realpathSync(volumeDir);
  const inside = (p: string): boolean => p === root || p.startsWith(`${root}${path.sep}`);
  const prepareFailed = (): ContainerConfigError =>
    new ContainerConfigError(
      `failed to prepare subPath for volumeMount "${mount}" of container "${container}"`,
    );
  // the deepest part of the path that exists (a symlink counts, even a dangling one), and what is missing below it
  const missing: string[] = [];
  let existing = path.join(root, subPath);
  while (existing !== root && !fs.lstatSync(existing, { throwIfNoEntry: false })) {
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  let real: string;
  try {
    real = fs.realpathSync(existing);
  } catch {
    throw prepareFailed();
  }
  if (!inside(real)) throw prepareFailed();
  if (missing.length > 0) {
    const mode = fs.statSync(root).mode & 0o7777;
    try {
      for (const part of missing) {
        real = path.join(real, part);
        fs.mkdirSync(real);
        fs.chmodSync(real, mode);
      }
    } catch {
      throw new ContainerConfigError(
        `failed to create subPath directory for volumeMount "${mount}" of container "${container}"`,
      );
    }
  }
  // what exists may have been swapped for a link since: resolve once more, after the directories are made
  real = fs.realpathSync(real);
  if (!inside(real)) throw prepareFailed();
  return real;
}
