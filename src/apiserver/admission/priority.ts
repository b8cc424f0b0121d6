// Priority admission (plugin/pkg/admission/priority): a pod's priorityClassName resolves to spec.priority and
// spec.preemptionPolicy (a pod without one gets the globalDefault class, or priority 0); an unknown class is
// refused; only one PriorityClass may be the global default.
import type { KubeObject } from '../../api/request.js';
import {
  admissionForbidden,
  isCore,
  type AdmissionAttributes,
  type AdmissionPlugin,
  type AdmissionStore,
} from './interface.js';

interface PriorityClassLike {
  metadata?: KubeObject['metadata'];
  value?: number;
  globalDefault?: boolean;
  preemptionPolicy?: string;
}

interface PodPrioritySpec {
  priorityClassName?: string;
  priority?: number;
  preemptionPolicy?: string;
}

/** the globalDefault class with the lowest value (upstream's getDefaultPriorityClass) */
async function defaultClass(store: AdmissionStore): Promise<PriorityClassLike | undefined> {
  const classes = (await store.list('scheduling.k8s.io', 'priorityclasses', '')) as PriorityClassLike[];
  let best: PriorityClassLike | undefined;
  for (const pc of classes)
    if (pc.globalDefault && (best === undefined || (pc.value ?? 0) < (best.value ?? 0))) best = pc;
  return best;
}

async function admitPod(attrs: AdmissionAttributes, store: AdmissionStore): Promise<void> {
  const spec = (attrs.object!['spec'] ??= {}) as PodPrioritySpec;
  if (attrs.operation === 'UPDATE') {
    // set on create; an update that leaves them out keeps them (validation refuses changes)
    const old = attrs.oldObject?.['spec'] as PodPrioritySpec | undefined;
    if (spec.priority === undefined && old?.priority !== undefined) spec.priority = old.priority;
    if (spec.preemptionPolicy === undefined && old?.preemptionPolicy !== undefined)
      spec.preemptionPolicy = old.preemptionPolicy;
    return;
  }
  let priority: number;
  let preemptionPolicy: string | undefined;
  if (!spec.priorityClassName) {
    const def = await defaultClass(store);
    if (def) {
      spec.priorityClassName = def.metadata?.name ?? '';
      priority = def.value ?? 0;
      preemptionPolicy = def.preemptionPolicy;
    } else {
      priority = 0;
      preemptionPolicy = 'PreemptLowerPriority';
    }
    if (!spec.priorityClassName) delete spec.priorityClassName;
  } else {
    const pc = (await store.get('scheduling.k8s.io', 'priorityclasses', '', spec.priorityClassName)) as
      PriorityClassLike | undefined;
    if (!pc)
      throw admissionForbidden(attrs, `no PriorityClass with name ${spec.priorityClassName} was found`);
    priority = pc.value ?? 0;
    preemptionPolicy = pc.preemptionPolicy;
  }
  if (spec.priority !== undefined && spec.priority !== priority) {
    throw admissionForbidden(
      attrs,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  }
  spec.priority = priority;
  if (preemptionPolicy !== undefined) {
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== preemptionPolicy) {
      throw admissionForbidden(
        attrs,
        `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${preemptionPolicy} from the given PriorityClass name`,
      );
    }
    spec.preemptionPolicy = preemptionPolicy;
  }
}

export const priorityPlugin: AdmissionPlugin = {
  name: 'Priority',
  async admit(attrs, store) {
    if (attrs.operation === 'DELETE' || !isCore(attrs, 'pods') || !attrs.object) return;
    await admitPod(attrs, store);
  },
  async validate(attrs, store) {
    if (attrs.operation === 'DELETE' || attrs.subresource || !attrs.object) return;
    if (attrs.resource.group !== 'scheduling.k8s.io' || attrs.resource.resource !== 'priorityclasses') return;
    const pc = attrs.object as PriorityClassLike;
    if (!pc.globalDefault) return;
    const def = await defaultClass(store);
    if (!def) return;
    const name = def.metadata?.name ?? '';
    if (attrs.operation === 'CREATE' || name !== attrs.name)
      throw admissionForbidden(
        attrs,
        `PriorityClass ${name} is already marked as default. Only one default can exist`,
      );
  },
};
