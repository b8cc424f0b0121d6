// The scheduler's view of storage: PersistentVolumeClaim, PersistentVolume and StorageClass informers (the
// VolumeBinding plugin's listers), the events that may make a pending pod schedulable, and PreBind's write-and-wait.
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { Informer, type KubeClient } from '../client/index.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../util/logger.js';
import {
  podVolumesBound,
  writeVolumeBindings,
  type PodVolumeState,
  type VolumeListers,
} from './volume-binding.js';

/** upstream's bindTimeoutSeconds is 600; a claim the provisioner cannot serve gives the pod back sooner here */
export const DEFAULT_BIND_TIMEOUT_MS = 120_000;
const BIND_POLL_MS = 50;

export class VolumeBindingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VolumeBindingError';
  }
}

export class SchedulerVolumes implements VolumeListers {
  readonly claims: Informer<PersistentVolumeClaim>;
  readonly pvs: Informer<PersistentVolume>;
  readonly classes: Informer<StorageClass>;

  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    logger: Logger,
    /** a claim, volume or class changed: pods waiting on volumes may fit now */
    onChange: (event: string) => void,
    /** the scheduler's node cache */
    private readonly nodeOf: (name: string) => Node | undefined,
    private readonly bindTimeoutMs = DEFAULT_BIND_TIMEOUT_MS,
  ) {
    const common = { clock, logger };
    this.claims = new Informer<PersistentVolumeClaim>({
      name: 'persistentvolumeclaims',
      source: client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims'),
      ...common,
    });
    this.pvs = new Informer<PersistentVolume>({
      name: 'persistentvolumes',
      source: client.resource<PersistentVolume>('', 'v1', 'persistentvolumes'),
      ...common,
    });
    this.classes = new Informer<StorageClass>({
      name: 'storageclasses',
      source: client.resource<StorageClass>('storage.k8s.io', 'v1', 'storageclasses'),
      ...common,
    });
    for (const [informer, kind] of [
      [this.claims, 'PersistentVolumeClaim'],
      [this.pvs, 'PersistentVolume'],
      [this.classes, 'StorageClass'],
    ] as const) {
      (informer as Informer<{ metadata?: object }>).addEventHandler({
        onAdd: () => onChange(`${kind}Add`),
        onUpdate: () => onChange(`${kind}Update`),
      });
    }
  }

  start(): void {
    this.claims.start();
    this.pvs.start();
    this.classes.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all([this.claims.waitForSync(), this.pvs.waitForSync(), this.classes.waitForSync()]);
  }

  stop(): void {
    this.claims.stop();
    this.pvs.stop();
    this.classes.stop();
  }

  claim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.claims.store.getByName(namespace, name);
  }

  volume(name: string): PersistentVolume | undefined {
    return this.pvs.store.get(name);
  }

  volumes(): PersistentVolume[] {
    return this.pvs.store.list();
  }

  storageClass(name: string): StorageClass | undefined {
    return this.classes.store.get(name);
  }

  /**
   * PreBind (BindPodVolumes): write the bindings for `node`, then wait until the PV controller (and for provisioned
   * claims, the provisioner) has bound every claim of the pod. A binding no longer possible, or one that does not
   * complete in time, is a VolumeBindingError: the pod goes back to the queue.
   */
  async preBind(pod: Pod, node: string, state: PodVolumeState): Promise<void> {
    const nodeObj = this.nodeOf(node);
    const bindings = nodeObj && state.bindingsFor(nodeObj);
    if (!bindings)
      throw new VolumeBindingError(`the volumes of the pod can no longer be bound on node ${node}`);
    await writeVolumeBindings(bindings, node, {
      updateVolume: (pv) => this.client.resource<PersistentVolume>('', 'v1', 'persistentvolumes').update(pv),
      updateClaim: (c) =>
        this.client
          .resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims')
          .update(c, { namespace: c.metadata!.namespace! }),
    });
    const deadline = this.clock.now() + this.bindTimeoutMs;
    while (!podVolumesBound(pod, this)) {
      if (this.clock.now() >= deadline)
        throw new VolumeBindingError('binding volumes: context deadline exceeded');
      await new Promise((r) => setTimeout(r, BIND_POLL_MS));
    }
  }
}
