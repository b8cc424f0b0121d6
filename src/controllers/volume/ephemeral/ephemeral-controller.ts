// The ephemeral volume controller (upstream pkg/controller/volume/ephemeral/controller.go): for every generic
// ephemeral volume of a pod (`ephemeral.volumeClaimTemplate`) it creates the claim `<pod>-<volume>` from the
// template, owned by the pod, so the garbage collector deletes it with the pod.
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../../api/errors.js';
import { ephemeralClaimName, ephemeralClaimOwnedBy } from '../../../api/storage/volume-helpers.js';
import {
  EventRecorder,
  WorkQueue,
  keyOf,
  referenceTo,
  type Informer,
  type KubeClient,
  type ResourceClient,
} from '../../../client/index.js';
import { realClock, type Clock } from '../../../util/clock.js';
import { silentLogger, type Logger } from '../../../util/logger.js';
import type { SharedInformerFactory } from '../../common/informers.js';
import { storageInformers } from '../persistentvolume/pv-controller.js';

export const EPHEMERAL_CONTROLLER_NAME = 'ephemeral-volume-controller';

export interface EphemeralVolumeControllerOptions {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger?: Logger;
  clock?: Clock;
  workers?: number;
}

const hasEphemeral = (pod: Pod): boolean => (pod.spec?.volumes ?? []).some((v) => v.ephemeral);

export class EphemeralVolumeController {
  private readonly pods: Informer<Pod>;
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly pvcs: ResourceClient<PersistentVolumeClaim>;
  private readonly recorder: EventRecorder;
  private readonly log: Logger;
  readonly queue: WorkQueue<string>;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly opts: EphemeralVolumeControllerOptions) {
    if (!opts.client || !opts.informers)
      throw new TypeError('EphemeralVolumeController needs client and informers');
    const clock = opts.clock ?? realClock;
    this.log = (opts.logger ?? silentLogger()).child({ controller: EPHEMERAL_CONTROLLER_NAME });
    this.pvcs = opts.client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims');
    this.recorder = new EventRecorder({
      client: opts.client,
      component: EPHEMERAL_CONTROLLER_NAME,
      clock,
      logger: this.log,
    });
    this.queue = new WorkQueue<string>({ name: 'ephemeral_volume', clock, logger: this.log });
    this.pods = opts.informers.pods();
    this.claims = storageInformers(opts.informers).claims;
    const enqueue = (pod: Pod): void => {
      if (hasEphemeral(pod) && !pod.metadata?.deletionTimestamp) this.queue.add(keyOf(pod));
    };
    this.pods.addEventHandler({ onAdd: enqueue, onUpdate: (_o, p) => enqueue(p) });
    // a claim deleted under a running pod is made again, as upstream's onPVCDelete does
    this.claims.addEventHandler({
      onDelete: (pvc) => {
        for (const ref of pvc.metadata?.ownerReferences ?? []) {
          if (ref.kind !== 'Pod' || !ref.controller) continue;
          const pod = this.pods.store.getByName(pvc.metadata?.namespace ?? '', ref.name);
          if (pod) enqueue(pod);
        }
      },
    });
  }

  async run(): Promise<void> {
    this.opts.informers.start();
    await Promise.all([this.pods.waitForSync(), this.claims.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.opts.workers ?? 5, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
    await this.recorder.flush();
  }

  async sync(key: string): Promise<void> {
    const pod = this.pods.store.get(key);
    if (!pod || pod.metadata?.deletionTimestamp) return;
    const namespace = pod.metadata!.namespace!;
    for (const vol of pod.spec?.volumes ?? []) {
      if (!vol.ephemeral) continue;
      const name = ephemeralClaimName(pod, vol);
      const existing = this.claims.store.getByName(namespace, name);
      if (existing) {
        // someone else's claim of that name: the pod cannot start (the kubelet and the scheduler say so)
        if (!ephemeralClaimOwnedBy(pod, existing))
          this.log.debug({ pod: key, claim: name }, 'claim exists and is not owned by the pod');
        continue;
      }
      const template = vol.ephemeral.volumeClaimTemplate;
      const claim: PersistentVolumeClaim = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace,
          ...(template?.metadata?.labels ? { labels: template.metadata.labels } : {}),
          ...(template?.metadata?.annotations ? { annotations: template.metadata.annotations } : {}),
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Pod',
              name: pod.metadata!.name!,
              uid: pod.metadata!.uid!,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec: structuredClone(template?.spec ?? {}),
      };
      try {
        await this.pvcs.create(claim, { namespace });
        this.log.debug({ pod: key, claim: name }, 'created ephemeral volume claim');
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'AlreadyExists') continue;
        this.recorder.event(
          referenceTo(pod, 'v1', 'Pod'),
          'Warning',
          'FailedBinding',
          `PVC creation failed: ${(err as Error).message}`,
        );
        throw err;
      }
    }
  }
}
