// The persistentvolume-binder controller (upstream pkg/controller/volume/persistentvolume/pv_controller.go): binds
// PersistentVolumeClaims to PersistentVolumes (class, access modes, volume mode, capacity, selector, claimRef and
// volumeName pre-binding), keeps both phases (Pending/Bound/Lost, Available/Bound/Released/Failed), hands claims of
// a class with a provisioner to that provisioner (the `volume.kubernetes.io/storage-provisioner` annotation; for
// WaitForFirstConsumer once the scheduler has picked a node), and applies the reclaim policy of a released volume.
// Volumes of an external provisioner with policy Delete are deleted by that provisioner, as upstream leaves them.
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError } from '../../../api/errors.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  claimKey,
  findMatchingVolume,
  isDelayBinding,
  isVolumeBoundToClaim,
  volumeMismatch,
} from '../../../api/storage/volume-helpers.js';
import {
  EventRecorder,
  WorkQueue,
  referenceTo,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../../client/index.js';
import { realClock, type Clock } from '../../../util/clock.js';
import { silentLogger, type Logger } from '../../../util/logger.js';
import { rfc3339 } from '../../../util/objects.js';
import type { SharedInformerFactory } from '../../common/informers.js';

export const PV_CONTROLLER_NAME = 'persistentvolume-controller';

export interface PersistentVolumeControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  /** upstream --pvclaimbinder-sync-period: every claim and volume is synced again this often (default 15 s) */
  resyncPeriodMs?: number;
}

/** the informers of the three kinds, shared with other controllers through the factory */
export function storageInformers(informers: SharedInformerFactory): {
  volumes: Informer<PersistentVolume>;
  claims: Informer<PersistentVolumeClaim>;
  classes: Informer<StorageClass>;
} {
  const c = informers.client;
  return {
    volumes: informers.forResource(
      'persistentvolumes',
      c.resource<PersistentVolume>('', 'v1', 'persistentvolumes'),
    ),
    claims: informers.forResource(
      'persistentvolumeclaims',
      c.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims'),
    ),
    classes: informers.forResource(
      'storageclasses.storage.k8s.io',
      c.resource<StorageClass>('storage.k8s.io', 'v1', 'storageclasses'),
    ),
  };
}

const CLAIM = 'claim:';
const VOLUME = 'volume:';

