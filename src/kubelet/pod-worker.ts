// One pod on this node: its sandbox (IP, volumes), init and app containers, restarts, probes, termination, status.
import type { Mount } from './runtime/isolation.js';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type {
  Container,
  ContainerState,
  ContainerStateTerminated,
  EphemeralContainer,
  ObjectReference,
  Pod,
  PodStatus,
} from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import type { EventRecorder, EventType, KubeClient } from '../client/index.js';
import type { Logger } from '../util/logger.js';
import { deepEqual, rfc3339 } from '../util/objects.js';
import type { Backoff } from './backoff.js';
import { podDns, type ClusterDnsSettings } from './dns.js';
import { ContainerConfigError, expandCommandAndArgs, makeEnvironment, type EnvSources } from './env.js';
import type { PodIPAllocator } from './ip-allocator.js';
import { podHostname, podHostsFile } from './hosts-file.js';
import type { PodNetworks } from './pod-network.js';
import { ContainerProbes } from './prober.js';
import { milliCpuToShares } from './runtime/cgroups.js';
import type { ContainerExit, ContainerProcess, ContainerUser, PidNamespace } from './runtime/container.js';
import { ImagePullError, type ImageStore, type ResolvedImage } from './runtime/images.js';
import { runProbe } from './runtime/probes.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { computePodStatus, type ContainerView } from './status.js';
import { hasRestartableInitContainer, isRestartableInitContainer } from './sidecar.js';
import { TerminationOrdering } from './termination-ordering.js';
import { emptyDirLimitMessage, emptyDirOverLimit } from './emptydir-limits.js';
import { boundingSetArg } from './runtime/capabilities.js';
import { applyFsGroup } from './volume-ownership.js';
import { removeTree } from './runtime/id-map.js';
import {
  noNewPrivs,
  readOnlyRootFilesystem,
  verifyIdsMapped,
  verifyRunAsNonRoot,
} from './security-context.js';
import {
  containerMounts,
  setupVolumes,
  updateVolumes,
  VolumeError,
  type ProjectionCache,
  type VolumeSources,
} from './volumes.js';
import { parseQuantity, quantityValue } from '../api/schema/quantity.js';
import { MEMORY_MEDIUM_ON_DISK, memoryOnDiskWarnings } from './memory-medium.js';

export interface PodWorkerDeps {
  client: KubeClient;
  runtime: ContainerRuntime;
  images: ImageStore;
  events: Pick<EventRecorder, 'event'>;
  ips: PodIPAllocator;
  /** a network namespace per pod (`--pod-network=netns`); absent: pods share the node's loopback */
  podNetworks?: PodNetworks;
  crashBackoff: Backoff;
  imageBackoff: Backoff;
  envSources: EnvSources & VolumeSources;
  /** the cluster DNS containers resolve with (dnsPolicy ClusterFirst) */
  dns?: ClusterDnsSettings;
  /** the node's /etc/resolv.conf text, for dnsPolicy Default */
  hostResolvConf?: string;
  nodeName: string;
  hostIP: string;
  rootDir: string;
  /** where containers' scratch lives (tmpfs when there is one): <runDir>/<pod uid>/<container>/<restart> */
  runDir: string;
  /** why emptyDir `medium: Memory` volumes are on disk here (the run dir is not on tmpfs); undefined: they are not */
  memoryMediumOnDisk?: string;
  log: Logger;
  /** re-sync this pod, now or later */
  enqueue(key: string, afterMs?: number): void;
  now?: () => number;
  /**
   * Before preStop/SIGTERM, wait up to this long for the pod to be out of every EndpointSlice's ready set
   * (so kube-proxies stop sending it new connections first); default 2000 ms, 0 turns it off.
   */
  endpointDrainMs?: number;
  /**
   * After the slices say "not ready", how long the kube-proxies may take to apply it: default 150 ms (the
   * user-space proxy applies each event as it comes); see KERNEL_PROXY_DRAIN for kube-proxy in nftables.
   */
  endpointSettleMs?: number;
  /** sleep, injectable for tests */
  delay?: (ms: number) => Promise<void>;
}

/** how often the kubelet re-reads EndpointSlices while a terminating pod drains */
const DRAIN_POLL_MS = 100;
/** after the slices say "not ready", the kube-proxies' watches need a moment to apply the same event */
const DRAIN_SETTLE_MS = 150;
/**
 * The drain where kube-proxy forwards in the kernel (nftables, the netns network): a removal reaches the rules
 * in the proxy's next sync, which during a rollout's stream of slice updates waits for its rate limit (one sync
 * per --min-sync-period, 1 s, after a burst of 2: src/proxy/nftables/nft-proxier.ts), and the kernel cannot retry
 * a connection the stopped pod refuses, as the user-space proxy does. So the settle covers one sync period, and
 * the budget the slice update before it.
 */
export const KERNEL_PROXY_DRAIN = { endpointDrainMs: 3000, endpointSettleMs: 1200 } as const;

/** does any slice still list the pod (by uid) as a ready endpoint? */
export function podReadyInSlices(uid: string, slices: readonly EndpointSlice[]): boolean {
  return slices.some((s) =>
    (s.endpoints ?? []).some((e) => e.targetRef?.uid === uid && (e.conditions?.ready ?? true)),
  );
}

export interface ContainerRecord {
  spec: Container;
  init: boolean;
  /** an ephemeral container (`kubectl debug`): started once, never restarted, no probes */
  ephemeral?: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
  image: string;
  imageID: string;
  everStarted: boolean;
  process?: ContainerProcess;
  containerID?: string;
  logFile?: string;
  /** containerID → log file of every instance this kubelet knows (for `kubectl logs [--previous]`) */
  logFiles: Map<string, string>;
  finishedAtMs?: number;
  imageBackoffSince?: number;
  /** the last failed pull's error, shown in the ImagePullBackOff message as upstream does */
  lastPullError?: string;
  probes?: ContainerProbes;
}

