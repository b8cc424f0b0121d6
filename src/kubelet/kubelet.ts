// The kubelet: registers its Node, renews its Lease, runs the pods bound to it, serves logs and stats.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  ConfigMap,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  Secret,
  Service,
} from 'kubernetes-types/core/v1.js';
import { ApiError } from '../api/errors.js';
import { EventRecorder, Informer, WorkQueue, keyOf, type KubeClient } from '../client/index.js';
import type { Logger } from '../util/logger.js';
import { kubeletInstanceName, kubeletRunDir } from '../util/run-dir.js';
import { deepEqual } from '../util/objects.js';
import { privateDir } from '../util/private-files.js';
import { unprivilegedPortStart } from '../util/privileged-ports.js';
import { Backoff } from './backoff.js';
import { activeProblems, nodeProblems } from './degraded.js';
import { isMemoryBacked, memoryOnDiskReason } from './memory-medium.js';
import type { EnvSources } from './env.js';
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { ReferencedObjects } from './referenced-objects.js';
import { ServiceAccountTokenManager } from './token-manager.js';
import type { VolumeSources } from './volumes.js';
import { PodIPAllocator } from './ip-allocator.js';
import { PodNetworks, type PodNetworkMode } from './pod-network.js';
import { NodeLease, NodeStatusReporter, nodeCapacity, registerNode, type NodeConfig } from './node-status.js';
import { KERNEL_PROXY_DRAIN, PodWorker } from './pod-worker.js';
import { LOCAL_PATH_PROVISIONER, LocalPathProvisioner } from './local-path/provisioner.js';
import { ImageStore } from './runtime/images.js';
import { isolationDetail } from './runtime/isolation.js';
import { removeTreeSync, subordinateIdsIfAny } from './runtime/id-map.js';
import { ContainerRuntime } from './runtime/runtime.js';
import type { LogRotationPolicy } from './runtime/log-rotation.js';
import { startKubeletServer, type KubeletServer } from './server.js';
import { KubeletAuth, type KubeletAuthOptions } from './server-auth.js';
import { createStreamingHandler } from './streaming/server.js';
import { statsSummary } from './stats.js';
import type { CertificateAndKey } from '../util/pki.js';

export interface KubeletOptions {
  client: KubeClient;
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  /** `netns`: each pod its own network namespace, the kubelet living in its node's (#19); default `loopback` */
  podNetwork?: PodNetworkMode;
  cpu: string;
  memoryBytes: number;
  maxPods: number;
  rootDir: string;
  /** containers' scratch (private roots, /tmp, overlay layers); default kubeletRunDir(rootDir), tmpfs when there is one */
  runDir?: string;
  /** 0 picks a free port (the Node's daemonEndpoints says which). */
  port: number;
  /** the serving certificate and key of the kubelet's endpoint (--tls-cert-file/--tls-private-key-file) */
  tls?: CertificateAndKey;
  /** the CA that callers' client certificates must chain to (--client-ca-file) */
  clientCaPem?: string;
  /** webhook authentication and authorization of the kubelet's callers (TokenReview, SubjectAccessReview) */
  authWebhook?: Pick<KubeletAuthOptions, 'reviewer' | 'cache'>;
  /** `<ip>:<port>` of the cluster DNS (upstream's --cluster-dns); pods with dnsPolicy ClusterFirst resolve with it */
  clusterDNS?: string;
  /** upstream's --cluster-domain (default cluster.local) */
  clusterDomain?: string;
  /** where `kubemu image build` puts user images */
  stateDir?: string;
  leaseDurationSeconds: number;
  leaseRenewIntervalMs: number;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  crashLoopBackoff: { initialMs: number; maxMs: number };
  imagePullBackoff: { initialMs: number; maxMs: number };
  runtime?: ContainerRuntime;
  /** KubeletConfiguration's containerLogMaxSize (bytes) and containerLogMaxFiles; default 10Mi × 5 */
  logRotation?: LogRotationPolicy;
  /**
   * the built-in local-path provisioner's own client (ServiceAccount kube-system/local-path-provisioner-service-account,
   * --local-path-provisioner-kubeconfig): it lists claims and creates PVs, which a node's credential may not
   */
  provisionerClient?: KubeClient;
  log: Logger;
}