export class PersistentVolumeController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly recorder: EventRecorder;
  private readonly pvs: ResourceClient<PersistentVolume>;
  private readonly pvcs: ResourceClient<PersistentVolumeClaim>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly classes: Informer<StorageClass>;
  readonly queue: WorkQueue<string>;
  private readonly resyncPeriodMs: number;
  private resyncTimer: NodeJS.Timeout | undefined;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly opts: PersistentVolumeControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('PersistentVolumeController needs client and informers');
    this.client = opts.client;
    this.clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: PV_CONTROLLER_NAME });
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 15_000;
    this.recorder = new EventRecorder({
      client: this.client,
      component: PV_CONTROLLER_NAME,
      clock: this.clock,
      logger: this.log,
    });
    this.pvs = this.client.resource<PersistentVolume>('', 'v1', 'persistentvolumes');
    this.pvcs = this.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
    ({
      volumes: this.volumes,
      claims: this.claims,
      classes: this.classes,
    } = storageInformers(opts.informers));
    this.queue = new WorkQueue<string>({ name: 'persistentvolume', clock: this.clock, logger: this.log });
    const volumeKey = (pv: PersistentVolume): string => `${VOLUME}${pv.metadata?.name ?? ''}`;
    const claimQueueKey = (pvc: PersistentVolumeClaim): string => `${CLAIM}${claimKey(pvc)}`;
    this.volumes.addEventHandler({
      onAdd: (pv) => {
        this.queue.add(volumeKey(pv));
        this.enqueuePendingClaims();
      },
      onUpdate: (_o, pv) => {
        this.queue.add(volumeKey(pv));
        if (pv.status?.phase === 'Available') this.enqueuePendingClaims();
      },
      // a claim bound to a deleted volume is Lost
      onDelete: (pv) => {
        const ref = pv.spec?.claimRef;
        if (ref?.name) this.queue.add(`${CLAIM}${ref.namespace ?? ''}/${ref.name}`);
      },
    });
    this.claims.addEventHandler({
      onAdd: (pvc) => this.queue.add(claimQueueKey(pvc)),
      onUpdate: (_o, pvc) => this.queue.add(claimQueueKey(pvc)),
      // the volume of a deleted claim is released
      onDelete: (pvc) => {
        if (pvc.spec?.volumeName) this.queue.add(`${VOLUME}${pvc.spec.volumeName}`);
      },
    });
    // a class created after its claims: they can be provisioned now
    this.classes.addEventHandler({ onAdd: () => this.enqueuePendingClaims() });
  }

  async run(): Promise<void> {
    this.opts.informers.start();
    await Promise.all([this.volumes.waitForSync(), this.claims.waitForSync(), this.classes.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.resyncTimer = setInterval(() => this.resync(), this.resyncPeriodMs);
    this.resyncTimer.unref?.();
    // one worker: two claims never race for one volume inside this controller
    this.workersDone = this.queue.runWorkers(1, (key) => this.sync(key));
  }

  stop(): void {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
    await this.recorder.flush();
  }

  private resync(): void {
    for (const pvc of this.claims.store.list()) this.queue.add(`${CLAIM}${claimKey(pvc)}`);
    for (const pv of this.volumes.store.list()) this.queue.add(`${VOLUME}${pv.metadata?.name ?? ''}`);
  }

  private enqueuePendingClaims(): void {
    for (const pvc of this.claims.store.list())
      if (!pvc.spec?.volumeName || pvc.status?.phase === 'Pending')
        this.queue.add(`${CLAIM}${claimKey(pvc)}`);
  }

  async sync(key: string): Promise<void> {
    try {
      if (key.startsWith(CLAIM)) {
        const pvc = this.claims.store.get(key.slice(CLAIM.length));
        if (pvc) await this.syncClaim(pvc);
      } else {
        const pv = this.volumes.store.get(key.slice(VOLUME.length));
        if (pv) await this.syncVolume(pv);
      }
    } catch (err) {
      // a stale cache (409) or a vanished object (404): the informer brings the news and a fresh sync
      if (err instanceof ApiError && (err.code === 409 || err.code === 404)) {
        this.log.debug({ key, err: err.message }, 'sync lost a race; retrying');
        this.queue.addAfter(key, 100);
        return;
      }
      throw err;
    }
  }

  private classOf = (name: string): StorageClass | undefined => this.classes.store.get(name);

  private event(
    obj: PersistentVolume | PersistentVolumeClaim,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const kind = obj.spec && 'resources' in obj.spec ? 'PersistentVolumeClaim' : 'PersistentVolume';
    this.recorder.event(referenceTo(obj, 'v1', kind), type, reason, message);
  }

  // ---- claims ----

  private async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const wanted = claim.spec?.volumeName;
    if (!wanted) {
      const delayBinding = isDelayBinding(claim, this.classOf);
      const volume = findMatchingVolume(claim, this.volumes.store.list(), undefined, new Set(), delayBinding);
      if (volume) {
        await this.bind(volume, claim);
        return;
      }
      const className = claimClass(claim);
      if (delayBinding && !claim.metadata?.annotations?.[ANN_SELECTED_NODE]) {
        this.event(
          claim,
          'Normal',
          'WaitForFirstConsumer',
          'waiting for first consumer to be created before binding',
        );
      } else if (className) {
        await this.provisionClaim(claim, className);
      } else {
        this.event(
          claim,
          'Normal',
          'FailedBinding',
          'no persistent volumes available for this claim and no storage class is set',
        );
      }
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    // the user asked for one volume
    const volume = this.volumes.store.get(wanted);
    if (!volume) {
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    if (!volume.spec?.claimRef || isVolumeBoundToClaim(volume, claim)) {
      const mismatch = volumeMismatch(volume, claim);
      if (mismatch) {
        this.event(
          claim,
          'Warning',
          'VolumeMismatch',
          `Cannot bind to requested volume "${wanted}": ${mismatch}`,
        );
        await this.updateClaimStatus(claim, 'Pending', undefined);
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    // claimed by someone else: wait (a user's pre-binding), as upstream does
    await this.updateClaimStatus(claim, 'Pending', undefined);
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const name = claim.spec?.volumeName;
    if (!name) {
      await this.claimLost(
        claim,
        'ClaimLost',
        'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
      );
      return;
    }
    const volume = this.volumes.store.get(name);
    if (!volume) {
      await this.claimLost(
        claim,
        'ClaimLost',
        'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
      );
      return;
    }
    if (!volume.spec?.claimRef || volume.spec.claimRef.uid === claim.metadata?.uid) {
      await this.bind(volume, claim);
      return;
    }
    await this.claimLost(
      claim,
      'ClaimMisbound',
      'Two claims are bound to the same volume, this one is bound incorrectly',
    );
  }

  private async claimLost(claim: PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    await this.updateClaimStatus(claim, 'Lost', undefined);
    this.event(claim, 'Warning', reason, message);
  }

  /** provisionClaim for an external provisioner: name it on the claim and say who is expected to act */
  private async provisionClaim(claim: PersistentVolumeClaim, className: string): Promise<void> {
    const sc = this.classOf(className);
    if (!sc) {
      this.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${className}" not found`,
      );
      return;
    }
    const provisioner = sc.provisioner;
    if (provisioner === 'kubernetes.io/no-provisioner') {
      this.event(
        claim,
        'Normal',
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
      );
      return;
    }
    const ann = claim.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisioner || ann[ANN_BETA_STORAGE_PROVISIONER] !== provisioner) {
      const updated = structuredClone(claim);
      updated.metadata!.annotations = {
        ...updated.metadata!.annotations,
        [ANN_STORAGE_PROVISIONER]: provisioner,
        [ANN_BETA_STORAGE_PROVISIONER]: provisioner,
      };
      claim = await this.pvcs.update(updated, { namespace: claim.metadata!.namespace! });
    }
    this.event(
      claim,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  private async updateClaimStatus(
    claim: PersistentVolumeClaim,
    phase: string,
    volume: PersistentVolume | undefined,
  ): Promise<PersistentVolumeClaim> {
    const status = claim.status ?? {};
    const accessModes = volume ? volume.spec?.accessModes : undefined;
    const capacity = volume ? volume.spec?.capacity : undefined;
    if (
      status.phase === phase &&
      JSON.stringify(status.accessModes) === JSON.stringify(accessModes) &&
      JSON.stringify(status.capacity) === JSON.stringify(capacity)
    )
      return claim;
    const { accessModes: _a, capacity: _c, ...rest } = status;
    const updated: PersistentVolumeClaim = {
      ...claim,
      status: { ...rest, phase, ...(accessModes ? { accessModes } : {}), ...(capacity ? { capacity } : {}) },
    };
    const saved = await this.pvcs.updateStatus(updated, { namespace: claim.metadata!.namespace! });
    this.log.debug({ claim: claimKey(claim), phase }, 'claim entered phase');
    return saved;
  }

  // ---- binding ----

  /** bind: the volume (claimRef, Bound), then the claim (volumeName, annotations, Bound with capacity) */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    volume = await this.bindVolumeToClaim(volume, claim);
    volume = await this.updateVolumePhase(volume, 'Bound', undefined);
    claim = await this.bindClaimToVolume(claim, volume);
    await this.updateClaimStatus(claim, 'Bound', volume);
  }

  private async bindVolumeToClaim(
    volume: PersistentVolume,
    claim: PersistentVolumeClaim,
  ): Promise<PersistentVolume> {
    const byController = !isVolumeBoundToClaim(volume, claim);
    const ref = volume.spec?.claimRef;
    const meta = claim.metadata!;
    const refOk = ref && ref.name === meta.name && ref.namespace === meta.namespace && ref.uid === meta.uid;
    const annOk = !byController || volume.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined;
    if (refOk && annOk) return volume;
    const updated = structuredClone(volume);
    updated.spec!.claimRef = {
      kind: 'PersistentVolumeClaim',
      namespace: meta.namespace!,
      name: meta.name!,
      uid: meta.uid!,
      apiVersion: 'v1',
      resourceVersion: meta.resourceVersion!,
    };
    if (byController)
      updated.metadata!.annotations = { ...updated.metadata!.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' };
    const saved = await this.pvs.update(updated);
    this.log.info({ claim: claimKey(claim), volume: volume.metadata?.name }, 'claim bound to volume');
    return saved;
  }

  private async bindClaimToVolume(
    claim: PersistentVolumeClaim,
    volume: PersistentVolume,
  ): Promise<PersistentVolumeClaim> {
    const name = volume.metadata!.name!;
    const ann = claim.metadata?.annotations ?? {};
    const byController = claim.spec?.volumeName !== name;
    if (!byController && ann[ANN_BIND_COMPLETED] !== undefined) return claim;
    const updated = structuredClone(claim);
    updated.spec = { ...updated.spec, volumeName: name };
    const annotations: Record<string, string> = {
      ...updated.metadata!.annotations,
      [ANN_BIND_COMPLETED]: 'yes',
    };
    if (byController) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
    updated.metadata!.annotations = annotations;
    return this.pvcs.update(updated, { namespace: claim.metadata!.namespace! });
  }

  private async updateVolumePhase(
    volume: PersistentVolume,
    phase: string,
    message: string | undefined,
  ): Promise<PersistentVolume> {
    if (volume.status?.phase === phase) return volume;
    const updated: PersistentVolume = {
      ...volume,
      status: { phase, ...(message ? { message } : {}), lastPhaseTransitionTime: rfc3339(this.clock.now()) },
    };
    const saved = await this.pvs.updateStatus(updated);
    this.log.debug({ volume: volume.metadata?.name, phase }, 'volume entered phase');
    return saved;
  }

  private async updateVolumePhaseWithEvent(
    volume: PersistentVolume,
    phase: string,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): Promise<PersistentVolume> {
    if (volume.status?.phase === phase) return volume;
    const saved = await this.updateVolumePhase(volume, phase, message);
    this.event(saved, type, reason, message);
    return saved;
  }

  // ---- volumes ----

  private async syncVolume(volume: PersistentVolume): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (!ref) {
      await this.updateVolumePhase(volume, 'Available', undefined);
      return;
    }
    if (!ref.uid) {
      // pre-bound to a claim that has not been bound to it yet: the claim's sync does that
      await this.updateVolumePhase(volume, 'Available', undefined);
      this.queue.add(`${CLAIM}${ref.namespace ?? ''}/${ref.name ?? ''}`);
      return;
    }
    let claim = this.claims.store.get(`${ref.namespace ?? ''}/${ref.name ?? ''}`);
    if (claim && claim.metadata?.uid !== ref.uid) claim = undefined;
    if (claim === undefined && !(await this.claimGone(ref.namespace ?? '', ref.name ?? '', ref.uid))) return;
    if (!claim) {
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') {
        this.log.info(
          { volume: volume.metadata?.name, policy: volume.spec?.persistentVolumeReclaimPolicy },
          'volume is released and its reclaim policy will be executed',
        );
        volume = await this.updateVolumePhase(volume, 'Released', undefined);
      }
      await this.reclaimVolume(volume);
      return;
    }
    if (!claim.spec?.volumeName) {
      // the claim's sync finishes the binding (a provisioned volume is saved pre-bound and waits for it)
      this.queue.add(`${CLAIM}${claimKey(claim)}`);
      return;
    }
    if (claim.spec.volumeName === volume.metadata?.name) {
      await this.updateVolumePhase(volume, 'Bound', undefined);
      return;
    }
    // bound to a claim that is bound elsewhere
    if (
      volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== undefined &&
      volume.spec?.persistentVolumeReclaimPolicy === 'Delete'
    ) {
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed')
        volume = await this.updateVolumePhase(volume, 'Released', undefined);
      await this.reclaimVolume(volume);
      return;
    }
    await this.unbindVolume(volume);
  }

  /** the cache may lag behind a claim created a moment ago: ask the API before releasing its volume */
  private async claimGone(namespace: string, name: string, uid: string): Promise<boolean> {
    try {
      const claim = await this.pvcs.get(name, namespace);
      return claim.metadata?.uid !== uid;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return true;
      throw err;
    }
  }

  private async unbindVolume(volume: PersistentVolume): Promise<void> {
    const updated = structuredClone(volume);
    if (volume.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      delete updated.spec!.claimRef;
      delete updated.metadata!.annotations![ANN_BOUND_BY_CONTROLLER];
    } else {
      updated.spec!.claimRef = { ...updated.spec!.claimRef, uid: '' };
    }
    const saved = await this.pvs.update(updated);
    await this.updateVolumePhase(saved, 'Available', undefined);
  }

  /** reclaimVolume: Retain keeps it Released; Delete is the provisioner's (external) or fails (no deleter here) */
  private async reclaimVolume(volume: PersistentVolume): Promise<void> {
    switch (volume.spec?.persistentVolumeReclaimPolicy) {
      case 'Retain':
        return;
      case 'Delete': {
        if (volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] !== undefined) return; // the provisioner's job
        await this.updateVolumePhaseWithEvent(
          volume,
          'Failed',
          'Warning',
          'VolumeFailedDelete',
          `error getting deleter volume plugin for volume "${volume.metadata?.name}": no deletable volume plugin matched`,
        );
        return;
      }
      case 'Recycle':
        await this.updateVolumePhaseWithEvent(
          volume,
          'Failed',
          'Warning',
          'VolumeFailedRecycle',
          'No recycler plugin found for the volume!',
        );
        return;
      default:
        await this.updateVolumePhaseWithEvent(
          volume,
          'Failed',
          'Warning',
          'VolumeUnknownReclaimPolicy',
          'Volume has unrecognized PersistentVolumeReclaimPolicy',
        );
    }
  }
}
