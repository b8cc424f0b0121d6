// The pvc-protection controller (upstream pkg/controller/volume/pvcprotection): removes the `kubernetes.io/pvc-protection`
// finalizer from a claim being deleted once no pod uses it, so `kubectl delete pvc` of a claim still mounted leaves
// it Terminating until its pods are gone; and adds the finalizer to claims made before the admission plugin was on.
// A pod uses a claim when it is scheduled and names it (a persistentVolumeClaim volume, even when the pod has
// finished, as upstream), or when the claim is the pod's generic ephemeral volume and the pod is not shut down. The
// informer's cache is asked first, then a live list of the namespace's pods, so a pod not yet in the cache still
// keeps its claim.
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import {
  PVC_PROTECTION_FINALIZER,
  ephemeralClaimName,
  ephemeralClaimOwnedBy,
  podVolumeClaimName,
} from '../../../api/storage/volume-helpers.js';
import {
  WorkQueue,
  keyOf,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../../client/index.js';
import { realClock, type Clock } from '../../../util/clock.js';
import { silentLogger, type Logger } from '../../../util/logger.js';
import type { SharedInformerFactory } from '../../common/informers.js';
import { storageInformers } from '../persistentvolume/pv-controller.js';
import { isDeletionCandidate, needToAddFinalizer, withFinalizer } from '../protection-util.js';

export const PVC_PROTECTION_CONTROLLER_NAME = 'persistentvolumeclaim-protection-controller';

export interface PVCProtectionControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
}

/** volumeutil.IsPodTerminated: Succeeded or Failed, or being deleted with no container running */
export function isPodTerminated(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return true;
  if (!pod.metadata?.deletionTimestamp) return false;
  const s = pod.status ?? {};
  return [
    ...(s.initContainerStatuses ?? []),
    ...(s.containerStatuses ?? []),
    ...(s.ephemeralContainerStatuses ?? []),
  ].every((c) => !!c.state?.terminated || !!c.state?.waiting);
}

/** podIsShutDown: the kubelet is done with it (deleted with grace 0) or it was force-deleted */
const podIsShutDown = (pod: Pod): boolean =>
  !!pod.metadata?.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0;

/** podUsesPVC: only scheduled pods count (the kubelet won't start a pod whose claim is being deleted) */
export function podUsesClaim(pod: Pod, claim: PersistentVolumeClaim): boolean {
  if (!pod.spec?.nodeName) return false;
  const name = claim.metadata?.name;
  return (pod.spec.volumes ?? []).some(
    (v) =>
      (v.persistentVolumeClaim && v.persistentVolumeClaim.claimName === name) ||
      (!podIsShutDown(pod) &&
        v.ephemeral &&
        ephemeralClaimName(pod, v) === name &&
        ephemeralClaimOwnedBy(pod, claim)),
  );
}

export class PVCProtectionController {
  private readonly pods: Informer<Pod>;
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly pvcs: ResourceClient<PersistentVolumeClaim>;
  private readonly log: Logger;
  readonly queue: WorkQueue<string>;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly opts: PVCProtectionControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('PVCProtectionController needs client and informers');
    const clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: PVC_PROTECTION_CONTROLLER_NAME });
    this.pvcs = opts.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
    this.queue = new WorkQueue<string>({ name: 'pvcprotection', clock, logger: this.log });
    this.pods = opts.informers.pods();
    this.claims = storageInformers(opts.informers).claims;
    const onClaim = (pvc: PersistentVolumeClaim): void => {
      if (
        needToAddFinalizer(pvc, PVC_PROTECTION_FINALIZER) ||
        isDeletionCandidate(pvc, PVC_PROTECTION_FINALIZER)
      )
        this.queue.add(keyOf(pvc));
    };
    this.claims.addEventHandler({ onAdd: onClaim, onUpdate: (_o, pvc) => onClaim(pvc) });
    this.pods.addEventHandler({
      onAdd: (pod) => this.enqueueClaims(pod, false),
      onUpdate: (old, pod) => {
        this.enqueueClaims(pod, false);
        // a delete and a create of the same name seen as one update: the old pod's claims may be free now
        if (old.metadata?.uid !== pod.metadata?.uid) this.enqueueClaims(old, true);
      },
      onDelete: (pod) => this.enqueueClaims(pod, true),
    });
  }

  async run(): Promise<void> {
    this.opts.informers.start();
    await Promise.all([this.pods.waitForSync(), this.claims.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.opts.workers ?? 1, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** enqueuePVCs: only pods that can free a claim (gone, terminated, or unscheduled) */
  private enqueueClaims(pod: Pod, deleted: boolean): void {
    if (!deleted && !isPodTerminated(pod) && pod.spec?.nodeName) return;
    for (const v of pod.spec?.volumes ?? []) {
      const name = podVolumeClaimName(pod, v);
      if (name) this.queue.add(`${pod.metadata?.namespace ?? ''}/${name}`);
    }
  }

  async sync(key: string): Promise<void> {
    const pvc = this.claims.store.get(key);
    if (!pvc) return;
    if (isDeletionCandidate(pvc, PVC_PROTECTION_FINALIZER)) {
      if (!(await this.isBeingUsed(pvc))) {
        await this.writeFinalizer(pvc, false);
        return;
      }
      this.log.debug({ claim: key }, 'keeping PVC because it is being used');
    }
    if (needToAddFinalizer(pvc, PVC_PROTECTION_FINALIZER)) await this.writeFinalizer(pvc, true);
  }

  private async writeFinalizer(pvc: PersistentVolumeClaim, present: boolean): Promise<void> {
    try {
      await this.pvcs.update(withFinalizer(pvc, PVC_PROTECTION_FINALIZER, present), {
        namespace: pvc.metadata!.namespace!,
      });
    } catch (err) {
      // gone already: nothing left to protect
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    this.log.info(
      { claim: keyOf(pvc) },
      present ? 'added protection finalizer to PVC' : 'removed protection finalizer from PVC',
    );
  }

  /** the informer's cache first; a pod not found there may just not be in it yet, so then the API's own list */
  private async isBeingUsed(pvc: PersistentVolumeClaim): Promise<boolean> {
    const namespace = pvc.metadata?.namespace ?? '';
    if (this.pods.store.listNamespace(namespace).some((p) => podUsesClaim(p, pvc))) return true;
    const live = await this.opts.client.pods.list({ namespace });
    const used = live.items.some((p) => podUsesClaim(p, pvc));
    if (!used) this.log.debug({ claim: keyOf(pvc) }, 'PVC is unused');
    return used;
  }
}
