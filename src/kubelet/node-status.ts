// The kubelet's Node: registration, status (capacity, conditions, nodeInfo, images) and its Lease heartbeat.
import fs from 'node:fs';
import os from 'node:os';
import type { Node, NodeCondition, NodeStatus } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { ApiError } from '../api/errors.js';
import { KUBE_GIT_VERSION } from '../api/release.js';
import type { KubeClient } from '../client/index.js';
import type { Logger } from '../util/logger.js';
import type { NodeProblem } from './degraded.js';
import { deepEqual, rfc3339, rfc3339Micro } from '../util/objects.js';

/** Matches the apiserver's /version gitVersion (src/apiserver/discovery/version.ts). */
/** kubelets run the release the control plane serves */
export const KUBELET_VERSION = KUBE_GIT_VERSION;
export const CONTAINER_RUNTIME_VERSION = 'kubemu://0.1.0';

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
export const goArch = (): string => GO_ARCH[process.arch] ?? process.arch;

export interface NodeConfig {
  nodeName: string;
  nodeIP: string;
  podCIDR: string;
  cpu: string;
  /** bytes */
  memoryBytes: number;
  maxPods: number;
  rootDir: string;
  kubeletPort: number;
  /** what this node runs without (degraded.ts): reported as conditions after upstream's four */
  problems?: readonly NodeProblem[];
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1];
  } catch {
    // not Linux, or no os-release
  }
  return `${os.type()} ${os.release()}`;
}

function readId(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().replace(/-/g, '');
  } catch {
    return fallback;
  }
}

function ephemeralStorageKi(dir: string): string {
  try {
    const st = fs.statfsSync(dir);
    return `${Math.floor((st.blocks * st.bsize) / 1024)}Ki`;
  } catch {
    return '0';
  }
}

export function nodeCapacity(cfg: NodeConfig): Record<string, string> {
  return {
    cpu: cfg.cpu,
    memory: `${Math.floor(cfg.memoryBytes / 1024)}Ki`,
    pods: String(cfg.maxPods),
    'ephemeral-storage': ephemeralStorageKi(cfg.rootDir),
  };
}

const CONDITIONS: readonly { type: string; status: string; reason: string; message: string }[] = [
  {
    type: 'MemoryPressure',
    status: 'False',
    reason: 'KubeletHasSufficientMemory',
    message: 'kubelet has sufficient memory available',
  },
  {
    type: 'DiskPressure',
    status: 'False',
    reason: 'KubeletHasNoDiskPressure',
    message: 'kubelet has no disk pressure',
  },
  {
    type: 'PIDPressure',
    status: 'False',
    reason: 'KubeletHasSufficientPID',
    message: 'kubelet has sufficient PID available',
  },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** Conditions with heartbeat now; a transition time is kept while the status stays the same. */
export function nodeConditions(
  old: NodeCondition[] | undefined,
  now: number,
  problems: readonly NodeProblem[] = [],
): NodeCondition[] {
  return [...CONDITIONS, ...problems].map((c) => {
    const prev = old?.find((o) => o.type === c.type);
    return {
      ...c,
      lastHeartbeatTime: rfc3339(now),
      lastTransitionTime:
        prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now),
    };
  });
}

export function buildNodeStatus(
  cfg: NodeConfig,
  old: NodeStatus | undefined,
  images: { name: string; sizeBytes: number }[],
  now: number,
): NodeStatus {
  const capacity = nodeCapacity(cfg);
  return {
    capacity,
    allocatable: { ...capacity },
    conditions: nodeConditions(old?.conditions, now, cfg.problems),
    addresses: [
      { type: 'InternalIP', address: cfg.nodeIP },
      { type: 'Hostname', address: cfg.nodeName },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: cfg.kubeletPort } },
    nodeInfo: {
      machineID: readId('/etc/machine-id', cfg.nodeName),
      systemUUID: readId('/sys/class/dmi/id/product_uuid', cfg.nodeName),
      bootID: readId('/proc/sys/kernel/random/boot_id', ''),
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: goArch(),
    },
    images: images.map((i) => ({ names: [i.name], sizeBytes: i.sizeBytes })),
  };
}

export function nodeLabels(cfg: NodeConfig): Record<string, string> {
  return {
    'kubernetes.io/hostname': cfg.nodeName,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': goArch(),
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': goArch(),
    'node.kubernetes.io/instance-type': 'kubemu',
  };
}

/** Creates the Node, or on a restart brings labels, podCIDR and addresses up to date. Returns it. */
export async function registerNode(client: KubeClient, cfg: NodeConfig, log: Logger): Promise<Node> {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: cfg.nodeName,
      labels: nodeLabels(cfg),
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: { podCIDR: cfg.podCIDR, podCIDRs: [cfg.podCIDR] },
  };
  try {
    const created = await client.nodes.create(node);
    log.info({ node: cfg.nodeName }, 'node registered');
    return created;
  } catch (err) {
    if (!(err instanceof ApiError) || err.code !== 409) throw err;
  }
  const patched = await client.nodes.patch(cfg.nodeName, {
    metadata: { labels: nodeLabels(cfg) },
    spec: { podCIDR: cfg.podCIDR, podCIDRs: [cfg.podCIDR] },
  });
  log.info({ node: cfg.nodeName }, 'node re-registered');
  return patched;
}

/** Writes the node status when it changed or the report interval passed (the heartbeat in the Ready condition). */
export class NodeStatusReporter {
  private last: NodeStatus | undefined;
  private lastWrite = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly cfg: NodeConfig,
    private readonly images: () => { name: string; sizeBytes: number }[],
    private readonly reportIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async update(current: Node | undefined): Promise<void> {
    const now = this.now();
    const status = buildNodeStatus(this.cfg, current?.status ?? this.last, this.images(), now);
    const withoutHeartbeat = (s: NodeStatus | undefined): unknown =>
      s && { ...s, conditions: s.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) };
    const changed = !deepEqual(withoutHeartbeat(status), withoutHeartbeat(current?.status ?? this.last));
    if (!changed && now - this.lastWrite < this.reportIntervalMs) return;
    await this.client.nodes.patch(this.cfg.nodeName, { status }, 'merge', { subresource: 'status' });
    this.last = status;
    this.lastWrite = now;
  }
}

/** Renews kube-node-lease/<node>: holderIdentity, renewTime, leaseDurationSeconds, owned by the Node. */
export class NodeLease {
  private lease: Lease | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly nodeName: string,
    private readonly durationSeconds: number,
    private readonly nodeUid: () => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async renew(): Promise<void> {
    const renewTime = rfc3339Micro(this.now());
    const uid = this.nodeUid();
    const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: this.durationSeconds, renewTime };
    if (!this.lease) {
      try {
        this.lease = await this.client.leases.get(this.nodeName, 'kube-node-lease');
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 404) throw err;
        this.lease = await this.client.leases.create({
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name: this.nodeName,
            namespace: 'kube-node-lease',
            ...(uid
              ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid }] }
              : {}),
          },
          spec,
        });
        return;
      }
    }
    try {
      this.lease = await this.client.leases.update({ ...this.lease, spec: { ...this.lease.spec, ...spec } });
    } catch (err) {
      // Someone else wrote it (or it was deleted): start from the server's copy next time.
      this.lease = undefined;
      throw err;
    }
  }
}