const waiting = (reason: string, message?: string): ContainerState => ({
  waiting: { reason, ...(message ? { message } : {}) },
});

function imageDigest(image: ResolvedImage): string {
  const h = createHash('sha256').update(image.dir).update(JSON.stringify(image.manifest)).digest('hex');
  return `sha256:${h}`;
}

function dirSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) total += fs.statSync(path.join(e.parentPath, e.name)).size;
  }
  return total;
}

export function memoryLimitBytes(c: Container): number | undefined {
  const raw = c.resources?.limits?.['memory'] as string | number | undefined;
  if (raw === undefined) return undefined;
  const q = parseQuantity(String(raw));
  return q ? Math.floor(quantityValue(q)) : undefined;
}

function milliCpu(raw: string | number | undefined): number {
  if (raw === undefined) return 0;
  const q = parseQuantity(String(raw));
  return q ? Math.ceil(quantityValue(q) * 1000) : 0;
}

/** Removes the log files named `<prefix>…` in `dir` (every instance of every container of one pod); best effort. */
async function removeLogs(dir: string, prefix: string): Promise<void> {
  try {
    const names = await fs.promises.readdir(dir);
    await Promise.all(
      names
        .filter((n) => n.startsWith(prefix))
        .map((n) => fs.promises.rm(path.join(dir, n), { force: true })),
    );
  } catch {
    // no logs dir: nothing to remove
  }
}

/**
 * A pod's cpu.shares (upstream's ResourceConfigForPod): the sum of its containers' CPU requests, or the largest
 * init container's if that is more.
 */
export function podCpuShares(pod: Pod): number {
  const sum = (pod.spec?.containers ?? []).reduce((n, c) => n + milliCpu(c.resources?.requests?.['cpu']), 0);
  const init = (pod.spec?.initContainers ?? []).reduce(
    (n, c) => Math.max(n, milliCpu(c.resources?.requests?.['cpu'])),
    0,
  );
  return milliCpuToShares(Math.max(sum, init));
}

export class PodWorker {
  readonly uid: string;
  readonly key: string;
  pod: Pod;
  podIP: string | undefined;
  startTime: string | undefined;
  readonly init: ContainerRecord[];
  readonly containers: ContainerRecord[];
  /** spec.ephemeralContainers, in the order they were added */
  readonly ephemeral: ContainerRecord[] = [];
  private sandboxReady = false;
  /** the nsenter prefix into the pod's network and UTS namespaces, once made (netns pod network) */
  private network: string[] | undefined;
  private volumePaths = new Map<string, string>();
  private readonly fsGroupFailures = new Set<string>();
  /** the eviction message, once the eviction manager's check evicted the pod */
  private evicted: string | undefined;
  private readonly projections: ProjectionCache = new Map();
  /**
   * The main containers have finished and will not restart (restartPolicy Never/OnFailure), or an init container
   * failed under Never: nothing starts again, running sidecars are stopped (upstream's KillPod).
   */
  private finished = false;
  private stoppingSidecars: Promise<void> | undefined;
  /** the pod's generated resolv.conf on disk (undefined: containers keep the host's) and its DNS env */
  private resolvConfPath: string | undefined;
  /** the pod's /etc/hosts (netns pod network), mounted into its containers as upstream does */
  private hostsFilePath: string | undefined;
  private dnsEnv: Record<string, string> = {};
  private terminating: Promise<void> | undefined;
  private terminated = false;
  private deleted = false;
  /** The pod had finished before this kubelet saw it: nothing runs, nothing is written. */
  private finishedBefore: boolean;
  private lastStatus: PodStatus | undefined;
  private readonly now: () => number;
  private readonly log: Logger;

  constructor(
    pod: Pod,
    private readonly deps: PodWorkerDeps,
  ) {
    this.pod = pod;
    this.uid = pod.metadata!.uid!;
    this.key = `${pod.metadata!.namespace}/${pod.metadata!.name}`;
    this.now = deps.now ?? Date.now;
    this.log = deps.log.child({ pod: this.key });
    const phase = pod.status?.phase;
    this.finishedBefore = phase === 'Succeeded' || phase === 'Failed';
    this.startTime = pod.status?.startTime;
    const hasInit = (pod.spec?.initContainers?.length ?? 0) > 0;
    const fresh = (spec: Container, init: boolean): ContainerRecord => {
      const old = (init ? pod.status?.initContainerStatuses : pod.status?.containerStatuses)?.find(
        (s) => s.name === spec.name,
      );
      const rec: ContainerRecord = {
        spec,
        init,
        restartCount: 0,
        state: waiting(init || hasInit ? 'PodInitializing' : 'ContainerCreating'),
        lastState: {},
        image: spec.image ?? '',
        imageID: '',
        everStarted: false,
        logFiles: new Map(),
      };
      if (!old?.containerID) return rec;
      // A previous kubelet ran this container: its processes died with it, as on a rebooted node.
      if (init && old.state?.terminated?.exitCode === 0)
        return { ...rec, state: old.state, everStarted: true, restartCount: old.restartCount };
      const prev: ContainerStateTerminated = old.state?.terminated ?? {
        exitCode: 255,
        reason: 'Unknown',
        containerID: old.containerID,
        ...(old.state?.running?.startedAt ? { startedAt: old.state.running.startedAt } : {}),
        finishedAt: rfc3339(this.now()),
      };
      rec.restartCount = old.restartCount;
      rec.everStarted = true;
      rec.state = { terminated: prev };
      rec.finishedAtMs = Date.parse(prev.finishedAt ?? '') || this.now();
      rec.logFile = this.logFile(spec.name, old.restartCount);
      rec.logFiles.set(old.containerID, rec.logFile);
      rec.containerID = old.containerID;
      return rec;
    };
    this.init = (pod.spec?.initContainers ?? []).map((c) => fresh(c, true));
    this.containers = (pod.spec?.containers ?? []).map((c) => fresh(c, false));
  }

