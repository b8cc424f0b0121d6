// The namespace controller: empties a Terminating namespace of every namespaced object, then finalizes it.
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import { RESOURCES, type ResourceInfo } from '../../api/resources.js';
import {
  WorkQueue,
  type Informer,
  type KubeClient,
  type ObjectWithMeta,
  type ResourceClient,
} from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { customResourceInfo } from '../common/custom-resources.js';
import { SharedInformerFactory } from '../common/informers.js';

/** the finalizer the namespace controller owns (spec.finalizers, not metadata.finalizers) */
export const FINALIZER_KUBERNETES = 'kubernetes';

export interface NamespaceControllerOptions {
  client: KubeClient;
  /** the controller-manager's shared informers; default: a factory of its own */
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
  /** upstream --concurrent-namespace-syncs (10); default 2 */
  workers?: number;
  /** how soon to look again while content remains (upstream estimates from pods' grace periods); default 1 s */
  recheckMs?: number;
  /** resources to empty; default every namespaced resource the apiserver serves */
  resources?: readonly ResourceInfo[];
}

interface Remaining {
  /** `pods.` → count, as upstream's message spells group resources */
  counts: Map<string, number>;
  /** finalizer → count of objects still carrying it */
  finalizers: Map<string, number>;
  /** errors deleting content */
  failures: string[];
}

function defaultResources(): ResourceInfo[] {
  return RESOURCES.filter((ri) => ri.namespaced && ri.verbs.includes('list') && ri.verbs.includes('delete'));
}

/** upstream's conditions and their "all is well" reasons/messages */
const HEALTHY: Record<string, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: {
    reason: 'ResourcesDiscovered',
    message: 'All resources successfully discovered',
  },
  NamespaceDeletionGroupVersionParsingFailure: {
    reason: 'ParsedGroupVersions',
    message: 'All legacy kube types successfully parsed',
  },
  NamespaceDeletionContentFailure: {
    reason: 'ContentDeleted',
    message: 'All content successfully deleted, may be waiting on finalization',
  },
  NamespaceContentRemaining: { reason: 'ContentRemoved', message: 'All content successfully removed' },
  NamespaceFinalizersRemaining: {
    reason: 'ContentHasNoFinalizers',
    message: 'All content-preserving finalizers finished',
  },
};

/**
 * A worker per namespace key: while the namespace has a deletionTimestamp and still carries the `kubernetes`
 * finalizer, delete every namespaced collection in it (background propagation, as upstream), count what is
 * left, publish that in status.conditions, and come back later; once nothing is left, PUT …/finalize without
 * the finalizer, and the apiserver deletes the namespace.
 */
export class NamespaceController {
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly workers: number;
  private readonly recheckMs: number;
  private readonly resources: readonly ResourceInfo[];
  /** whether to empty the served custom resources too (the default resources: upstream discovers them) */
  private readonly customResources: boolean;
  private readonly informers: SharedInformerFactory;
  private readonly informer: Informer<Namespace>;
  private readonly ownsInformers: boolean;
  private workersDone: Promise<void> | undefined;
  readonly queue: WorkQueue<string>;

