// NodeRestriction admission (upstream plugin/pkg/admission/noderestriction): what the Node authorizer lets a kubelet
// write, narrowed to its own objects — its Node and Lease, the pods bound to it (status, delete, eviction, mirror
// pods) and tokens bound to those pods. Requests by anyone but a node pass untouched.
import type { KubeObject } from '../../api/request.js';
import { NODE_LEASE_NAMESPACE, nodeIdentity } from '../auth/node/node-authorizer.js';
import {
  admissionForbidden,
  type AdmissionAttributes,
  type AdmissionPlugin,
  type AdmissionStore,
} from './interface.js';

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/** labels a node may not set on itself (upstream's node-restriction.kubernetes.io/ prefix) */
const RESTRICTED_LABEL_PREFIX = 'node-restriction.kubernetes.io/';

const nodeNameOf = (pod: KubeObject | undefined): string =>
  (pod?.['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '';

async function admitPod(node: string, a: AdmissionAttributes, store: AdmissionStore): Promise<void> {
  switch (a.subresource) {
    case '': {
      if (a.operation === 'CREATE') {
        const pod = a.object;
        if (pod?.metadata?.annotations?.[MIRROR_POD_ANNOTATION] === undefined)
          throw admissionForbidden(
            a,
            `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`,
          );
        if (nodeNameOf(pod) !== node)
          throw admissionForbidden(a, `node "${node}" can only create pods with spec.nodeName set to itself`);
        return;
      }
      if (a.operation === 'DELETE') {
        const existing = a.oldObject ?? (await store.get('', 'pods', a.namespace, a.name));
        if (existing && nodeNameOf(existing) !== node)
          throw admissionForbidden(a, `node "${node}" can only delete pods with spec.nodeName set to itself`);
      }
      return;
    }
    case 'status': {
      if (a.operation !== 'UPDATE') return;
      const existing = a.oldObject ?? (await store.get('', 'pods', a.namespace, a.name));
      if (nodeNameOf(existing) !== node)
        throw admissionForbidden(
          a,
          `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
        );
      return;
    }
    case 'eviction': {
      const existing = await store.get('', 'pods', a.namespace, a.name);
      if (existing && nodeNameOf(existing) !== node)
        throw admissionForbidden(a, `node "${node}" can only evict pods with spec.nodeName set to itself`);
      return;
    }
    default:
      return;
  }
}

function labelsChanged(before: Record<string, string>, after: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => k.startsWith(RESTRICTED_LABEL_PREFIX) && before[k] !== after[k]).sort();
}

function admitNode(node: string, a: AdmissionAttributes): void {
  const requested = a.name || (a.object?.metadata?.name ?? '');
  if (requested !== node)
    throw admissionForbidden(a, `node "${node}" is not allowed to modify node "${requested}"`);
  if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
  const before = a.oldObject?.metadata?.labels ?? {};
  const after = a.object?.metadata?.labels ?? {};
  const forbidden = labelsChanged(a.operation === 'CREATE' ? {} : before, after);
  if (forbidden.length)
    throw admissionForbidden(a, `is not allowed to modify labels: ${forbidden.join(', ')}`);
  if (a.operation === 'UPDATE' && a.subresource === '') {
    const taints = (o: KubeObject | undefined) =>
      JSON.stringify((o?.['spec'] as { taints?: unknown } | undefined)?.taints ?? []);
    if (taints(a.oldObject) !== taints(a.object))
      throw admissionForbidden(a, 'node is not allowed to modify taints');
  }
}

async function admitToken(node: string, a: AdmissionAttributes, store: AdmissionStore): Promise<void> {
  if (a.operation !== 'CREATE' || a.subresource !== 'token') return;
  const ref = (
    a.object?.['spec'] as
      { boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string } } | undefined
  )?.boundObjectRef;
  if (!ref || ref.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name)
    throw admissionForbidden(a, 'node requested token not bound to a pod');
  if (!ref.uid) throw admissionForbidden(a, 'node requested token with a pod binding without a uid');
  const pod = await store.get('', 'pods', a.namespace, ref.name);
  if (!pod) throw admissionForbidden(a, `pods "${ref.name}" not found`);
  if (pod.metadata?.uid !== ref.uid)
    throw admissionForbidden(
      a,
      `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
    );
  if (nodeNameOf(pod) !== node)
    throw admissionForbidden(a, 'node requested token bound to a pod scheduled on a different node');
}

function admitLease(node: string, a: AdmissionAttributes): void {
  if (a.operation !== 'CREATE' || a.namespace !== NODE_LEASE_NAMESPACE) return;
  if ((a.object?.metadata?.name ?? a.name) !== node)
    throw admissionForbidden(a, 'can only access node lease with the same name as the requesting node');
}

export const nodeRestrictionPlugin: AdmissionPlugin = {
  name: 'NodeRestriction',
  async validate(a, store) {
    const node = nodeIdentity(a.user);
    if (node === undefined) return;
    if (node === '') throw admissionForbidden(a, `could not determine node from user "${a.user.username}"`);
    const { group, resource } = a.resource;
    if (group === '' && resource === 'pods') return admitPod(node, a, store);
    if (group === '' && resource === 'nodes') return admitNode(node, a);
    if (group === '' && resource === 'serviceaccounts') return admitToken(node, a, store);
    if (group === 'coordination.k8s.io' && resource === 'leases') return admitLease(node, a);
  },
};