export class Kubelet {
  private readonly workers = new Map<string, PodWorker>();
  private readonly queue: WorkQueue<string>;
  private readonly pods: Informer<Pod>;
  private readonly services: Informer<Service>;
  private readonly configMaps: ReferencedObjects<ConfigMap>;
  private readonly secrets: ReferencedObjects<Secret>;
  private provisioner: LocalPathProvisioner | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private node: Node | undefined;
  private closed = false;
  /** the netns pod network (--pod-network=netns), closed with the kubelet */
  private podNetworks: PodNetworks | undefined;
  private workersDone: Promise<void> | undefined;
  readonly startTime = Date.now();

  private constructor(
    private readonly opts: KubeletOptions,
    readonly runtime: ContainerRuntime,
    private readonly images: ImageStore,
    private readonly server: KubeletServer,
    private readonly cfg: NodeConfig,
  ) {
    const log = opts.log;
    this.queue = new WorkQueue<string>({ name: 'pods', logger: log });
    this.pods = new Informer<Pod>({
      source: opts.client.pods,
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      name: 'pods',
      logger: log,
      resyncPeriodMs: 30_000,
      indexers: { [VOLUME_SOURCE_INDEX]: volumeSourceKeys },
    });
    this.services = new Informer<Service>({ source: opts.client.services, name: 'services', logger: log });
    // Upstream's kubelet watches each ConfigMap and Secret its pods mount (the Node authorizer allows no more) and
    // projects changes on the next sync; here a change enqueues the pods that mount it, so their volumes follow.
    const mountersOf =
      (kind: 'configmap' | 'secret') =>
      (namespace: string, name: string): void => {
        for (const p of this.pods.store.byIndex(VOLUME_SOURCE_INDEX, `${kind}/${namespace}/${name}`))
          this.queue.add(keyOf(p));
      };
    this.configMaps = new ReferencedObjects<ConfigMap>({
      source: opts.client.configMaps,
      name: 'configmaps',
      logger: log,
      onChange: mountersOf('configmap'),
    });
    this.secrets = new ReferencedObjects<Secret>({
      source: opts.client.secrets,
      name: 'secrets',
      logger: log,
      onChange: mountersOf('secret'),
    });
    const refs = (p: Pod, kind: 'configmap' | 'secret'): string[] =>
      volumeSourceKeys(p)
        .filter((k) => k.startsWith(`${kind}/`))
        .map((k) => k.slice(kind.length + 1));
    const hold = (p: Pod): void => {
      this.configMaps.hold(refs(p, 'configmap'));
      this.secrets.hold(refs(p, 'secret'));
    };
    const release = (p: Pod): void => {
      this.configMaps.release(refs(p, 'configmap'));
      this.secrets.release(refs(p, 'secret'));
    };
    this.pods.addEventHandler({
      onAdd: hold,
      onUpdate: (o, n) => {
        if (o === n) return;
        hold(n);
        release(o);
      },
      onDelete: release,
    });
    const enqueue = (p: Pod): void => this.queue.add(keyOf(p));
    // Our own status writes come back as updates; like upstream, only spec/metadata changes (and resyncs) sync a pod.
    const onUpdate = (o: Pod, n: Pod): void => {
      if (o !== n && statusOnlyChange(o, n)) return;
      enqueue(n);
    };
    this.pods.addEventHandler({ onAdd: enqueue, onUpdate, onDelete: enqueue });
  }

