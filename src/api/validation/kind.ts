// One kind's validators in the untyped KubeObject form the validation table holds.
import type { FieldError } from '../errors.js';
import type { KubeObject } from '../request.js';

/** what a validator may need to know of the request besides the object */
export interface RequestContext {
  /** the API group the request came through, when a kind is served by more than one (Events: '' or events.k8s.io) */
  requestGroup?: string;
}

export interface KindValidator {
  create(obj: KubeObject, ctx?: RequestContext): FieldError[];
  update(obj: KubeObject, old: KubeObject, ctx?: RequestContext): FieldError[];
  status?(obj: KubeObject, old: KubeObject): FieldError[];
  /** a subresource other than status with its own rules (a CSR's /approval) */
  approval?(obj: KubeObject, old: KubeObject): FieldError[];
  /** a pod's ephemeralcontainers subresource */
  ephemeralContainers?(obj: KubeObject, old: KubeObject): FieldError[];
}

/** adapt typed validators (kubernetes-types views) to KubeObject */
export function kind<T>(
  create: (o: T) => FieldError[],
  update: (o: T, old: T) => FieldError[],
  status?: (o: T, old: T) => FieldError[],
): KindValidator {
  return {
    create: (o) => create(o as unknown as T),
    update: (o, old) => update(o as unknown as T, old as unknown as T),
    ...(status
      ? { status: (o: KubeObject, old: KubeObject) => status(o as unknown as T, old as unknown as T) }
      : {}),
  };
}