  private get podDir(): string {
    return path.join(this.deps.rootDir, 'pods', this.uid);
  }

  /**
   * `<root>/logs/<namespace>_<pod>_<uid>_<container>_<restart>.log`: upstream's /var/log/pods names, flattened into one
   * directory so a container start creates one inode, not three. On ext4 without a journal every inode allocation
   * steps over the inodes deleted in the last half minute, so a burst of pods replacing another paid for each one.
   */
  private logFile(container: string, restartCount: number): string {
    return path.join(this.deps.rootDir, 'logs', `${this.logPrefix()}${container}_${restartCount}.log`);
  }

  private logPrefix(): string {
    const m = this.pod.metadata!;
    return `${m.namespace}_${m.name}_${this.uid}_`;
  }

  private ref(c?: ContainerRecord): ObjectReference {
    const m = this.pod.metadata!;
    return {
      kind: 'Pod',
      apiVersion: 'v1',
      namespace: m.namespace,
      name: m.name,
      uid: m.uid,
      ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
      ...(c ? { fieldPath: `spec.${containerList(c)}{${c.spec.name}}` } : {}),
    };
  }

  private event(c: ContainerRecord | undefined, type: EventType, reason: string, message: string): void {
    this.deps.events.event(this.ref(c), type, reason, message);
  }

  private get podFullName(): string {
    return `${this.pod.metadata!.name}_${this.pod.metadata!.namespace}(${this.uid})`;
  }

  /** All containers, init first, ephemeral last. */
  records(): ContainerRecord[] {
    return [...this.init, ...this.containers, ...this.ephemeral];
  }