  static async start(opts: KubeletOptions): Promise<Kubelet> {
    // the node's state is the user's alone; pods' volumes below keep the modes the pods give them
    privateDir(opts.rootDir);
    for (const dir of ['pods', 'logs']) privateDir(path.join(opts.rootDir, dir));
    // whatever an earlier kubelet of this node left here belonged to containers that died with it
    const runDir = opts.runDir ?? kubeletRunDir(opts.rootDir);
    removeTreeSync(runDir, subordinateIdsIfAny());
    fs.mkdirSync(runDir, { recursive: true });
    opts = { ...opts, runDir };
    const runtime =
      opts.runtime ??
      new ContainerRuntime({
        cgroupName: kubeletInstanceName(opts.rootDir),
        ...(opts.logRotation ? { logRotation: opts.logRotation } : {}),
        // the cluster's keys and credentials, every pod's volumes, the user's kubeconfig: never in a container
        hiddenPaths: [...(opts.stateDir ? [opts.stateDir] : []), opts.rootDir, runDir, os.homedir()],
        logger: opts.log.child({ module: 'runtime' }),
      });
    const images = new ImageStore(opts.stateDir ? { stateDir: opts.stateDir } : {});
    const self: { kubelet?: Kubelet } = {};
    const auth = new KubeletAuth({
      nodeName: opts.nodeName,
      ...(opts.clientCaPem ? { clientCaPem: opts.clientCaPem } : {}),
      ...opts.authWebhook,
    });
    const server = await startKubeletServer({
      host: opts.nodeIP,
      port: opts.port,
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.clientCaPem ? { clientCaPem: opts.clientCaPem } : {}),
      auth,
      findPod: (ns, name) => self.kubelet?.findPod(ns, name),
      summary: () => self.kubelet?.summary(),
      onUpgrade: createStreamingHandler({
        auth,
        findPod: (ns, name) => self.kubelet?.findPod(ns, name),
        execLine: (rec, argv, env) => runtime.execLine(rec.process!, argv, env),
        log: opts.log.child({ module: 'streaming' }),
      }),
      log: opts.log.child({ module: 'server' }),
    });
    const cfg: NodeConfig = {
      nodeName: opts.nodeName,
      nodeIP: opts.nodeIP,
      podCIDR: opts.podCIDR,
      cpu: opts.cpu,
      memoryBytes: opts.memoryBytes,
      maxPods: opts.maxPods,
      rootDir: opts.rootDir,
      kubeletPort: server.port,
      problems: nodeProblems({
        isolation: runtime.mode,
        isolationDetail: opts.runtime ? undefined : isolationDetail(),
        cpuCgroupsUnavailable: runtime.cpuCgroupsUnavailable,
        root: process.getuid?.() === 0,
        unprivilegedPortStart: unprivilegedPortStart(),
        clusterDNS: opts.clusterDNS,
        idMapping: runtime.idMapping,
      }),
    };
    const kubelet = new Kubelet(opts, runtime, images, server, cfg);
    self.kubelet = kubelet;
    await kubelet.run();
    return kubelet;
  }

  private async run(): Promise<void> {
    const { client, log } = this.opts;
    this.node = await registerNode(client, this.cfg, log);
    const imageList = (): { name: string; sizeBytes: number }[] =>
      this.images.list().map((i) => ({
        name: `docker.io/${i.name.includes('/') ? i.name : `library/${i.name}`}:${i.tag}`,
        sizeBytes: 0,
      }));
    const reporter = new NodeStatusReporter(
      client,
      this.cfg,
      imageList,
      this.opts.nodeStatusReportFrequencyMs,
    );
    await reporter.update(this.node);
    const lease = new NodeLease(
      client,
      this.opts.nodeName,
      this.opts.leaseDurationSeconds,
      () => this.node?.metadata?.uid,
    );
    await lease.renew().catch((err: unknown) => log.warn({ err }, 'lease renew failed'));
    this.every(this.opts.leaseRenewIntervalMs, async () => {
      await lease.renew();
    });
    this.every(this.opts.nodeStatusUpdateFrequencyMs, async () => {
      this.node = await client.nodes.get(this.opts.nodeName);
      await reporter.update(this.node);
    });

    const events = new EventRecorder({ client, component: 'kubelet', host: this.opts.nodeName, logger: log });
    events.event(
      { kind: 'Node', apiVersion: 'v1', name: this.opts.nodeName, uid: this.opts.nodeName },
      'Normal',
      'Starting',
      'Starting kubelet.',
    );
    // a degraded mode is never silent: a Warning on the Node (as upstream's CgroupV1), beside its True condition
    for (const p of activeProblems(this.cfg.problems ?? [])) {
      log.warn({ condition: p.type, reason: p.reason }, p.message);
      events.event(
        { kind: 'Node', apiVersion: 'v1', name: this.opts.nodeName, uid: this.opts.nodeName },
        'Warning',
        p.type,
        p.message,
      );
    }
    const getOrUndefined = async <T>(get: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await get();
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) return undefined;
        throw err;
      }
    };
    const { services, configMaps, secrets } = this;
    // The caches first; an object they have not seen yet (created a moment before the pod) is read from the API.
    // the pods' projected ServiceAccount tokens, from TokenRequest, bound to each pod (NodeRestriction checks it)
    const tokens = new ServiceAccountTokenManager({
      request: (namespace, name, tr) =>
        client.serviceAccounts.createSubresource<TokenRequest, TokenRequest>(name, 'token', tr, {
          namespace,
        }),
    });
    const envSources: EnvSources & VolumeSources = {
      serviceAccountToken: (pod, source) =>
        tokens.token({
          namespace: pod.metadata?.namespace ?? 'default',
          serviceAccountName: pod.spec?.serviceAccountName || 'default',
          podName: pod.metadata?.name ?? '',
          podUid: pod.metadata?.uid ?? '',
          ...(source.audience ? { audience: source.audience } : {}),
          expirationSeconds: source.expirationSeconds ?? 3600,
        }),
      configMap: async (ns, name) =>
        configMaps.getByName(ns, name) ??
        (await getOrUndefined<ConfigMap>(() => client.configMaps.get(name, ns))),
      secret: async (ns, name) =>
        secrets.getByName(ns, name) ?? (await getOrUndefined<Secret>(() => client.secrets.get(name, ns))),
      get services() {
        return services.store.list();
      },
      nodeAllocatable: nodeCapacity(this.cfg),
      // Read when a pod mounts them, as upstream's volume manager does: the Node authorizer lets a node get the
      // claims of its pods and the volumes bound to them, one by one, and list or watch none.
      claims: {
        claim: (ns, name) =>
          getOrUndefined<PersistentVolumeClaim>(() =>
            client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims').get(name, ns),
          ),
        persistentVolume: (name) =>
          getOrUndefined<PersistentVolume>(() =>
            client.resource<PersistentVolume>('', 'v1', 'persistentvolumes').get(name),
          ),
        node: () => this.node,
      },
    };
    const ips = new PodIPAllocator(this.opts.podCIDR);
    const memoryMediumOnDisk = isMemoryBacked(this.opts.runDir!)
      ? undefined
      : memoryOnDiskReason(this.opts.runDir!);
    if (memoryMediumOnDisk !== undefined)
      log.warn(
        { runDir: this.opts.runDir },
        `emptyDir volumes with medium Memory will be on disk: ${memoryMediumOnDisk}`,
      );
    const crashBackoff = new Backoff(this.opts.crashLoopBackoff);
    const imageBackoff = new Backoff(this.opts.imagePullBackoff);
    const workerDeps = {
      client,
      runtime: this.runtime,
      images: this.images,
      events,
      ips,
      ...(this.opts.podNetwork === 'netns'
        ? {
            podNetworks: (this.podNetworks = new PodNetworks(
              this.opts.podCIDR,
              {
                watch: (pgid) => this.runtime.watchProcessGroup(pgid),
                unwatch: (pgid) => this.runtime.unwatchProcessGroup(pgid),
              },
              log,
            )),
            // a node with its own network namespace has kube-proxy in nftables (src/cli/cluster/network.ts)
            ...KERNEL_PROXY_DRAIN,
          }
        : {}),
      crashBackoff,
      imageBackoff,
      envSources,
      dns: {
        ...(this.opts.clusterDNS ? { clusterDNS: this.opts.clusterDNS } : {}),
        clusterDomain: this.opts.clusterDomain ?? 'cluster.local',
      },
      hostResolvConf: readHostResolvConf(),
      nodeName: this.opts.nodeName,
      hostIP: this.opts.nodeIP,
      rootDir: this.opts.rootDir,
      runDir: this.opts.runDir!,
      ...(memoryMediumOnDisk !== undefined ? { memoryMediumOnDisk } : {}),
      log,
      enqueue: (key: string, afterMs?: number) =>
        afterMs ? this.queue.addAfter(key, afterMs) : this.queue.add(key),
    };

    this.services.start();
    this.pods.start();
    await Promise.all([this.services.waitForSync(), this.pods.waitForSync()]);
    // the node's local-path provisioner, with its own ServiceAccount's credential (never the node's)
    if (this.opts.provisionerClient) {
      this.provisioner = new LocalPathProvisioner({
        client: this.opts.provisionerClient,
        nodeName: this.opts.nodeName,
        rootDir: this.opts.rootDir,
        log: log.child({ module: 'local-path-provisioner' }),
      });
      await this.provisioner.run();
    } else
      log.warn(
        { provisioner: LOCAL_PATH_PROVISIONER },
        'no --local-path-provisioner-kubeconfig: this node provisions no local-path volumes',
      );
    // Pods this node ran before a restart keep their IPs when they can.
    const reserved = new Map<string, string>();
    for (const p of this.pods.store.list()) {
      const ip = p.status?.podIP;
      const phase = p.status?.phase;
      if (ip && ips.contains(ip) && phase !== 'Succeeded' && phase !== 'Failed')
        reserved.set(p.metadata!.uid!, ips.allocate(ip));
    }

    // the eviction manager's local-storage check (upstream's housekeeping runs every 10 s)
    this.every(2_000, async () => {
      for (const w of [...this.workers.values()]) await w.checkLocalStorage();
    });
    // upstream runs one goroutine per pod; a generous pool keeps a burst of pods from queueing behind each other
    this.workersDone = this.queue.runWorkers(32, async (key) => {
      const pod = this.pods.store.get(key);
      let worker = this.workers.get(key);
      if (worker && (!pod || pod.metadata?.uid !== worker.uid)) {
        this.workers.delete(key);
        events.forget(worker.uid);
        tokens.forgetPod(worker.uid);
        await worker.remove();
        worker = undefined;
      }
      if (!pod || this.closed) return;
      if (!worker) {
        worker = new PodWorker(pod, workerDeps);
        const ip = reserved.get(worker.uid);
        if (ip) {
          worker.podIP = ip;
          reserved.delete(worker.uid);
        }
        this.workers.set(key, worker);
      }
      await worker.sync(pod);
    });
    log.info(
      { node: this.opts.nodeName, port: this.server.port, rootDir: this.opts.rootDir },
      'kubelet running',
    );
  }

  private every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const t = setInterval(() => {
      if (busy || this.closed) return;
      busy = true;
      fn()
        .catch((err: unknown) => this.opts.log.warn({ err }, 'periodic kubelet task failed'))
        .finally(() => (busy = false));
    }, ms);
    this.timers.push(t);
  }

  get port(): number {
    return this.server.port;
  }

  findPod(namespace: string, name: string): PodWorker | undefined {
    return this.workers.get(`${namespace}/${name}`);
  }

  summary(): unknown {
    return statsSummary(this.opts.nodeName, this.startTime, [...this.workers.values()], this.cfg.memoryBytes);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.queue.shutDown();
    this.pods.stop();
    this.services.stop();
    this.configMaps.stop();
    this.secrets.stop();
    this.provisioner?.stop();
    await this.server.close();
    await this.runtime.close();
    // the pauses, after their containers
    this.podNetworks?.close();
    if (this.opts.runDir) removeTreeSync(this.opts.runDir, this.runtime.subordinateIds);
    void this.workersDone;
  }
}

const VOLUME_SOURCE_INDEX = 'volumeSources';

/** `configmap/<ns>/<name>` and `secret/<ns>/<name>` for every ConfigMap and Secret the pod's volumes project */
export function volumeSourceKeys(pod: Pod): string[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const keys = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) keys.add(`configmap/${ns}/${v.configMap.name}`);
    if (v.secret?.secretName) keys.add(`secret/${ns}/${v.secret.secretName}`);
    for (const src of v.projected?.sources ?? []) {
      if (src.configMap?.name) keys.add(`configmap/${ns}/${src.configMap.name}`);
      if (src.secret?.name) keys.add(`secret/${ns}/${src.secret.name}`);
    }
  }
  return [...keys];
}

function statusOnlyChange(o: Pod, n: Pod): boolean {
  const meta = (p: Pod): unknown => ({ ...p.metadata, resourceVersion: undefined, managedFields: undefined });
  return deepEqual(o.spec, n.spec) && deepEqual(meta(o), meta(n));
}

/** the node's resolv.conf (upstream's --resolv-conf default), for dnsPolicy Default pods */
function readHostResolvConf(): string {
  try {
    return fs.readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}
