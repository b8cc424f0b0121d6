// The scale subresource (upstream's ScaleREST of deployments, replicasets and friends): reads and writes
// spec.replicas through an autoscaling/v1 Scale, in the store's guaranteed-update loop.
import { errors, fe } from '../../../api/errors.js';
import type { ApiRequest, ApiResult, KubeObject } from '../../../api/request.js';
import { applyJsonPatch, applyMergePatch } from '../../../api/patch/index.js';
import { deepCopy, deepEqual, isObject } from '../../../util/objects.js';
import { fromLabelSelector, selectorString } from '../selectors.js';
import { meta, patchPinnedResourceVersion, withoutRV, type GenericStore, type Target } from '../store.js';
import { getPath, setPath, type ScaleSpec } from '../../customresources/definition.js';

/** a custom resource's Scale: replicas and selector where its CRD's scale subresource says (upstream's scaleFromCustomResource) */
function customScaleOf(obj: KubeObject, spec: ScaleSpec): KubeObject {
  const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const selector = spec.labelSelectorPath ? getPath(obj, spec.labelSelectorPath) : undefined;
  return scaleObject(obj, num(getPath(obj, spec.specReplicasPath)), {
    replicas: num(getPath(obj, spec.statusReplicasPath)),
    ...(typeof selector === 'string' ? { selector } : {}),
  });
}

/** an autoscaling/v1 Scale of `obj`: its name, namespace, uid, resourceVersion and creation time */
function scaleObject(
  obj: KubeObject,
  replicas: number,
  status: { replicas: number; selector?: string },
): KubeObject {
  const m = obj.metadata ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas },
    status,
  };
}

export function scaleOfKind(obj: KubeObject, custom?: ScaleSpec): KubeObject {
  if (custom) return customScaleOf(obj, custom);
  const spec = obj['spec'] as
    { replicas?: number; selector?: Parameters<typeof fromLabelSelector>[0] } | undefined;
  const status = obj['status'] as { replicas?: number } | undefined;
  // a ReplicationController's selector is a plain label map, the apps kinds' a LabelSelector
  const selector = selectorString(
    fromLabelSelector(
      obj.kind === 'ReplicationController'
        ? { matchLabels: spec?.selector as Record<string, string> | undefined }
        : spec?.selector,
    ),
  );
  return scaleObject(obj, spec?.replicas ?? 0, { replicas: status?.replicas ?? 0, selector });
}

function patchedScale(req: ApiRequest, scale: KubeObject): unknown {
  switch (req.patchType) {
    case 'json':
      return applyJsonPatch(scale, req.body);
    case 'strategic':
    case 'merge':
    case 'apply':
      return applyMergePatch(scale, req.body);
    default:
      throw errors.unsupportedMediaType(String(req.patchType));
  }
}

export function scaleOf(obj: KubeObject): KubeObject {
  return scaleOfKind(obj);
}

export function scale(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  const name = req.name!;
  const key = store.key(t, req.namespace, name);
  const custom = t.custom?.scaleSpec(t.version!);
  const toScale = (obj: KubeObject): KubeObject => scaleOfKind(obj, custom);
  const replicasOf = (obj: KubeObject): unknown =>
    custom
      ? getPath(obj, custom.specReplicasPath)
      : (obj['spec'] as { replicas?: number } | undefined)?.replicas;
  return store.guaranteedUpdate(t, name, key, async (current) => {
    if (!current) throw errors.notFound(store.ref(t, name));
    // a custom object is scaled in the request's version, whose scale paths apply (converted back to be written)
    const shown = t.custom ? await store.out(t, current.object) : current.object;
    const scale = toScale(shown);
    if (req.verb === 'get') return { code: 200, body: scale };
    const body = req.verb === 'patch' ? patchedScale(req, scale) : req.body;
    if (!isObject(body)) throw errors.badRequest('the body of the request was not a Scale object');
    const b = body as { metadata?: { resourceVersion?: string }; spec?: { replicas?: unknown } };
    const replicas = b.spec?.replicas;
    if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas))) {
      throw errors.badRequest(
        `Scale in version "v1" cannot be handled as a Scale: json: cannot unmarshal ${typeof replicas} into Go struct field ScaleSpec.spec.replicas of type int32`,
      );
    }
    if (typeof replicas === 'number' && replicas < 0) {
      throw errors.invalid(
        { group: 'autoscaling', resource: 'scale', kind: 'Scale', kindName: 'Scale', name },
        [fe.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')],
      );
    }
    // a patch applied to the current Scale carries its resourceVersion: only one the client wrote pins it
    const pinned = req.verb === 'patch' ? patchPinnedResourceVersion(req.body) : b.metadata?.resourceVersion;
    if (pinned && Number(pinned) !== current.rv) throw errors.staleResourceVersion(store.ref(t, name));
    const scaled = deepCopy(shown);
    if (custom) setPath(scaled, custom.specReplicasPath, replicas ?? 0);
    else (scaled['spec'] as { replicas?: number }).replicas = replicas ?? 0;
    // the scale subresource records its writer as upstream does (subresource: scale, f:spec.f:replicas)
    const next = await store.track(req, t, 'scale', shown, scaled);
    const m = meta(next);
    if (t.strategy.tracksGeneration && replicas !== replicasOf(shown)) {
      m.generation = (m.generation ?? 1) + 1;
    }
    delete m.resourceVersion;
    await store.validateAdmission({
      ...store.attributes('UPDATE', req, t, { object: toScale(next), oldObject: scale }),
      kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
    });
    if (deepEqual(withoutRV(next), withoutRV(shown))) return { code: 200, body: scale };
    if (req.options.dryRun) return { code: 200, body: toScale(next) };
    const stored = await store.writeUpdate(t, key, await store.toStorage(t, next), current, pinned);
    return { code: 200, body: toScale(t.custom ? await store.out(t, stored.object) : stored.object) };
  });
}