  /** Drives the pod one step towards its spec; never waits for a grace period. */
  async sync(pod: Pod): Promise<void> {
    this.pod = pod;
    if (this.deleted) return;
    if (pod.metadata?.deletionTimestamp) return this.syncDeleting();
    if (this.finishedBefore) return;
    if (!this.sandboxReady && !(await this.setupSandbox())) return this.writeStatus();
    const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
    if (!this.finished && this.mainContainersFinished(restartPolicy)) this.finished = true;
    if (this.finished) {
      this.stopSidecars();
      return this.writeStatus();
    }
    await this.refreshVolumes();
    const init = await this.syncInitContainers(restartPolicy);
    if (init === 'failed') {
      this.finished = true;
      this.stopSidecars();
    } else if (init === 'done') {
      for (const rec of this.containers) {
        if (rec.process?.running) continue;
        if (!rec.everStarted) {
          await this.start(rec);
          continue;
        }
        const exit = rec.state.terminated ?? rec.lastState.terminated;
        const restart = restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exit?.exitCode !== 0);
        if (restart) await this.restartWithBackoff(rec);
      }
    }
    if (!this.finished) await this.startEphemeralContainers();
    await this.writeStatus();
  }

  /**
   * Ephemeral containers added through pods/ephemeralcontainers (`kubectl debug`) start once the sandbox is up, even
   * before the pod is initialized, as upstream's computePodActions starts them; they are never restarted.
   */
  private async startEphemeralContainers(): Promise<void> {
    for (const spec of this.pod.spec?.ephemeralContainers ?? []) {
      let rec = this.ephemeral.find((r) => r.spec.name === spec.name);
      if (!rec) {
        rec = {
          spec: spec,
          init: false,
          ephemeral: true,
          restartCount: 0,
          state: waiting('ContainerCreating'),
          lastState: {},
          image: spec.image ?? '',
          imageID: '',
          everStarted: false,
          logFiles: new Map(),
        };
        // one a previous kubelet started is not started again (its processes died with that kubelet)
        const old = this.pod.status?.ephemeralContainerStatuses?.find((s) => s.name === spec.name);
        if (old?.containerID) {
          rec.everStarted = true;
          rec.containerID = old.containerID;
          rec.state = old.state?.terminated
            ? old.state
            : {
                terminated: {
                  exitCode: 255,
                  reason: 'Unknown',
                  containerID: old.containerID,
                  finishedAt: rfc3339(this.now()),
                },
              };
        }
        this.ephemeral.push(rec);
      }
      if (!rec.everStarted && rec.state.waiting?.reason !== 'InvalidImageName') await this.start(rec);
    }
  }

  /**
   * The PID namespace a container runs in: the node's with hostPID; an ephemeral container with a running
   * targetContainerName joins its target's (upstream's NamespaceMode_TARGET), so its `ps` shows the target.
   */
  private pidNamespace(rec: ContainerRecord): PidNamespace | undefined {
    if (this.pod.spec?.hostPID) return 'host';
    if (this.pod.spec?.shareProcessNamespace) return this.sharedPidNamespace(rec);
    const target = (rec.spec as EphemeralContainer).targetContainerName;
    if (!rec.ephemeral || !target) return undefined;
    const proc = [...this.init, ...this.containers].find((r) => r.spec.name === target)?.process;
    if (proc?.running) return proc.initPid();
    this.log.info({ container: rec.spec.name, target }, 'target container not running: own PID namespace');
    return undefined;
  }

  /**
   * shareProcessNamespace: one PID namespace for all the pod's containers. kubemu has no pause process to hold it:
   * the first container to start makes it, each later one joins it through a running container (so `ps` in any of
   * them lists them all). Unlike upstream, the namespace ends with its maker: if that container exits, the kernel
   * ends its siblings too, and they are restarted (per restartPolicy) into a new one.
   */
  private sharedPidNamespace(rec: ContainerRecord): PidNamespace | undefined {
    const running = [...this.init, ...this.containers, ...this.ephemeral].find(
      (r) => r !== rec && r.process?.running,
    );
    return running?.process?.initPid();
  }

  /**
   * Init containers in order (upstream's computeInitContainerActions): a regular one must succeed before the next
   * starts; a sidecar (restartPolicy Always) must be started (its startup probe passed) and then keeps running beside
   * the rest, restarted whenever it exits whatever the pod's restartPolicy. Once a main container has started, the
   * pod is initialized: regular init containers never run again, sidecars are still kept running.
   */
  private async syncInitContainers(restartPolicy: string): Promise<'done' | 'pending' | 'failed'> {
    const initialized = this.containers.some((r) => r.everStarted);
    for (const rec of this.init) {
      if (isRestartableInitContainer(rec.spec)) {
        if (!rec.process?.running) {
          if (!rec.everStarted) await this.start(rec);
          else await this.restartWithBackoff(rec);
        }
        if (initialized || (rec.process?.running && (rec.probes?.started ?? true))) continue;
        return 'pending';
      }
      if (initialized || rec.state.terminated?.exitCode === 0) continue;
      if (rec.process?.running) return 'pending';
      if (!rec.everStarted) await this.start(rec);
      else if (restartPolicy !== 'Never') await this.restartWithBackoff(rec);
      else return 'failed';
      return 'pending';
    }
    return 'done';
  }

  /** Every main container ran and exited for good: restartPolicy Never, or OnFailure and they all succeeded. */
  private mainContainersFinished(restartPolicy: string): boolean {
    if (restartPolicy === 'Always') return false;
    return this.containers.every((rec) => {
      if (!rec.everStarted || rec.process?.running) return false;
      const exit = rec.state.terminated ?? rec.lastState.terminated;
      return !!exit && (restartPolicy === 'Never' || exit.exitCode === 0);
    });
  }

  /** Stops the sidecars that still run once the pod has finished; the main containers have exited already. */
  private stopSidecars(): void {
    if (this.stoppingSidecars || !this.init.some((r) => r.process?.running)) return;
    const grace = this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.stoppingSidecars = this.terminate(grace).then(() => this.deps.enqueue(this.key));
  }

  /** Projected volumes follow their ConfigMaps and Secrets; a failing source leaves the files as they were. */
  private async refreshVolumes(): Promise<void> {
    if (!(this.pod.spec?.volumes ?? []).length) return;
    const failures = await updateVolumes(
      this.pod,
      this.podDir,
      { podIP: this.podIP!, hostIP: this.deps.hostIP },
      this.deps.envSources,
      this.projections,
    );
    // no retry timer: the ConfigMap/Secret informers re-sync the pod when the source comes back
    for (const err of failures) this.event(undefined, 'Warning', 'FailedMount', err.message);
    await this.applyFsGroup(true);
  }

  /** the pod's fsGroup on its volumes (volume-ownership.ts); a failure is said once, never silent */
  private async applyFsGroup(projectedOnly = false): Promise<void> {
    const ids = this.deps.runtime.subordinateIds;
    for (const message of await applyFsGroup(this.pod, this.volumePaths, projectedOnly, ids)) {
      if (this.fsGroupFailures.has(message)) continue;
      this.fsGroupFailures.add(message);
      this.log.warn({ message }, 'fsGroup not applied');
      this.event(undefined, 'Warning', 'FailedMount', message);
    }
  }

  private async setupSandbox(): Promise<boolean> {
    // with namespaces per pod, a hostNetwork pod is the node's: its IP is the node's, as upstream reports it
    if (!this.podIP && this.deps.podNetworks && this.pod.spec?.hostNetwork) this.podIP = this.deps.hostIP;
    if (!this.podIP) {
      try {
        this.podIP = this.deps.ips.allocate(this.pod.status?.podIP);
      } catch (err) {
        this.event(undefined, 'Warning', 'FailedCreatePodSandBox', (err as Error).message);
        this.deps.enqueue(this.key, 5000);
        return false;
      }
    }
    this.startTime ??= rfc3339(this.now());
    try {
      // The pod's directory holds its volumes, and setupVolumes makes it when there are any: a pod without volumes
      // costs the disk nothing. The CPU cgroup is made here, off the event loop (see CpuCgroups.preparePod).
      await this.deps.runtime.preparePod({ uid: this.uid, cpuShares: podCpuShares(this.pod) });
      if (!(await this.setupNetwork())) return false;
      this.volumePaths = await setupVolumes(
        this.pod,
        this.podDir,
        { podIP: this.podIP, hostIP: this.deps.hostIP },
        this.deps.envSources,
        this.projections,
        // emptyDir medium Memory: with the containers' scratch (tmpfs when there is one), gone with the pod
        { memoryDir: path.join(this.deps.runDir, this.uid, 'volumes') },
      );
      await this.applyFsGroup();
      this.setupDns();
      // a degraded mode is never silent: say where a Memory volume really is
      if (this.deps.memoryMediumOnDisk !== undefined)
        for (const w of memoryOnDiskWarnings(this.pod, this.deps.memoryMediumOnDisk)) {
          this.log.warn({ volume: w.volume }, 'emptyDir medium Memory is on disk');
          this.event(undefined, 'Warning', MEMORY_MEDIUM_ON_DISK, w.message);
        }
    } catch (err) {
      if (!(err instanceof VolumeError)) throw err;
      this.event(undefined, 'Warning', 'FailedMount', err.message);
      this.deps.enqueue(this.key, 2000);
      return false;
    }
    this.sandboxReady = true;
    return true;
  }

  /** The pod's own network namespace (netns mode, not hostNetwork); an error is upstream's FailedCreatePodSandBox. */
  private async setupNetwork(): Promise<boolean> {
    if (!this.deps.podNetworks || this.network) return true;
    const clusterDomain = this.deps.dns?.clusterDomain ?? 'cluster.local';
    try {
      if (this.deps.runtime.mode !== 'none') {
        // with the containers' scratch, like resolv.conf (upstream: /var/lib/kubelet/pods/UID/etc-hosts)
        const file = path.join(this.deps.runDir, this.uid, 'etc-hosts');
        const nodeHosts = this.pod.spec?.hostNetwork ? await fs.promises.readFile('/etc/hosts', 'utf8') : '';
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        await fs.promises.writeFile(file, podHostsFile(this.pod, [this.podIP!], clusterDomain, nodeHosts), {
          mode: 0o644,
        });
        this.hostsFilePath = file;
      }
      if (this.pod.spec?.hostNetwork) return true;
      const hostname = podHostname(this.pod, clusterDomain);
      this.network = await this.deps.podNetworks.setUp(this.uid, hostname, this.podIP!);
      return true;
    } catch (err) {
      this.event(
        undefined,
        'Warning',
        'FailedCreatePodSandBox',
        `Failed to create pod sandbox: ${(err as Error).message}`,
      );
      this.deps.enqueue(this.key, 2000);
      return false;
    }
  }

  /** resolv.conf per dnsPolicy/dnsConfig, bind-mounted at /etc/resolv.conf where containers have a private root */
  private setupDns(): void {
    const dns = podDns(
      this.pod,
      this.deps.dns ?? { clusterDomain: 'cluster.local' },
      this.deps.hostResolvConf ?? '',
    );
    this.dnsEnv = { POD_NAMESPACE: this.pod.metadata?.namespace ?? 'default', ...dns.env };
    for (const warning of dns.warnings ?? []) this.event(undefined, 'Warning', 'DNSConfigForming', warning);
    this.resolvConfPath = undefined;
    if (dns.resolvConf === undefined || this.deps.runtime.mode === 'none') return;
    // with the containers' scratch (tmpfs when there is one): it is made anew for every pod start
    const file = path.join(this.deps.runDir, this.uid, 'resolv.conf');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, dns.resolvConf);
    this.resolvConfPath = file;
  }

  private async restartWithBackoff(rec: ContainerRecord): Promise<void> {
    const key = `${this.uid}/${rec.spec.name}`;
    const exit = rec.state.terminated ?? rec.lastState.terminated;
    const finishedAt = rec.finishedAtMs ?? this.now();
    if (exit && this.deps.crashBackoff.isInBackOffSince(key, finishedAt)) {
      const backoffMs = this.deps.crashBackoff.get(key);
      if (rec.state.waiting?.reason !== 'CrashLoopBackOff')
        this.event(
          rec,
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${rec.spec.name} in pod ${this.podFullName}`,
        );
      rec.lastState = { terminated: exit };
      rec.state = waiting(
        'CrashLoopBackOff',
        `back-off ${formatSeconds(backoffMs)} restarting failed container=${rec.spec.name} pod=${this.podFullName}`,
      );
      this.deps.enqueue(this.key, Math.max(10, finishedAt + backoffMs - this.now() + 10));
      return;
    }
    if (rec.state.waiting?.reason !== 'ImagePullBackOff' && rec.state.waiting?.reason !== 'ErrImagePull')
      this.deps.crashBackoff.next(key);
    await this.start(rec);
  }

  private async start(rec: ContainerRecord): Promise<void> {
    const c = rec.spec;
    const imgKey = `${this.uid}/${c.name}/image`;
    if (
      rec.imageBackoffSince !== undefined &&
      this.deps.imageBackoff.isInBackOffSince(imgKey, rec.imageBackoffSince)
    ) {
      const msg = `Back-off pulling image "${c.image}"`;
      if (rec.state.waiting?.reason !== 'ImagePullBackOff') {
        this.event(rec, 'Normal', 'BackOff', msg);
        this.event(rec, 'Warning', 'Failed', 'Error: ImagePullBackOff');
      }
      // upstream (1.30+) keeps the last pull error in the status message during the back-off
      const why = rec.lastPullError === undefined ? '' : `: ErrImagePull: ${rec.lastPullError}`;
      rec.state = waiting('ImagePullBackOff', msg + why);
      const left = rec.imageBackoffSince + this.deps.imageBackoff.get(imgKey) - this.now();
      this.deps.enqueue(this.key, Math.max(10, left + 10));
      return;
    }
    const pullAlways = c.imagePullPolicy === 'Always';
    if (pullAlways) this.event(rec, 'Normal', 'Pulling', `Pulling image "${c.image}"`);
    const pullStart = this.now();
    let image: ResolvedImage;
    try {
      image = this.deps.images.resolve(c.image ?? '');
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      if (err.reason === 'InvalidImageName') {
        // never pulled, never retried: the pod's spec has to change
        if (rec.state.waiting?.reason !== 'InvalidImageName') {
          this.event(rec, 'Warning', 'InspectFailed', err.message);
          this.event(rec, 'Warning', 'Failed', 'Error: InvalidImageName');
        }
        rec.state = waiting('InvalidImageName', err.message);
        return;
      }
      if (!pullAlways) this.event(rec, 'Normal', 'Pulling', `Pulling image "${c.image}"`);
      this.event(rec, 'Warning', 'Failed', err.message);
      this.event(rec, 'Warning', 'Failed', 'Error: ErrImagePull');
      rec.state = waiting('ErrImagePull', err.detail);
      rec.lastPullError = err.detail;
      this.deps.imageBackoff.next(imgKey);
      rec.imageBackoffSince = this.now();
      // Shown for a moment, then ImagePullBackOff until the backoff ends and the next pull is tried.
      this.deps.enqueue(this.key, this.deps.imageBackoff.get(imgKey) / 2);
      return;
    }
    rec.imageBackoffSince = undefined;
    rec.lastPullError = undefined;
    this.deps.imageBackoff.reset(imgKey);
    if (pullAlways) {
      const took = formatDuration(this.now() - pullStart);
      this.event(
        rec,
        'Normal',
        'Pulled',
        `Successfully pulled image "${c.image}" in ${took} (${took} including waiting). Image size: ${dirSize(image.dir)} bytes.`,
      );
    } else this.event(rec, 'Normal', 'Pulled', `Container image "${c.image}" already present on machine`);
    rec.image = image.ref.canonical;
    rec.imageID = `kubemu://${image.ref.repository}@${imageDigest(image)}`;

    let env: Map<string, string>;
    let mounts: Mount[];
    try {
      env = await makeEnvironment(
        this.pod,
        c,
        { podIP: this.podIP!, hostIP: this.deps.hostIP },
        this.deps.envSources,
      );
      mounts = containerMounts(this.pod, c, this.volumePaths, env);
      verifyRunAsNonRoot(this.pod, c);
      verifyIdsMapped(this.pod, c, this.deps.runtime.idMapping);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.event(rec, 'Warning', 'Failed', `Error: ${err.message}`);
      rec.state = waiting('CreateContainerConfigError', err.message);
      this.deps.enqueue(this.key, 2000);
      return;
    }

    if (rec.everStarted) {
      const exit = rec.state.terminated ?? rec.lastState.terminated;
      if (exit) rec.lastState = { terminated: exit };
      rec.restartCount++;
    }
    const { command, args } = expandCommandAndArgs(c, env);
    const containerID = randomBytes(32).toString('hex');
    const logFile = this.logFile(c.name, rec.restartCount);
    // made here, off the event loop, so the runtime only opens an existing file
    await fs.promises.mkdir(path.dirname(logFile), { recursive: true });
    await fs.promises.writeFile(logFile, '', { mode: 0o640 });
    const memoryLimit = memoryLimitBytes(c);
    const pidNamespace = this.pidNamespace(rec);
    const user = containerUser(this.pod, c);
    // a kubelet that is not root has capabilities to give or take only inside its containers' user namespaces
    const boundingSet =
      process.getuid?.() === 0 || this.deps.runtime.mode === 'userns' ? boundingSetArg(c) : undefined;
    const proc = this.deps.runtime.startContainer(
      {
        name: c.name,
        podName: this.pod.metadata!.name!,
        nodeName: this.deps.nodeName,
        image,
        ...(command ? { command } : {}),
        ...(args ? { args } : {}),
        // the pod's own env wins over the DNS hints
        env: { ...this.dnsEnv, ...Object.fromEntries(env) },
        ...(c.workingDir ? { workingDir: c.workingDir } : {}),
        podIP: this.podIP!,
        ...(this.network ? { network: this.network } : {}),
        mounts: [
          ...(this.resolvConfPath
            ? [{ hostPath: this.resolvConfPath, containerPath: '/etc/resolv.conf', readOnly: true }]
            : []),
          ...(this.hostsFilePath ? [{ hostPath: this.hostsFilePath, containerPath: '/etc/hosts' }] : []),
          ...mounts,
        ],
        containerDir: path.join(this.deps.runDir, this.uid, c.name, String(rec.restartCount)),
        logFile,
        ...(memoryLimit !== undefined ? { memoryLimitBytes: memoryLimit } : {}),
        ...(c.stdin ? { stdin: true } : {}),
        ...(c.tty ? { tty: true } : {}),
        ...(pidNamespace !== undefined ? { pidNamespace } : {}),
        ...(user ? { user } : {}),
        ...(boundingSet ? { boundingSet } : {}),
        ...(noNewPrivs(c) ? { noNewPrivs: true } : {}),
        ...(readOnlyRootFilesystem(c) ? { readOnlyRootFilesystem: true } : {}),
      },
      { uid: this.uid, cpuShares: podCpuShares(this.pod) },
    );
    rec.everStarted = true;
    rec.process = proc;
    rec.containerID = `kubemu://${containerID}`;
    rec.logFile = logFile;
    rec.logFiles.set(rec.containerID, logFile);
    rec.state = { running: { startedAt: rfc3339(proc.startedAt.getTime()) } };
    this.event(rec, 'Normal', 'Created', `Created container ${c.name}`);
    this.event(rec, 'Normal', 'Started', `Started container ${c.name}`);
    void proc.exited.then((exit) => this.onExit(rec, proc, exit));
    if (!rec.ephemeral && (!rec.init || isRestartableInitContainer(c))) this.startProbes(rec, proc);
  }

  private startProbes(rec: ContainerRecord, proc: ContainerProcess): void {
    const c = rec.spec;
    const probes = new ContainerProbes(
      c,
      {
        podIP: this.podIP!,
        namedPort: (name) => c.ports?.find((p) => p.name === name)?.containerPort,
        exec: (argv) => this.deps.runtime.exec(proc, argv),
      },
      {
        changed: () => this.deps.enqueue(this.key),
        unhealthy: (_kind, message) => this.event(rec, 'Warning', 'Unhealthy', message),
        failed: (kind) => {
          if (rec.process !== proc || !proc.running) return;
          this.event(
            rec,
            'Normal',
            'Killing',
            `Container ${c.name} failed ${kind.toLowerCase()} probe, will be restarted`,
          );
          const probe = kind === 'Liveness' ? c.livenessProbe : c.startupProbe;
          const grace =
            probe?.terminationGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
          void proc.stop(grace);
        },
      },
    );
    rec.probes = probes;
    probes.start();
  }

  private onExit(rec: ContainerRecord, proc: ContainerProcess, exit: ContainerExit): void {
    if (rec.process !== proc) return;
    rec.probes?.stop();
    rec.probes = undefined;
    const terminated: ContainerStateTerminated = {
      exitCode: exit.exitCode,
      reason: exit.reason,
      ...(exit.message ? { message: exit.message } : {}),
      ...(exit.signal ? { signal: signalNumber(exit.signal) } : {}),
      startedAt: rfc3339(exit.startedAt.getTime()),
      finishedAt: rfc3339(exit.finishedAt.getTime()),
      containerID: rec.containerID,
    };
    if (!terminated.signal) delete terminated.signal;
    rec.state = { terminated };
    rec.finishedAtMs = exit.finishedAt.getTime();
    if (exit.reason === 'StartError')
      this.event(rec, 'Warning', 'Failed', `Error: ${exit.message ?? 'failed to start container'}`);
    this.log.info(
      { container: rec.spec.name, exitCode: exit.exitCode, reason: exit.reason },
      'container exited',
    );
    this.deps.enqueue(this.key);
  }

  private async syncDeleting(): Promise<void> {
    const grace =
      this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    this.terminating ??= this.terminate(grace).then(() => {
      this.terminated = true;
      this.deps.enqueue(this.key);
    });
    if (!this.terminated) {
      // A shorter grace period (kubectl delete --grace-period) speeds up what is already stopping.
      if (grace === 0) for (const r of this.records()) void r.process?.kill();
      return;
    }
    if (!this.finishedBefore) await this.writeStatus(true);
    const m = this.pod.metadata!;
    try {
      await this.deps.client.pods.delete(m.name!, {
        namespace: m.namespace!,
        gracePeriodSeconds: 0,
        preconditions: { uid: this.uid },
      });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 404 && err.code !== 409)) throw err;
    }
    this.deleted = true;
  }

  /**
   * Graceful traffic: upstream sends SIGTERM while kube-proxies may still route new connections to the pod
   * (people add a preStop sleep). kubemu waits, bounded, until the EndpointSlice controller has taken the pod
   * out of every slice's ready set and the proxies have had a moment to apply it, then stops the containers.
   */
  private async waitForEndpointsDrained(graceSeconds: number): Promise<void> {
    const budget = Math.min(this.deps.endpointDrainMs ?? 2000, graceSeconds * 1000);
    if (budget <= 0 || !this.records().some((r) => r.process?.running)) return;
    const delay = this.deps.delay ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    const deadline = this.now() + budget;
    const namespace = this.pod.metadata!.namespace!;
    for (;;) {
      let ready: boolean;
      try {
        ready = podReadyInSlices(this.uid, (await this.deps.client.endpointSlices.list({ namespace })).items);
      } catch (err) {
        this.log.debug({ err }, 'cannot read EndpointSlices; stopping without waiting for them');
        return;
      }
      if (!ready) break;
      if (this.now() + DRAIN_POLL_MS > deadline) return;
      await delay(DRAIN_POLL_MS);
    }
    const settle = this.deps.endpointSettleMs ?? DRAIN_SETTLE_MS;
    await delay(Math.max(0, Math.min(settle, deadline - this.now())));
  }

  /** preStop hooks, SIGTERM, SIGKILL after the grace period; resolves when every container has exited. */
  private async terminate(graceSeconds: number): Promise<void> {
    const deadline = this.now() + graceSeconds * 1000;
    await this.waitForEndpointsDrained(graceSeconds);
    const ordering = hasRestartableInitContainer(this.pod.spec)
      ? new TerminationOrdering(
          this.pod.spec!,
          new Set(
            this.records()
              .filter((r) => r.process?.running)
              .map((r) => r.spec.name),
          ),
        )
      : undefined;
    await Promise.all(
      this.records().map(async (rec) => {
        rec.probes?.stop();
        const proc = rec.process;
        if (!proc?.running) return;
        this.event(rec, 'Normal', 'Killing', `Stopping container ${rec.spec.name}`);
        const preStop = rec.spec.lifecycle?.preStop;
        if (preStop && graceSeconds > 0) {
          const timeoutSeconds = Math.max(1, graceSeconds);
          if (preStop.exec)
            await runProbe(
              { exec: preStop.exec, timeoutSeconds },
              { podIP: this.podIP!, exec: (argv) => this.deps.runtime.exec(proc, argv) },
            );
          else if (preStop.httpGet)
            await runProbe({ httpGet: preStop.httpGet, timeoutSeconds }, { podIP: this.podIP! });
          else if (preStop.sleep)
            await new Promise((r) => setTimeout(r, Math.min(preStop.sleep!.seconds, graceSeconds) * 1000));
        }
        // Sidecars wait for the main containers (and for the sidecars declared after them) to exit first.
        if (ordering && graceSeconds > 0 && !rec.ephemeral)
          await ordering.waitForTurn(rec.spec.name, deadline - this.now());
        // Upstream gives the container at least 2 s after a hook that used up the grace period.
        const left = Math.max((deadline - this.now()) / 1000, preStop ? 2 : 0);
        try {
          await proc.stop(graceSeconds === 0 ? 0 : left);
        } finally {
          ordering?.containerTerminated(rec.spec.name);
        }
      }),
    );
    // Containers that never ran (or wait to restart) end as upstream reports them on a terminated pod.
    for (const rec of this.records()) {
      if (rec.state.terminated || rec.process?.running) continue;
      rec.state = {
        terminated: {
          exitCode: 137,
          reason: 'ContainerStatusUnknown',
          message: 'The container could not be located when the pod was terminated',
        },
      };
    }
  }

  /** Stops whatever still runs (the pod is gone from the API) and frees the IP and the pod's directories. */
  async remove(): Promise<void> {
    this.deleted = true;
    await Promise.all(
      this.records().map(async (r) => {
        r.probes?.stop();
        if (r.process?.running) await r.process.stop(1);
      }),
    );
    await this.deps.podNetworks?.tearDown(this.uid);
    if (this.podIP) this.deps.ips.release(this.podIP);
    this.deps.crashBackoff.resetPrefix(`${this.uid}/`);
    this.deps.imageBackoff.resetPrefix(`${this.uid}/`);
    // what a runAsUser container made is a subordinate id's: removed through the user namespace (id-map.ts)
    const ids = this.deps.runtime.subordinateIds;
    for (const dir of [this.podDir, path.join(this.deps.runDir, this.uid)])
      await removeTree(dir, ids).catch((err: unknown) =>
        this.log.warn({ err, dir }, "could not remove the pod's directory"),
      );
    void this.deps.runtime.removePod(this.uid);
    void removeLogs(path.join(this.deps.rootDir, 'logs'), this.logPrefix());
  }

  private view(rec: ContainerRecord): ContainerView {
    const running = rec.process?.running === true && rec.state.running !== undefined;
    return {
      name: rec.spec.name,
      image: rec.image,
      imageID: rec.imageID,
      ...(rec.containerID ? { containerID: rec.containerID } : {}),
      state: rec.state,
      lastState: rec.lastState,
      // upstream's prober manager: a regular init container is ready once it has succeeded; a sidecar like a main one
      ready: rec.ephemeral
        ? false
        : rec.init && !isRestartableInitContainer(rec.spec)
          ? rec.state.terminated?.exitCode === 0
          : running && (rec.probes?.ready ?? true),
      started: running && (rec.probes?.started ?? true),
      restartCount: rec.restartCount,
    };
  }

  /**
   * The eviction manager's emptyDir check (upstream emptyDirLimitEviction): a volume over its sizeLimit evicts the
   * pod with no grace period — Failed, reason Evicted, a DisruptionTarget condition and an Evicted event.
   */
  async checkLocalStorage(): Promise<void> {
    if (this.evicted || this.finished || this.deleted || !this.sandboxReady) return;
    const over = await emptyDirOverLimit(this.pod, this.volumePaths);
    if (!over || this.evicted) return;
    const message = emptyDirLimitMessage(over.volume, over.limit);
    this.evicted = message;
    this.finished = true;
    this.event(undefined, 'Warning', 'Evicted', message);
    await this.terminate(0);
    await this.writeStatus();
  }

  status(terminal = false): PodStatus {
    const status = this.podStatus(terminal);
    if (!this.evicted) return status;
    const old = status.conditions?.find((c) => c.type === 'DisruptionTarget');
    const disruption = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'TerminationByKubelet',
      message: this.evicted,
      lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : rfc3339(this.now()),
    };
    return {
      ...status,
      phase: 'Failed',
      reason: 'Evicted',
      message: this.evicted,
      conditions: [...(status.conditions ?? []).filter((c) => c.type !== 'DisruptionTarget'), disruption],
    };
  }

  private podStatus(terminal: boolean): PodStatus {
    return computePodStatus({
      pod: this.pod,
      hostIP: this.deps.hostIP,
      ...(this.podIP ? { podIP: this.podIP } : {}),
      ...(this.startTime ? { startTime: this.startTime } : {}),
      sandboxReady: this.sandboxReady && !terminal,
      initContainers: this.init.map((r) => this.view(r)),
      containers: this.containers.map((r) => this.view(r)),
      ephemeralContainers: this.ephemeral.map((r) => this.view(r)),
      terminal,
      now: this.now(),
    });
  }

  /** Writes the status through the status subresource, only when it changed. */
  private async writeStatus(terminal = false): Promise<void> {
    const status = this.status(terminal);
    if (this.lastStatus && deepEqual(this.lastStatus, status)) return;
    if (!this.lastStatus && deepEqual(this.pod.status, status)) {
      this.lastStatus = status;
      return;
    }
    const m = this.pod.metadata!;
    try {
      await this.deps.client.pods.patch(m.name!, { status }, 'merge', {
        namespace: m.namespace!,
        subresource: 'status',
      });
      this.lastStatus = status;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }
}

