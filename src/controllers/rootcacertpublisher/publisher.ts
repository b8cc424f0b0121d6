// The root-ca-cert-publisher (upstream pkg/controller/certificates/rootcacertpublisher/publisher.go): every namespace
// gets a `kube-root-ca.crt` ConfigMap holding the CA bundle that verifies the apiserver, which the pods' projected
// ServiceAccount volumes mount as ca.crt; it is put back when deleted and corrected when changed.
import type { ConfigMap, Namespace } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { WorkQueue, type Informer, type KubeClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { SharedInformerFactory } from '../common/informers.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

export interface RootCaCertPublisherOptions {
  client: KubeClient;
  informers?: SharedInformerFactory;
  logger: Logger;
  /** the CA bundle (PEM) to publish */
  rootCa: string;
  clock?: Clock;
}

export class RootCaCertPublisher {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly rootCa: string;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly namespaces: Informer<Namespace>;
  private readonly configMaps: Informer<ConfigMap>;
  readonly queue: WorkQueue<string>;
  private workersDone: Promise<void> | undefined;

  constructor(opts: RootCaCertPublisherOptions) {
    if (!opts.rootCa.trim()) throw new TypeError('RootCaCertPublisher needs a root CA bundle');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'root-ca-cert-publisher' });
    this.rootCa = opts.rootCa;
    const clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'root_ca_cert_publisher', clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ?? new SharedInformerFactory({ client: this.client, clock, logger: this.log });
    this.namespaces = this.informers.namespaces();
    this.configMaps = this.informers.forResource('configmaps', this.client.configMaps);
    const enqueueNs = (ns: Namespace): void => this.queue.add(ns.metadata?.name ?? '');
    this.namespaces.addEventHandler({ onAdd: enqueueNs, onUpdate: (_o, ns) => enqueueNs(ns) });
    const enqueueCm = (cm: ConfigMap): void => {
      if (cm.metadata?.name === ROOT_CA_CONFIGMAP && cm.metadata.namespace)
        this.queue.add(cm.metadata.namespace);
    };
    this.configMaps.addEventHandler({ onUpdate: (_o, cm) => enqueueCm(cm), onDelete: enqueueCm });
  }

  async run(): Promise<void> {
    this.informers.start();
    await Promise.all([this.namespaces.waitForSync(), this.configMaps.waitForSync()]);
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(1, (ns) => this.sync(ns));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  async stopped(): Promise<void> {
    await this.workersDone;
  }

  /** upstream's syncNamespace */
  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.store.get(namespace);
    if (!ns || ns.metadata?.deletionTimestamp) return;
    const cm = this.configMaps.store.getByName(namespace, ROOT_CA_CONFIGMAP);
    try {
      if (!cm) {
        await this.client.configMaps.create(
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: {
              name: ROOT_CA_CONFIGMAP,
              namespace,
              annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION },
            },
            data: { 'ca.crt': this.rootCa },
          },
          { namespace },
        );
        return;
      }
      if (
        cm.data?.['ca.crt'] === this.rootCa &&
        cm.metadata?.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION
      )
        return;
      await this.client.configMaps.update(
        {
          ...cm,
          metadata: {
            ...cm.metadata,
            annotations: { ...cm.metadata?.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION },
          },
          data: { ...cm.data, 'ca.crt': this.rootCa },
        },
        { namespace },
      );
    } catch (err) {
      // a namespace going away refuses new objects; the cache lagging behind a create is a conflict: nothing to do
      if (
        err instanceof ApiError &&
        (err.reason === 'AlreadyExists' || err.reason === 'Forbidden' || err.reason === 'NotFound')
      )
        return;
      throw err;
    }
  }
}
