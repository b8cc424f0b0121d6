// serviceaccounts/token (upstream's TokenREST, pkg/registry/core/serviceaccount/storage/token.go): a TokenRequest
// answered with a signed token bound to the ServiceAccount and, when asked, to a Pod, Secret or Node that must exist
// (with the given uid). A kubelet's request for a pod's projected token (3607 s, the API audiences) gets upstream's
// extension: valid a year, reported after 3607 s; the status still says 3607 s, so the kubelet refreshes on time.
import type { TokenRequest } from 'kubernetes-types/authentication/v1.js';
import { ApiError, errors, fe, type FieldError } from '../../../api/errors.js';
import type { ApiRequest, ApiResult, KubeObject } from '../../../api/request.js';
import { findResource, storageKey } from '../../../api/resources.js';
import { rfc3339 } from '../../../util/objects.js';
import {
  DEFAULT_EXPIRATION_SECONDS,
  EXPIRATION_EXTENSION_SECONDS,
  MAX_EXPIRATION_SECONDS,
  MIN_EXPIRATION_SECONDS,
  WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS,
  type ObjectRef,
} from '../../../api/serviceaccount-claims.js';
import type { TokenIssuer } from '../../auth/serviceaccount/issuer.js';
import type { GenericStore, Target } from '../store.js';
import type { SubresourceHandler } from './index.js';

const GROUP = 'authentication.k8s.io';
const ref = (name: string) => ({
  group: GROUP,
  resource: 'tokenrequests',
  kind: 'TokenRequest',
  kindName: 'TokenRequest',
  name,
});

/** upstream's ValidateTokenRequest */
function validate(spec: TokenRequest['spec']): FieldError[] {
  const errs: FieldError[] = [];
  const seconds = spec.expirationSeconds;
  if (seconds !== undefined && seconds !== null) {
    if (!Number.isInteger(seconds))
      errs.push(fe.invalid('spec.expirationSeconds', seconds, 'must be an integer'));
    else if (seconds < MIN_EXPIRATION_SECONDS)
      errs.push(
        fe.invalid('spec.expirationSeconds', seconds, 'may not specify a duration less than 10 minutes'),
      );
    else if (seconds > MAX_EXPIRATION_SECONDS)
      errs.push({
        type: 'FieldValueTooLong',
        field: 'spec.expirationSeconds',
        value: seconds,
        detail: 'may not specify a duration larger than 2^32 seconds',
      });
  }
  return errs;
}

async function read(store: GenericStore, resource: string, namespace: string | undefined, name: string) {
  const ri = findResource('', resource)!;
  return (await store.storage.get(storageKey(ri, namespace, name)))?.object;
}

const uidOf = (o: KubeObject): string => o.metadata?.uid ?? '';

export function tokenRequest(issuer: () => TokenIssuer | undefined): SubresourceHandler {
  return async (store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> => {
    const tokens = issuer();
    if (!tokens)
      throw errors.methodNotAllowed('the apiserver issues no service account tokens (no signing key)');
    const name = req.name!;
    const namespace = req.namespace ?? '';
    const body = (req.body ?? {}) as TokenRequest;
    if (body.kind !== undefined && body.kind !== 'TokenRequest')
      throw errors.badRequest(
        `the body of the request was in an unknown format: expected TokenRequest, got ${String(body.kind)}`,
      );
    const spec: TokenRequest['spec'] = { ...body.spec };
    const errs = validate(spec);
    if (errs.length) throw errors.invalid(ref(name), errs);
    spec.expirationSeconds ??= DEFAULT_EXPIRATION_SECONDS;
    if (!spec.audiences?.length) spec.audiences = [...tokens.apiAudiences];

    const sa = await read(store, 'serviceaccounts', namespace, name);
    if (!sa) throw errors.notFound(store.ref(t, name));
    let pod: ObjectRef | undefined;
    let secret: ObjectRef | undefined;
    let node: ObjectRef | undefined;
    const bound = spec.boundObjectRef;
    if (bound) {
      const [group, version] = (bound.apiVersion ?? '').includes('/')
        ? bound.apiVersion!.split('/')
        : ['', bound.apiVersion ?? ''];
      let uid: string;
      const objName = bound.name ?? '';
      if (group === '' && bound.kind === 'Pod') {
        const p = await read(store, 'pods', namespace, objName);
        if (!p) throw errors.notFound({ group: '', resource: 'pods', kind: 'Pod', name: objName });
        const podSa = (p['spec'] as { serviceAccountName?: string } | undefined)?.serviceAccountName ?? '';
        if (podSa !== name)
          throw errors.badRequest(
            `cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`,
          );
        uid = uidOf(p);
        pod = { name: objName, uid };
        const nodeName = (p['spec'] as { nodeName?: string } | undefined)?.nodeName;
        if (nodeName) {
          const n = await read(store, 'nodes', undefined, nodeName);
          if (n) node = { name: nodeName, uid: uidOf(n) };
        }
      } else if (group === '' && bound.kind === 'Secret') {
        const s = await read(store, 'secrets', namespace, objName);
        if (!s) throw errors.notFound({ group: '', resource: 'secrets', kind: 'Secret', name: objName });
        uid = uidOf(s);
        secret = { name: objName, uid };
      } else if (group === '' && bound.kind === 'Node') {
        const n = await read(store, 'nodes', undefined, objName);
        if (!n) throw errors.notFound({ group: '', resource: 'nodes', kind: 'Node', name: objName });
        uid = uidOf(n);
        node = { name: objName, uid };
      } else {
        const gvk = `${group ? `${group}/` : '/'}${version}, Kind=${String(bound.kind ?? '')}`;
        throw errors.badRequest(`cannot bind token to object of type ${gvk}`);
      }
      if (bound.uid && bound.uid !== uid)
        throw new ApiError(
          'Conflict',
          `Operation cannot be fulfilled on ${bound.kind}.${group} "${objName}": the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
          { name: objName, kind: bound.kind ?? '' },
        );
    }

    await store.validateAdmission({
      ...store.attributes('CREATE', req, t, { object: { ...body, spec } as unknown as KubeObject }),
      kind: { group: GROUP, version: 'v1', kind: 'TokenRequest' },
    });

    // upstream's --service-account-extend-token-expiration (on by default): a kubelet's pod token lives longer
    let expirationSeconds = spec.expirationSeconds;
    let warnAfterSeconds: number | undefined;
    const kubeAudiences = spec.audiences.every((a) => tokens.apiAudiences.includes(a));
    if (pod && expirationSeconds === WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS && kubeAudiences) {
      warnAfterSeconds = expirationSeconds;
      expirationSeconds = EXPIRATION_EXTENSION_SECONDS;
    }
    const now = store.clock.now();
    const { token } = tokens.issue({
      namespace,
      serviceAccount: { name, uid: uidOf(sa) },
      audiences: spec.audiences,
      expirationSeconds,
      ...(warnAfterSeconds ? { warnAfterSeconds } : {}),
      ...(pod ? { pod } : {}),
      ...(secret ? { secret } : {}),
      ...(node ? { node } : {}),
      now,
    });
    const out = {
      kind: 'TokenRequest',
      apiVersion: `${GROUP}/v1`,
      metadata: { name, namespace, creationTimestamp: null },
      spec,
      status: {
        token,
        expirationTimestamp: rfc3339(Math.floor(now / 1000) * 1000 + spec.expirationSeconds * 1000),
      },
    };
    return { code: 201, body: out as unknown as KubeObject };
  };
}
