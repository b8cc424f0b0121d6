// pkg/controller/volume/protectionutil: when the pvc-protection and pv-protection controllers act on an object.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

interface WithMeta {
  metadata?: ObjectMeta;
}

/** IsDeletionCandidate: being deleted, and the finalizer is still there */
export function isDeletionCandidate(obj: WithMeta, finalizer: string): boolean {
  return !!obj.metadata?.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(finalizer);
}

/** NeedToAddFinalizer: not being deleted, and the finalizer is missing (an object made before admission added it) */
export function needToAddFinalizer(obj: WithMeta, finalizer: string): boolean {
  return !obj.metadata?.deletionTimestamp && !(obj.metadata?.finalizers ?? []).includes(finalizer);
}

/** a copy of `obj` with `finalizer` added or removed */
export function withFinalizer<T extends WithMeta>(obj: T, finalizer: string, present: boolean): T {
  const copy = structuredClone(obj);
  const rest = (copy.metadata!.finalizers ?? []).filter((f) => f !== finalizer);
  copy.metadata!.finalizers = present ? [...rest, finalizer] : rest;
  return copy;
}
