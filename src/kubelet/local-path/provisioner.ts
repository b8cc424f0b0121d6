// kubemu's built-in dynamic provisioner, after rancher's local-path-provisioner (the default class of k3s and kind):
// every kubelet provisions, on its own disk, the claims of the `rancher.io/local-path` class the scheduler placed on
// its node (`volume.kubernetes.io/selected-node`) — a directory `<root-dir>/local-path/pvc-<uid>_<ns>_<name>` and a
// hostPath PV with node affinity to the node, pre-bound to the claim — and deletes the directory and the PV once a
// Released volume's reclaim policy is Delete (its finalizer keeps a PV deleted early until then). Being in the
// kubelet, it works the same in both modes (pm2 and compose): the node's disk is the kubelet's. It talks to the
// apiserver as upstream's deployment of it does, as the ServiceAccount kube-system/local-path-provisioner-service-account
// bound to local-path-provisioner-role, never with the node's credential (the Node authorizer lets a node list no
// claims and create no PVs). Its StorageClass `standard` and RBAC objects are the apiserver's storage add-on
// (src/apiserver/addons/local-path-storage.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim } from 'kubernetes-types/core/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import { ApiError } from '../../api/errors.js';
import {
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  claimKey,
} from '../../api/storage/volume-helpers.js';
import {
  EventRecorder,
  Informer,
  WorkQueue,
  referenceTo,
  type KubeClient,
  type ResourceClient,
} from '../../client/index.js';
import type { Logger } from '../../util/logger.js';
import { LOCAL_PATH_PROVISIONER } from '../../api/storage/local-path-addon.js';

export { LOCAL_PATH_PROVISIONER };
/** local-path-provisioner's own annotation on its PVs: the node whose disk holds the directory */
const ANN_PV_NODE = 'local.path.provisioner/selected-node';
/**
 * external-provisioner's finalizer on the volumes it must delete (HonorPVReclaimPolicy): a PV deleted by its admin
 * while still Bound waits, Terminating, until it is Released and its directory is gone; without it pv-protection
 * would let the object go first and the directory would be left behind.
 */
export const PROVISIONER_FINALIZER = 'external-provisioner.volume.kubernetes.io/finalizer';

export interface LocalPathProvisionerOptions {
  /** the provisioner's own identity (its ServiceAccount's credential), not the node's */
  client: KubeClient;
  nodeName: string;
  /** the kubelet's root dir: volumes live in `<rootDir>/local-path` */
  rootDir: string;
  log: Logger;
}

export class LocalPathProvisioner {
  readonly dir: string;
  private readonly queue: WorkQueue<string>;
  private readonly pvs: ResourceClient<PersistentVolume>;
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly classes: Informer<StorageClass>;
  private readonly events: EventRecorder;
  private workersDone: Promise<void> | undefined;

  constructor(private readonly opts: LocalPathProvisionerOptions) {
    this.dir = path.join(opts.rootDir, 'local-path');
    const { client, log } = opts;
    this.queue = new WorkQueue<string>({ name: 'local-path-provisioner', logger: log });
    this.pvs = client.resource<PersistentVolume>('', 'v1', 'persistentvolumes');
    this.claims = new Informer<PersistentVolumeClaim>({
      source: client.resource<PersistentVolumeClaim>('', 'v1', 'persistentvolumeclaims'),
      name: 'persistentvolumeclaims',
      logger: log,
    });
    this.volumes = new Informer<PersistentVolume>({
      source: this.pvs,
      name: 'persistentvolumes',
      logger: log,
    });
    this.classes = new Informer<StorageClass>({
      source: client.resource<StorageClass>('storage.k8s.io', 'v1', 'storageclasses'),
      name: 'storageclasses',
      logger: log,
    });
    // sig-storage-lib-external-provisioner's recorder: the provisioner's name as the component
    this.events = new EventRecorder({
      client,
      component: LOCAL_PATH_PROVISIONER,
      host: opts.nodeName,
      logger: log,
    });
    const onClaim = (c: PersistentVolumeClaim): void => {
      if (this.shouldProvision(c)) this.queue.add(`claim:${claimKey(c)}`);
    };
    this.claims.addEventHandler({ onAdd: onClaim, onUpdate: (_o, c) => onClaim(c) });
    const onVolume = (pv: PersistentVolume): void => {
      if (this.shouldDelete(pv)) this.queue.add(`volume:${pv.metadata?.name ?? ''}`);
    };
    this.volumes.addEventHandler({ onAdd: onVolume, onUpdate: (_o, pv) => onVolume(pv) });
  }

  /** its caches first, then its workers */
  async run(): Promise<void> {
    this.claims.start();
    this.volumes.start();
    this.classes.start();
    await Promise.all([this.claims.waitForSync(), this.volumes.waitForSync(), this.classes.waitForSync()]);
    this.workersDone = this.queue.runWorkers(2, (key) => this.sync(key));
  }

