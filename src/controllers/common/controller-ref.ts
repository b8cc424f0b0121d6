// ControllerRefManager: adopt orphans that match an owner's selector, release owned objects that no longer match.
import type { LabelSelector, OwnerReference } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../api/errors.js';
import type { ObjectWithMeta, ResourceClient } from '../../client/index.js';
import { selectorMatches } from './selectors.js';

export function getControllerOf(obj: ObjectWithMeta): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** metav1.NewControllerRef: controller=true, blockOwnerDeletion=true */
export function newControllerRef(owner: ObjectWithMeta, apiVersion: string, kind: string): OwnerReference {
  return {
    apiVersion,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isNotFound(err: unknown): boolean {
  return ApiError.isApiError(err) && err.code === 404;
}

export interface ClaimOptions<T extends ObjectWithMeta> {
  owner: ObjectWithMeta;
  ownerApiVersion: string;
  ownerKind: string;
  selector: LabelSelector | undefined;
  /** candidates from the cache (never mutated) */
  objects: readonly T[];
  client: ResourceClient<T>;
  /**
   * upstream's RecheckDeletionTimestamp: a fresh read of the owner before the first adoption, so a
   * deleted-and-recreated owner (new uid) or one being deleted adopts nothing. Returns false to refuse.
   */
  canAdopt: () => Promise<boolean>;
}

/**
 * Returns the objects the owner controls after adopting and releasing (upstream ClaimObjects). Adoption
 * and release are updates at the cached resourceVersion: a conflict fails the sync, which retries.
 */
export async function claimObjects<T extends ObjectWithMeta>(opts: ClaimOptions<T>): Promise<T[]> {
  const { owner, selector } = opts;
  const ownerUid = owner.metadata?.uid;
  const ownerDeleting = !!owner.metadata?.deletionTimestamp;
  let adoptable: boolean | undefined;
  const claimed: T[] = [];
  const errors: unknown[] = [];
  for (const obj of opts.objects) {
    const ref = getControllerOf(obj);
    const matches = selectorMatches(selector, obj.metadata?.labels);
    if (ref) {
      if (ref.uid !== ownerUid) continue;
      if (matches || ownerDeleting) {
        // an owner being deleted keeps what it has rather than releasing it to be re-adopted
        claimed.push(obj);
        continue;
      }
      try {
        await release(opts, obj);
      } catch (err) {
        if (!isNotFound(err)) errors.push(err);
      }
      continue;
    }
    if (!matches || ownerDeleting || obj.metadata?.deletionTimestamp) continue;
    adoptable ??= await opts.canAdopt();
    if (!adoptable) continue;
    try {
      claimed.push(await adopt(opts, obj));
    } catch (err) {
      if (!isNotFound(err)) errors.push(err);
    }
  }
  if (errors.length) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  return claimed;
}

async function adopt<T extends ObjectWithMeta>(opts: ClaimOptions<T>, obj: T): Promise<T> {
  const copy = structuredClone(obj);
  const meta = (copy.metadata ??= {});
  meta.ownerReferences = [
    ...(meta.ownerReferences ?? []).filter((r) => r.uid !== opts.owner.metadata?.uid),
    newControllerRef(opts.owner, opts.ownerApiVersion, opts.ownerKind),
  ];
  return opts.client.update(copy);
}

async function release<T extends ObjectWithMeta>(opts: ClaimOptions<T>, obj: T): Promise<void> {
  const copy = structuredClone(obj);
  const meta = (copy.metadata ??= {});
  meta.ownerReferences = (meta.ownerReferences ?? []).filter((r) => r.uid !== opts.owner.metadata?.uid);
  if (meta.ownerReferences.length === 0) delete meta.ownerReferences;
  await opts.client.update(copy);
}
