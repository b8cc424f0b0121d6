// Admission: the plugins every write passes through after decoding and before storage, as upstream's
// k8s.io/apiserver/pkg/admission (Attributes, MutationInterface.Admit, ValidationInterface.Validate).
//
// How to write a plugin (one file per plugin in src/apiserver/admission/, listed in ./index.ts):
//
//   export class AlwaysPullImages implements AdmissionPlugin {
//     readonly name = 'AlwaysPullImages';
//     admit(a: AdmissionAttributes, store: AdmissionStore): void {
//       if (a.operation !== 'CREATE' || !isCoreResource(a, 'pods') || a.subresource) return;
//       for (const c of (a.object!['spec'] as PodSpec).containers) c.imagePullPolicy = 'Always';
//     }
//   }
//
// - `admit` (mutating) may change `a.object` in place; `validate` must not change anything. Either may throw
//   an ApiError to refuse the request; use `admissionForbidden(a, why)` for upstream's 403
//   `<resource> "<name>" is forbidden: <why>`.
// - Order (the store's, as upstream's handlers): CREATE: decode + defaults → system fields (uid, the name from
//   generateName) → every plugin's `admit` → the strategy's prepare/validate → every plugin's `validate` →
//   allocate + store. UPDATE/patch (each try of the
//   guaranteed-update loop): the new object is computed → `admit` → strategy → `validate` → store. DELETE:
//   `admit` then `validate`, with `oldObject` the stored object and no `object`. Subresources: UPDATE of status
//   (subresource 'status', the whole objects) and finalize; UPDATE of scale, CREATE of pods/binding and
//   pods/eviction with the Scale/Binding/Eviction as `object` (`validate` only). CONNECT is upstream's operation
//   for pods/exec, attach and portforward, which kubemu does not serve yet: no request has it today.
// - Plugins run for dry-run requests too (`a.dryRun`): a plugin with side effects (quota usage, say) must
//   skip them when `dryRun` is set.
// - Plugins read and write other objects through the `store` both methods get: storage itself, below admission
//   (as upstream's plugins read informers' caches and write through a client). `AdmissionDeps.api`, the registry
//   (requests from a plugin go through admission again, like upstream's loopback client), is there for factories.
// - A plugin's warnings for the client (upstream's warning.AddWarning) go to `a.warnings`.
// - Objects are in their storage version (e.g. events.k8s.io Events are core Events), as upstream's
//   internal objects; `kind`/`resource` name what the client asked for.
import { ApiError } from '../../api/errors.js';
import type { ApiHandler, KubeObject, RequestOptions, UserInfo } from '../../api/request.js';
import type { Clock } from '../../util/clock.js';
import type { Authorizer } from '../auth/authorizer.js';

/** upstream's admission.Operation */
export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** upstream's admission.Attributes */
export interface AdmissionAttributes {
  operation: AdmissionOperation;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  /** '' for the main resource, else e.g. 'status', 'scale', 'binding', 'eviction', 'exec' */
  subresource: string;
  /** '' for cluster-scoped objects */
  namespace: string;
  /** the object's name (a create with generateName gets its generated name before admission) */
  name: string;
  /** the new object (CREATE, UPDATE); `admit` may mutate it */
  object?: KubeObject;
  /** the stored object (UPDATE, DELETE) — never mutate */
  oldObject?: KubeObject;
  dryRun: boolean;
  user: UserInfo;
  /** the request's options (CreateOptions/UpdateOptions/DeleteOptions fields) */
  options: RequestOptions;
  /** Warning headers for the client (upstream's warning.AddWarning) */
  warnings: string[];
  /**
   * upstream's Attributes.AddAnnotation: audit annotations (ValidatingAdmissionPolicy's auditAnnotations and Audit
   * action, webhooks' auditAnnotations). Collected here; kubemu writes no audit log yet.
   */
  auditAnnotations?: Record<string, string>;
}

/** What plugins may read and write: the registry's storage, below admission (as upstream's informers and clients). */
export interface AdmissionStore {
  get(group: string, resource: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  list(group: string, resource: string, namespace: string): Promise<KubeObject[]>;
  /**
   * read-modify-write of one object with conflict retries; `mutate` returns the new object or undefined to
   * write nothing. Resolves to what was written (or undefined).
   */
  update(
    group: string,
    resource: string,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject | undefined,
  ): Promise<KubeObject | undefined>;
}

export interface AdmissionPlugin {
  /** upstream's plugin name, as `--enable-admission-plugins` spells it */
  readonly name: string;
  /** mutating phase (upstream's MutationInterface); may change `a.object` */
  admit?(a: AdmissionAttributes, store: AdmissionStore): void | Promise<void>;
  /** validating phase (upstream's ValidationInterface); must not change anything */
  validate?(a: AdmissionAttributes, store: AdmissionStore): void | Promise<void>;
}

/** What plugin factories get from the apiserver. */
export interface AdmissionDeps {
  /** the registry: read (or write) other objects as a client would */
  api: ApiHandler;
  clock: Clock;
  /** DefaultTolerationSeconds: seconds a pod tolerates a not-ready/unreachable node (upstream 300) */
  notReadyTolerationSeconds: number;
  /** the apiserver's authorizer (the certificate plugins ask it about `signers`); unset: everything allowed */
  authorizer?: () => Authorizer;
}

export type AdmissionPluginFactory = (deps: AdmissionDeps) => AdmissionPlugin;

/** The enabled plugins in order; the store calls `admit` then `validate` (upstream's chainAdmissionHandler). */
export class AdmissionChain {
  constructor(
    readonly plugins: readonly AdmissionPlugin[],
    private readonly store: AdmissionStore,
  ) {}

  // a plugin that answers synchronously costs no extra turn of the microtask queue (every write calls these)
  async admit(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) {
      const pending = p.admit?.(a, this.store);
      if (pending) await pending;
    }
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) {
      const pending = p.validate?.(a, this.store);
      if (pending) await pending;
    }
  }
}

/** the attributes name a core ('' group) resource, e.g. isCoreResource(a, 'pods') */
export function isCoreResource(a: AdmissionAttributes, resource: string): boolean {
  return a.resource.group === '' && a.resource.resource === resource;
}

/** the main resource (no subresource) of core/v1 `resource` */
export function isCore(a: AdmissionAttributes, resource: string): boolean {
  return isCoreResource(a, resource) && a.subresource === '';
}

/** `pods` / `ingresses.networking.k8s.io`, as upstream's messages name a resource */
export function qualifiedResource(a: AdmissionAttributes): string {
  const { group, resource } = a.resource;
  return group ? `${resource}.${group}` : resource;
}

/** upstream's admission.NewForbidden: 403 `<resource>[.<group>] "<name>" is forbidden: <why>` */
export function admissionForbidden(
  a: AdmissionAttributes,
  why: string,
  causes?: { reason: string; message: string; field: string }[],
): ApiError {
  const { group, resource } = a.resource;
  const name = a.name || (a.object?.metadata?.name ?? '');
  return new ApiError('Forbidden', `${qualifiedResource(a)} "${name}" is forbidden: ${why}`, {
    name,
    kind: resource,
    ...(group ? { group } : {}),
    ...(causes ? { causes } : {}),
  });
}