  stop(): void {
    this.queue.shutDown();
    this.claims.stop();
    this.volumes.stop();
    this.classes.stop();
    void this.workersDone;
  }

  /** sig-storage-lib's shouldProvision: ours by annotation and class, not bound, placed on this node */
  private shouldProvision(c: PersistentVolumeClaim): boolean {
    if (c.spec?.volumeName || c.metadata?.deletionTimestamp) return false;
    const ann = c.metadata?.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER) return false;
    return ann[ANN_SELECTED_NODE] === this.opts.nodeName;
  }

  private shouldDelete(pv: PersistentVolume): boolean {
    return (
      pv.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] === LOCAL_PATH_PROVISIONER &&
      pv.metadata?.annotations?.[ANN_PV_NODE] === this.opts.nodeName &&
      pv.status?.phase === 'Released' &&
      pv.spec?.persistentVolumeReclaimPolicy === 'Delete' &&
      // already deleted by someone else: only our finalizer's work is left (the directory)
      (!pv.metadata?.deletionTimestamp || !!pv.metadata.finalizers?.includes(PROVISIONER_FINALIZER))
    );
  }

  private async sync(key: string): Promise<void> {
    if (key.startsWith('claim:')) {
      const c = this.claims.store.get(key.slice('claim:'.length));
      if (c && this.shouldProvision(c)) await this.provision(c);
    } else {
      const pv = this.volumes.store.get(key.slice('volume:'.length));
      if (pv && this.shouldDelete(pv)) await this.delete(pv);
    }
  }

  private claimEvent(
    c: PersistentVolumeClaim,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    this.events.event(referenceTo(c, 'v1', 'PersistentVolumeClaim'), type, reason, message);
  }

  private async provision(c: PersistentVolumeClaim): Promise<void> {
    const meta = c.metadata!;
    const name = `pvc-${meta.uid!}`;
    if (this.volumes.store.get(name)) return; // made already; the PV binder finishes the binding
    const className = claimClass(c);
    const sc = this.classes.store.get(className);
    if (!sc || sc.provisioner !== LOCAL_PATH_PROVISIONER) return;
    this.claimEvent(
      c,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${claimKey(c)}"`,
    );
    const modes = c.spec?.accessModes ?? [];
    if (modes.some((m) => m !== 'ReadWriteOnce' && m !== 'ReadWriteOncePod')) {
      this.claimEvent(
        c,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${className}": NodePath only supports ReadWriteOnce and ReadWriteOncePod (1.22+) access modes`,
      );
      return;
    }
    if ((c.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') {
      this.claimEvent(
        c,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${className}": volumeMode ${c.spec?.volumeMode} is not supported`,
      );
      return;
    }
    const dir = path.join(this.dir, `${name}_${meta.namespace}_${meta.name}`);
    // 0777, as local-path-provisioner's helper makes it: containers running as any user can write
    await fs.promises.mkdir(dir, { recursive: true });
    await fs.promises.chmod(dir, 0o777);
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: {
        name,
        annotations: {
          [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER,
          [ANN_PV_NODE]: this.opts.nodeName,
        },
        ...((sc.reclaimPolicy ?? 'Delete') === 'Delete' ? { finalizers: [PROVISIONER_FINALIZER] } : {}),
      },
      spec: {
        storageClassName: className,
        persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
        accessModes: modes,
        volumeMode: 'Filesystem',
        capacity: { storage: String(c.spec?.resources?.requests?.['storage'] ?? '0') },
        hostPath: { path: dir, type: 'DirectoryOrCreate' },
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: 'kubernetes.io/hostname', operator: 'In', values: [this.opts.nodeName] },
                ],
              },
            ],
          },
        },
        claimRef: {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          namespace: meta.namespace!,
          name: meta.name!,
          uid: meta.uid!,
          resourceVersion: meta.resourceVersion!,
        },
        ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
      },
    };
    try {
      await this.pvs.create(pv);
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') return;
      this.claimEvent(
        c,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${className}": ${(err as Error).message}`,
      );
      throw err;
    }
    this.opts.log.info({ claim: claimKey(c), volume: name, dir }, 'provisioned volume');
    this.claimEvent(c, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
  }

  /** reclaim policy Delete: the directory first (only ever one of ours), then our finalizer, then the PV */
  private async delete(pv: PersistentVolume): Promise<void> {
    const dir = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
    if (dir && path.dirname(path.resolve(dir)) === path.resolve(this.dir))
      await fs.promises.rm(dir, { recursive: true, force: true });
    try {
      if (pv.metadata?.finalizers?.includes(PROVISIONER_FINALIZER)) {
        const updated = structuredClone(pv);
        updated.metadata!.finalizers = pv.metadata.finalizers.filter((f) => f !== PROVISIONER_FINALIZER);
        await this.pvs.update(updated);
      }
      if (!pv.metadata?.deletionTimestamp) await this.pvs.delete(pv.metadata!.name!);
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    this.opts.log.info({ volume: pv.metadata?.name, dir }, 'deleted volume');
  }
}
