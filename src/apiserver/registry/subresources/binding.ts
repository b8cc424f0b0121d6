// pods/binding (upstream's BindingREST): the scheduler assigns a pod to a node — spec.nodeName and the
// PodScheduled condition, once, and never for a pod being deleted.
import { errors, fe } from '../../../api/errors.js';
import type { ApiRequest, ApiResult } from '../../../api/request.js';
import { deepCopy, rfc3339 } from '../../../util/objects.js';
import { meta, type GenericStore, type Target } from '../store.js';

export const CREATED: ApiResult = {
  code: 201,
  body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
};

export function binding(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  const name = req.name!;
  const body = req.body as
    { target?: { kind?: string; name?: string }; metadata?: { name?: string } } | undefined;
  const node = body?.target?.name;
  if (!node) {
    throw errors.invalid({ group: '', resource: 'bindings', kind: 'Binding', kindName: 'Binding', name }, [
      fe.required('target.name'),
    ]);
  }
  const key = store.key(t, req.namespace, name);
  return store.guaranteedUpdate(t, name, key, async (current) => {
    if (!current) throw errors.notFound(store.ref(t, name));
    const pod = current.object;
    if (pod.metadata?.deletionTimestamp) {
      throw errors.conflict(store.ref(t, name), `pod ${name} is being deleted, cannot be assigned to a host`);
    }
    const spec = pod['spec'] as { nodeName?: string };
    if (spec.nodeName)
      throw errors.conflict(store.ref(t, name), `pod ${name} is already assigned to node "${spec.nodeName}"`);
    await store.validateAdmission({
      ...store.attributes('CREATE', req, t, { object: body }),
      kind: { group: '', version: 'v1', kind: 'Binding' },
    });
    const next = deepCopy(pod);
    (next['spec'] as { nodeName?: string }).nodeName = node;
    const status = (next['status'] ??= {}) as {
      conditions?: { type: string; status: string; lastProbeTime?: null; lastTransitionTime?: string }[];
    };
    status.conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    status.conditions.push({
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: rfc3339(store.clock.now()),
    });
    delete meta(next).resourceVersion;
    if (req.options.dryRun) return CREATED;
    await store.writeUpdate(t, key, next, current);
    return CREATED;
  });
}
