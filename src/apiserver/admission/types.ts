// The admission plugin interface (upstream's k8s.io/apiserver/pkg/admission): attributes of a request, a
// mutating admit() and a validating validate(), and the read/write access plugins have to the cluster's objects.
import { ApiError } from '../../api/errors.js';
import type { KubeObject, UserInfo } from '../../api/request.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** admission.Attributes */
export interface AdmissionAttributes {
  operation: Operation;
  group: string;
  version: string;
  kind: string;
  /** plural, e.g. `pods` */
  resource: string;
  /** '' for the main resource, else `status`, `scale`, … */
  subresource: string;
  /** '' for cluster-scoped objects */
  namespace: string;
  name: string;
  /** the new object (CREATE, UPDATE); mutating plugins change it in place */
  object?: KubeObject;
  /** the stored object (UPDATE, DELETE) */
  oldObject?: KubeObject;
  dryRun: boolean;
  userInfo: UserInfo;
  /** Warning headers for the client (upstream's warning.AddWarning) */
  warnings: string[];
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
  /** mutating admission (admission.MutationInterface); may change attrs.object */
  admit?(attrs: AdmissionAttributes, store: AdmissionStore): Promise<void> | void;
  /** validating admission (admission.ValidationInterface); must not change attrs.object */
  validate?(attrs: AdmissionAttributes, store: AdmissionStore): Promise<void> | void;
}

/** `pods` / `ingresses.networking.k8s.io`, as upstream's messages name a resource */
export function qualifiedResource(attrs: Pick<AdmissionAttributes, 'group' | 'resource'>): string {
  return attrs.group ? `${attrs.resource}.${attrs.group}` : attrs.resource;
}

/** admission.NewForbidden: `pods "x" is forbidden: <why>` */
export function forbidden(attrs: AdmissionAttributes, why: string): ApiError {
  const name = attrs.name || (attrs.object?.metadata?.name ?? '');
  return new ApiError('Forbidden', `${qualifiedResource(attrs)} "${name}" is forbidden: ${why}`, {
    name,
    kind: attrs.resource,
    ...(attrs.group ? { group: attrs.group } : {}),
  });
}

/** is this request about the main resource of core/v1 `resource`? */
export function isCore(attrs: AdmissionAttributes, resource: string): boolean {
  return attrs.group === '' && attrs.resource === resource && attrs.subresource === '';
}
