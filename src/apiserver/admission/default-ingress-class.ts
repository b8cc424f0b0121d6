// DefaultIngressClass admission (plugin/pkg/admission/network/defaultingressclass): an Ingress created without
// ingressClassName (and without the legacy kubernetes.io/ingress.class annotation) gets the default IngressClass.
import { newestDefault } from './default-storage-class.js';
import type { AdmissionPlugin } from './interface.js';

export const IS_DEFAULT_INGRESS_CLASS = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const defaultIngressClassPlugin: AdmissionPlugin = {
  name: 'DefaultIngressClass',
  async admit(attrs, store) {
    if (attrs.operation !== 'CREATE' || attrs.subresource || !attrs.object) return;
    if (attrs.resource.group !== 'networking.k8s.io' || attrs.resource.resource !== 'ingresses') return;
    const ing = attrs.object;
    const spec = (ing['spec'] ??= {}) as { ingressClassName?: string | null };
    if (spec.ingressClassName != null) return;
    if (ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION] !== undefined) return;
    const classes = await store.list('networking.k8s.io', 'ingressclasses', '');
    const def = newestDefault(classes, [IS_DEFAULT_INGRESS_CLASS]);
    if (def?.metadata?.name) spec.ingressClassName = def.metadata.name;
  },
};