function containerList(c: ContainerRecord): string {
  return c.ephemeral ? 'ephemeralContainers' : c.init ? 'initContainers' : 'containers';
}

/**
 * securityContext runAsUser/runAsGroup, the container's over the pod's (an unset one: 0, the built-in images'
 * root), with the pod's fsGroup and supplementalGroups as supplementary groups, as containerd sets them.
 */
function containerUser(pod: Pod, c: Container): ContainerUser | undefined {
  const podCtx = pod.spec?.securityContext;
  const uid = c.securityContext?.runAsUser ?? podCtx?.runAsUser;
  const gid = c.securityContext?.runAsGroup ?? podCtx?.runAsGroup;
  const extra = [
    ...(podCtx?.fsGroup !== undefined ? [podCtx.fsGroup] : []),
    ...(podCtx?.supplementalGroups ?? []),
  ];
  if (uid === undefined && gid === undefined && extra.length === 0) return undefined;
  const primary = gid ?? 0;
  return { uid: uid ?? 0, gid: primary, groups: [...new Set([primary, ...extra])] };
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const n = (
    { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGQUIT: 3, SIGABRT: 6, SIGSEGV: 11 } as Record<
      string,
      number
    >
  )[signal];
  return n;
}

/** Go's time.Duration formatting for whole seconds: 10s, 1m20s, 5m0s. */
export function formatSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60}s`;
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
}
