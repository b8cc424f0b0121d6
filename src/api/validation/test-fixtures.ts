// Test support for validation tests: a manifest goes through what the apiserver does before validating it (strict
// decoding, defaulting, the uid and namespace a create sets), then through validateObject; errors come back as
// upstream's one-line strings (`spec.replicas: Invalid value: -1: must be greater than or equal to 0`).
import { fieldErrorString } from '../errors.js';
import { applyDefaults } from '../defaults/index.js';
import type { KubeObject } from '../request.js';
import { findByKind, parseApiVersion } from '../resources.js';
import { decodeObject, type Gvk } from '../schema/index.js';
import { validateObject } from './index.js';

export const TEST_UID = '00000000-0000-0000-0000-000000000001';

export const gvkOf = (o: { apiVersion: string; kind: string }): Gvk => ({
  ...parseApiVersion(o.apiVersion),
  kind: o.kind,
});

type Manifest = { apiVersion: string; kind: string };

/** decode + defaults + what create sets (uid, namespace), as the apiserver does */
export function prepared(body: unknown, uid = TEST_UID): KubeObject {
  const gvk = gvkOf(body as Manifest);
  const { object } = decodeObject(gvk, body, 'Strict');
  applyDefaults(gvk, object);
  const namespaced = findByKind(gvk.group, gvk.kind)?.namespaced ?? true;
  object.metadata = {
    ...object.metadata,
    uid,
    ...(namespaced ? { namespace: object.metadata?.namespace ?? 'default' } : {}),
  };
  return object;
}

/** the errors a create of `body` meets */
export function createErrors(body: unknown): string[] {
  return validateObject(gvkOf(body as Manifest), prepared(body)).map(fieldErrorString);
}

/** the errors an update meets: `before` created, then changed by `mutate` */
export function updateErrors<T>(before: T, mutate: (o: T) => void): string[] {
  const old = prepared(before);
  const next = structuredClone(old);
  mutate(next as T);
  return validateObject(gvkOf(before as Manifest), next, { old }).map(fieldErrorString);
}

/** the errors a write of the status subresource meets */
export function statusErrors<T>(before: T, mutate: (o: T) => void): string[] {
  const old = prepared(before);
  const next = structuredClone(old);
  mutate(next as T);
  return validateObject(gvkOf(before as Manifest), next, { old, subresource: 'status' }).map(
    fieldErrorString,
  );
}