  constructor(opts: NamespaceControllerOptions) {
    if (!opts.client) throw new TypeError('NamespaceController needs a client');
    this.client = opts.client;
    this.log = opts.logger.child({ controller: 'namespace' });
    this.clock = opts.clock ?? realClock;
    this.workers = opts.workers ?? 2;
    this.recheckMs = opts.recheckMs ?? 1_000;
    this.resources = opts.resources ?? defaultResources();
    this.customResources = !opts.resources;
    this.queue = new WorkQueue<string>({ name: 'namespace', clock: this.clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ??
      new SharedInformerFactory({ client: this.client, clock: this.clock, logger: this.log });
    this.informer = this.informers.namespaces();
    const enqueue = (ns: Namespace): void => {
      if (ns.metadata?.deletionTimestamp) this.queue.add(ns.metadata.name ?? '');
    };
    this.informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, ns) => enqueue(ns) });
  }

  /** start informers, wait for their caches, start the workers; resolves once syncing has begun */
  async run(): Promise<void> {
    this.informers.start();
    await this.informer.waitForSync();
    if (this.queue.shuttingDown()) return;
    this.workersDone = this.queue.runWorkers(this.workers, (name) => this.sync(name));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  /** resolves when the workers have finished after stop() */
  async stopped(): Promise<void> {
    await this.workersDone;
  }

  async sync(name: string): Promise<void> {
    const ns = this.informer.store.get(name);
    if (!ns?.metadata?.deletionTimestamp) return;
    if (!(ns.spec?.finalizers ?? []).includes(FINALIZER_KUBERNETES)) return; // our part is done
    const log = this.log.child({ namespace: name });
    const remaining = await this.deleteAllContent(name);
    await this.updateConditions(ns, remaining);
    if (remaining.failures.length > 0) {
      throw new ApiError(
        'InternalError',
        `failed to delete content of namespace ${name}: ${remaining.failures.join('; ')}`,
      );
    }
    if (remaining.counts.size > 0) {
      log.debug({ remaining: Object.fromEntries(remaining.counts) }, 'content remains; checking again later');
      this.queue.addAfter(name, this.recheckMs);
      return;
    }
    log.info('namespace is empty; removing the kubernetes finalizer');
    await this.finalize(ns);
  }

  /** deletecollection of every resource, then count what is left (pods in their grace period, finalizers) */
  private async deleteAllContent(namespace: string): Promise<Remaining> {
    const out: Remaining = { counts: new Map(), finalizers: new Map(), failures: [] };
    let custom: ResourceInfo[] = [];
    if (this.customResources) {
      try {
        custom = await this.namespacedCustomResources();
      } catch (err) {
        // upstream's NamespaceDeletionDiscoveryFailure: the built-in resources are still emptied
        out.failures.push(
          `customresourcedefinitions.apiextensions.k8s.io: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    const resources = [...this.resources, ...custom];
    for (const ri of resources) {
      const rc = this.client.resource<ObjectWithMeta>(ri.group, ri.versions[0], ri.resource, ri.namespaced);
      try {
        await this.deleteCollection(rc, ri, namespace);
        const left = (await rc.list({ namespace })).items;
        if (left.length === 0) continue;
        out.counts.set(`${ri.resource}.${ri.group}`, left.length);
        for (const obj of left)
          for (const f of obj.metadata?.finalizers ?? [])
            out.finalizers.set(f, (out.finalizers.get(f) ?? 0) + 1);
      } catch (err) {
        out.failures.push(`${ri.resource}.${ri.group}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  }

  /** the established namespaced CRDs' resources, as discovery lists them to upstream's controller */
  private async namespacedCustomResources(): Promise<ResourceInfo[]> {
    const crds = (
      await this.client
        .resource<ObjectWithMeta & CustomResourceDefinition>(
          'apiextensions.k8s.io',
          'v1',
          'customresourcedefinitions',
        )
        .list()
    ).items;
    return crds.flatMap((crd) => {
      const ri = customResourceInfo(crd);
      return ri?.namespaced ? [ri] : [];
    });
  }

  private async deleteCollection(
    rc: ResourceClient<ObjectWithMeta>,
    ri: ResourceInfo,
    namespace: string,
  ): Promise<void> {
    if (ri.verbs.includes('deletecollection')) {
      try {
        await rc.deleteCollection({ namespace, propagationPolicy: 'Background' });
        return;
      } catch (err) {
        // upstream falls back to list + delete when a resource has no deletecollection
        if (!(err instanceof ApiError && err.code === 405)) throw err;
      }
    }
    const items = (await rc.list({ namespace })).items;
    for (const obj of items) {
      if (obj.metadata?.deletionTimestamp) continue;
      try {
        await rc.delete(obj.metadata?.name ?? '', { namespace, propagationPolicy: 'Background' });
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
  }

  private async updateConditions(ns: Namespace, remaining: Remaining): Promise<void> {
    const now = rfc3339(this.clock.now());
    const wanted = new Map<string, { status: string; reason: string; message: string }>();
    for (const [type, ok] of Object.entries(HEALTHY)) wanted.set(type, { status: 'False', ...ok });
    if (remaining.failures.length > 0) {
      wanted.set('NamespaceDeletionContentFailure', {
        status: 'True',
        reason: 'ContentDeletionFailed',
        message: `Failed to delete all resource types, ${remaining.failures.length} remaining: ${remaining.failures.join(', ')}`,
      });
    }
    if (remaining.counts.size > 0) {
      const parts = [...remaining.counts].map(([gr, n]) => `${gr} has ${n} resource instances`).sort();
      wanted.set('NamespaceContentRemaining', {
        status: 'True',
        reason: 'SomeResourcesRemain',
        message: `Some resources are remaining: ${parts.join(', ')}`,
      });
    }
    if (remaining.finalizers.size > 0) {
      const parts = [...remaining.finalizers].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      wanted.set('NamespaceFinalizersRemaining', {
        status: 'True',
        reason: 'SomeFinalizersRemain',
        message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}`,
      });
    }
    const old = ns.status?.conditions ?? [];
    const conditions: NamespaceCondition[] = [...wanted].map(([type, w]) => {
      const prev = old.find((c) => c.type === type);
      const same = prev && prev.status === w.status && prev.reason === w.reason && prev.message === w.message;
      return same ? prev : { type, ...w, lastTransitionTime: now };
    });
    if (deepEqual(conditions, old)) return;
    const next = structuredClone<Namespace>(ns);
    next.status = { ...next.status, phase: 'Terminating', conditions };
    try {
      await this.client.namespaces.updateStatus(next);
    } catch (err) {
      // a stale cache copy: the next pass writes again; do not hold up the deletion for it
      if (!(err instanceof ApiError && (err.code === 409 || err.code === 404))) throw err;
    }
  }

  /** PUT /api/v1/namespaces/<name>/finalize without our finalizer */
  private async finalize(ns: Namespace): Promise<void> {
    const name = ns.metadata?.name ?? '';
    const body: Namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name, uid: ns.metadata?.uid },
      spec: { finalizers: (ns.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES) },
    };
    try {
      await this.client.transport.request({
        verb: 'update',
        group: '',
        version: 'v1',
        resource: 'namespaces',
        name,
        subresource: 'finalize',
        body,
        options: {},
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  }
}
