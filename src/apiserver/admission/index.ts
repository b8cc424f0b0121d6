// The admission plugins the apiserver enables, in upstream's order (kube-apiserver's RecommendedPluginOrder,
// restricted to the plugins kubemu has). Add a plugin by writing src/apiserver/admission/<plugin>.ts against
// ./interface.ts and listing its factory here at its place in upstream's order.
import type { Storage } from '../storage/storage.js';
import { DefaultTolerationSeconds } from './default-toleration-seconds.js';
import { AdmissionChain, type AdmissionDeps, type AdmissionPlugin } from './interface.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';
import { ServiceAccountAdmission } from './service-account.js';

export * from './interface.js';

export function defaultAdmissionPlugins(deps: AdmissionDeps & { storage: Storage }): AdmissionPlugin[] {
  return [
    new NamespaceLifecycle(deps.storage),
    // --- admission plugins (#18): add yours in upstream's order (LimitRanger before ServiceAccount, Priority, …) ---
    new ServiceAccountAdmission(),
    new DefaultTolerationSeconds(deps.notReadyTolerationSeconds),
    // --- admission plugins (#18): DefaultStorageClass, DefaultIngressClass, …; ResourceQuota last, as upstream ---
  ];
}

export function defaultAdmissionChain(deps: AdmissionDeps & { storage: Storage }): AdmissionChain {
  return new AdmissionChain(defaultAdmissionPlugins(deps));
}
