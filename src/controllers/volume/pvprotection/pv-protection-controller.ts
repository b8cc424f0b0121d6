// The pv-protection controller (upstream pkg/controller/volume/pvprotection): removes the `kubernetes.io/pv-protection`
// finalizer from a PersistentVolume being deleted once it is no longer Bound (the PV binder releases it when its
// claim is gone), so a volume bound to a claim outlives `kubectl delete pv`; and adds the finalizer to volumes made
// before the admission plugin was on.
import type { PersistentVolume } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import { PV_PROTECTION_FINALIZER } from '../../../api/storage/volume-helpers.js';
import { WorkQueue, type Informer, type KubeClient, type ResourceClient } from '../../../client/index.js';
import { realClock, type Clock } from '../../../util/clock.js';
import { silentLogger, type Logger } from '../../../util/logger.js';
import type { SharedInformerFactory } from '../../common/informers.js';
import { storageInformers } from '../persistentvolume/pv-controller.js';
import { isDeletionCandidate, needToAddFinalizer, withFinalizer } from '../protection-util.js';

export const PV_PROTECTION_CONTROLLER_NAME = 'persistentvolume-protection-controller';

export interface PVProtectionControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
}

export class PVProtectionController {
  private readonly volumes: Informer<PersistentVolume>;
  private readonly pvs: ResourceClient<PersistentVolume>;
  private readonly log: Logger;
  readonly queue: WorkQueue<string>;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly opts: PVProtectionControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('PVProtectionController needs client and informers');
    const clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: PV_PROTECTION_CONTROLLER_NAME });
    this.pvs = opts.client.resource<PersistentVolume>('', 'v1', 'persistentvolumes');
    this.queue = new WorkQueue<string>({ name: 'pvprotection', clock, logger: this.log });
    this.volumes = storageInformers(opts.informers).volumes;
    const onVolume = (pv: PersistentVolume): void => {
      if (needToAddFinalizer(pv, PV_PROTECTION_FINALIZER) || isDeletionCandidate(pv, PV_PROTECTION_FINALIZER))
        this.queue.add(pv.metadata?.name ?? '');
    };
    this.volumes.addEventHandler({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv) });
  }

  async run(): Promise<void> {
    this.opts.informers.start();
    await this.volumes.waitForSync();
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.opts.workers ?? 1, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  async sync(name: string): Promise<void> {
    const pv = this.volumes.store.get(name);
    if (!pv) return;
    if (isDeletionCandidate(pv, PV_PROTECTION_FINALIZER)) {
      // isBeingUsed: the binder's phase says whether a claim holds it
      if (pv.status?.phase !== 'Bound') {
        await this.writeFinalizer(pv, false);
        return;
      }
      this.log.debug({ volume: name }, 'keeping PV because it is being used');
    }
    if (needToAddFinalizer(pv, PV_PROTECTION_FINALIZER)) await this.writeFinalizer(pv, true);
  }

  private async writeFinalizer(pv: PersistentVolume, present: boolean): Promise<void> {
    try {
      await this.pvs.update(withFinalizer(pv, PV_PROTECTION_FINALIZER, present));
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
    this.log.info(
      { volume: pv.metadata?.name },
      present ? 'added protection finalizer to PV' : 'removed protection finalizer from PV',
    );
  }
}
