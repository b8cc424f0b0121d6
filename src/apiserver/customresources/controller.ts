// The apiextensions-apiserver's controllers, run inside the apiserver as upstream runs them
// (pkg/controller/status/naming_controller.go, establish/establishing_controller.go, finalizer/crd_finalizer.go):
// - naming: a CRD's requested names are accepted unless another CRD of the group has them (NamesAccepted, with
//   upstream's reasons and messages, and status.acceptedNames);
// - establishing: accepted names make the CRD Established, and its resource is served (./served.ts) from then on;
// - finalizer: a CRD being deleted (the `customresourcecleanup.apiextensions.k8s.io` finalizer the CRD's delete
//   adds) has its objects deleted through the API (admission and finalizers apply), then the finalizer removed;
//   once it leaves storage, its resource is no longer served.
// It reacts to the storage's watch of CRDs, so a new CRD is served within milliseconds.
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import { ApiError } from '../../api/errors.js';
import type { ApiHandler, ApiRequest, KubeObject, UserInfo } from '../../api/request.js';
import { storagePrefix } from '../../api/resources.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { deepCopy, deepEqual, rfc3339 } from '../../util/objects.js';
import type { Storage, StorageWatcher } from '../storage/storage.js';
import { CustomResource, crdCondition } from './definition.js';
import type { ServedCustomResources } from './served.js';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const SYSTEM: UserInfo = { username: 'system:apiserver', groups: ['system:masters'] };
const CRD_PREFIX = storagePrefix({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' });
/** how long the finalizer waits for objects with finalizers of their own before it looks again */
const RECHECK_MS = 1_000;

type Condition = NonNullable<NonNullable<CustomResourceDefinition['status']>['conditions']>[number];
type Names = CustomResourceDefinition['spec']['names'];

export interface CrdControllerOptions {
  storage: Storage;
  api: ApiHandler;
  served: ServedCustomResources;
  clock: Clock;
  log?: Logger;
}

export class CrdController {
  private readonly dirty = new Set<string>();
  private running = false;
  private watcher: StorageWatcher | undefined;
  private stopped = false;
  private readonly timers = new Set<{ cancel(): void }>();

  constructor(private readonly opts: CrdControllerOptions) {}

  async start(): Promise<void> {
    const listed = await this.opts.storage.list(CRD_PREFIX);
    const names = new Set(listed.items.map((item) => item.object.metadata?.name ?? ''));
    // what an earlier registry of this process served and this storage does not have
    for (const cr of this.opts.served.customResources()) {
      const name = cr.crd.metadata?.name ?? '';
      if (!names.has(name)) this.opts.served.set(name, undefined);
    }
    for (const name of names) this.enqueue(name);
    this.watcher = this.opts.storage.watch(CRD_PREFIX, listed.rv, (ev) => {
      const name = (ev.object ?? ev.prevObject)?.metadata?.name;
      if (name) this.enqueue(name);
      // a CRD's names are checked against its group's others: one going may free another's names
      if (ev.type === 'DELETED') for (const n of this.pendingNames) this.enqueue(n);
    });
    await this.drain();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.stop();
    for (const t of this.timers) t.cancel();
  }

  /** CRDs whose names were refused, retried when another CRD goes */
  private readonly pendingNames = new Set<string>();

  private enqueue(name: string): void {
    if (this.stopped || !name) return;
    this.dirty.add(name);
    void this.drain();
  }

  /** what is queued, one CRD at a time */
  async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.dirty.size && !this.stopped) {
        const name = this.dirty.values().next().value as string;
        this.dirty.delete(name);
        try {
          await this.sync(name);
        } catch (e) {
          this.opts.log?.warn(
            { crd: name, err: (e as Error).message },
            'custom resource definition sync failed',
          );
          this.later(name, RECHECK_MS);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private later(name: string, ms: number): void {
    const t = this.opts.clock.setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(name);
    }, ms);
    this.timers.add(t);
  }

  private async sync(name: string): Promise<void> {
    const found = await this.opts.storage.get(`${CRD_PREFIX}${name}`);
    if (!found) {
      this.pendingNames.delete(name);
      this.opts.served.set(name, undefined);
      return;
    }
    const crd = found.object as unknown as CustomResourceDefinition;
    if (crd.metadata?.deletionTimestamp) {
      // keep serving (reads, deletes) while the objects go; creates are refused by the store
      if (crdCondition(crd, 'Established')?.status === 'True')
        this.opts.served.set(name, new CustomResource(crd));
      await this.finalize(crd);
      return;
    }
    const updated = await this.nameAndEstablish(crd);
    if (updated === undefined) return; // the status write lost a race: the watch brings the CRD back
    if (crdCondition(updated, 'Established')?.status === 'True') {
      this.opts.served.set(name, new CustomResource(updated));
    } else {
      this.opts.served.set(name, undefined);
    }
  }

  // ---------------------------------------------------------------- naming and establishing

  private async others(crd: CustomResourceDefinition): Promise<CustomResourceDefinition[]> {
    const listed = await this.opts.storage.list(CRD_PREFIX);
    return listed.items
      .map((i) => i.object as unknown as CustomResourceDefinition)
      .filter((c) => c.spec?.group === crd.spec.group && c.metadata?.name !== crd.metadata?.name);
  }

  /** upstream's naming controller calculateNamesAndConditions, then the establishing controller's step */
  private async nameAndEstablish(
    crd: CustomResourceDefinition,
  ): Promise<CustomResourceDefinition | undefined> {
    const others = await this.others(crd);
    const allResources = new Set<string>();
    const allKinds = new Set<string>();
    for (const o of others) {
      const a = o.status?.acceptedNames;
      if (!a) continue;
      for (const n of [a.plural, a.singular ?? '', ...(a.shortNames ?? [])]) if (n) allResources.add(n);
      for (const n of [a.kind, a.listKind ?? '']) if (n) allKinds.add(n);
    }
    const requested = crd.spec.names;
    const accepted: Partial<Names> = crd.status?.acceptedNames ?? {};
    const next: Partial<Names> = {};
    let conflict: { reason: string; message: string } | undefined;
    const refuse = (reason: string, message: string): void => {
      conflict ??= { reason, message };
    };
    if (requested.plural !== accepted.plural && allResources.has(requested.plural)) {
      refuse('PluralConflict', `"${requested.plural}" is already in use`);
      next.plural = accepted.plural ?? '';
    } else next.plural = requested.plural;
    const singular = requested.singular ?? '';
    if (singular && singular !== accepted.singular && allResources.has(singular)) {
      refuse('SingularConflict', `"${singular}" is already in use`);
      if (accepted.singular) next.singular = accepted.singular;
    } else if (singular) next.singular = singular;
    const taken = (requested.shortNames ?? []).find(
      (s) => !(accepted.shortNames ?? []).includes(s) && allResources.has(s),
    );
    if (taken) {
      refuse('ShortNamesConflict', `"${taken}" is already in use`);
      if (accepted.shortNames) next.shortNames = accepted.shortNames;
    } else if (requested.shortNames) next.shortNames = requested.shortNames;
    if (requested.kind !== accepted.kind && allKinds.has(requested.kind)) {
      refuse('KindConflict', `"${requested.kind}" is already in use`);
      next.kind = accepted.kind ?? '';
    } else next.kind = requested.kind;
    const listKind = requested.listKind ?? `${requested.kind}List`;
    if (listKind !== accepted.listKind && allKinds.has(listKind)) {
      refuse('ListKindConflict', `"${listKind}" is already in use`);
      if (accepted.listKind) next.listKind = accepted.listKind;
    } else next.listKind = listKind;
    if (requested.categories) next.categories = requested.categories;
    if (conflict) this.pendingNames.add(crd.metadata!.name!);
    else this.pendingNames.delete(crd.metadata!.name!);

    const wasEstablished = crdCondition(crd, 'Established')?.status === 'True';
    const namesAccepted: Omit<Condition, 'lastTransitionTime'> = conflict
      ? { type: 'NamesAccepted', status: 'False', ...conflict }
      : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
    const established: Omit<Condition, 'lastTransitionTime'> =
      wasEstablished || !conflict
        ? {
            type: 'Established',
            status: 'True',
            reason: 'InitialNamesAccepted',
            message: 'the initial names have been accepted',
          }
        : {
            type: 'Established',
            status: 'False',
            reason: 'NotAccepted',
            message: 'not all names are accepted',
          };
    const status = { ...(crd.status ?? {}) };
    status.acceptedNames = next as Names;
    status.conditions = this.withConditions(crd.status?.conditions ?? [], [namesAccepted, established]);
    if (deepEqual(status, crd.status)) return crd;
    return this.writeStatus(crd, status);
  }

  /** set conditions as upstream's SetCRDCondition: lastTransitionTime moves only with the status */
  private withConditions(current: Condition[], set: Omit<Condition, 'lastTransitionTime'>[]): Condition[] {
    const out = current.map((c) => ({ ...c }));
    const now = rfc3339(this.opts.clock.now());
    for (const c of set) {
      const i = out.findIndex((o) => o.type === c.type);
      if (i < 0) out.push({ ...c, lastTransitionTime: now });
      else {
        const old = out[i];
        if (old.status === c.status && old.reason === c.reason && old.message === c.message) continue;
        out[i] = {
          ...c,
          lastTransitionTime: old.status === c.status ? (old.lastTransitionTime ?? now) : now,
        };
      }
    }
    return out;
  }

  private async writeStatus(
    crd: CustomResourceDefinition,
    status: NonNullable<CustomResourceDefinition['status']>,
  ): Promise<CustomResourceDefinition | undefined> {
    try {
      const r = await this.opts.api.handle(
        // the handler takes its body over (decoding prunes in place): a copy of the stored, frozen object
        this.crdRequest('update', crd.metadata!.name!, 'status', deepCopy({ ...crd, status })),
      );
      return r.body as CustomResourceDefinition;
    } catch (e) {
      if (e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'NotFound')) return undefined;
      throw e;
    }
  }

  private crdRequest(
    verb: ApiRequest['verb'],
    name: string,
    subresource?: string,
    body?: unknown,
  ): ApiRequest {
    return {
      verb,
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
      name,
      ...(subresource ? { subresource } : {}),
      ...(body !== undefined ? { body } : {}),
      options: {},
      user: SYSTEM,
    };
  }

  // ---------------------------------------------------------------- finalizer

  /** upstream's CRDFinalizer.sync */
  private async finalize(crd: CustomResourceDefinition): Promise<void> {
    if (!(crd.metadata?.finalizers ?? []).includes(CLEANUP_FINALIZER)) return;
    const name = crd.metadata!.name!;
    let condition: Omit<Condition, 'lastTransitionTime'>;
    if (crdCondition(crd, 'Established')?.status === 'True') {
      const cr = this.opts.served.byName(name) ?? new CustomResource(crd);
      const remaining = await this.deleteInstances(cr);
      if (remaining > 0) {
        const status = {
          ...(crd.status ?? {}),
          conditions: this.withConditions(crd.status?.conditions ?? [], [
            {
              type: 'Terminating',
              status: 'True',
              reason: 'InstanceDeletionCheck',
              message: `could not confirm zero CustomResources remaining: ${remaining} remaining`,
            },
          ]),
        } as NonNullable<CustomResourceDefinition['status']>;
        if (!deepEqual(status, crd.status)) await this.writeStatus(crd, status);
        this.later(name, RECHECK_MS);
        return;
      }
      condition = {
        type: 'Terminating',
        status: 'False',
        reason: 'InstanceDeletionCompleted',
        message: 'removed all instances',
      };
    } else {
      condition = {
        type: 'Terminating',
        status: 'False',
        reason: 'NeverEstablished',
        message: 'resource was never established',
      };
    }
    const status = {
      ...(crd.status ?? {}),
      conditions: this.withConditions(crd.status?.conditions ?? [], [condition]),
    } as NonNullable<CustomResourceDefinition['status']>;
    const written = await this.writeStatus(crd, status);
    if (!written) return;
    const finalizers = (written.metadata?.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
    try {
      await this.opts.api.handle({
        ...this.crdRequest('patch', name, undefined, {
          metadata: { finalizers, resourceVersion: written.metadata?.resourceVersion },
        }),
        patchType: 'merge',
      });
    } catch (e) {
      if (!(e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'NotFound'))) throw e;
    }
  }

  /** delete every object of the resource through the API; returns how many are left (their own finalizers) */
  private async deleteInstances(cr: CustomResource): Promise<number> {
    const base = {
      group: cr.ri.group,
      version: cr.storageVersion,
      resource: cr.ri.resource,
      options: {},
      user: SYSTEM,
    };
    const list = async (): Promise<KubeObject[]> =>
      ((await this.opts.api.handle({ ...base, verb: 'list' })).body as { items: KubeObject[] }).items;
    const items = await list();
    const namespaces = new Set(items.map((i) => i.metadata?.namespace));
    for (const ns of namespaces) {
      await this.opts.api.handle({ ...base, verb: 'deletecollection', ...(ns ? { namespace: ns } : {}) });
    }
    return (await list()).length;
  }
}
