// Which pods back a Service and on which ports (upstream endpointutil / podutil.FindPort), shared by the Endpoints and EndpointSlice controllers.
import type { Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Store } from '../../client/index.js';
import { NAMESPACE_INDEX } from '../common/informers.js';
import { isPodReady } from '../common/pods.js';

export { isPodReady };

/**
 * A Service's selector as the controllers use it: undefined when the Service has none (or an empty one,
 * which upstream's storage round-trip turns into nil) — such Services get no managed endpoints.
 */
export function serviceSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  return sel && Object.keys(sel).length > 0 ? sel : undefined;
}

export function selectorMatchesLabels(
  selector: Record<string, string>,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

/** the pods of the Service's namespace its selector matches, from the cache */
export function podsForService(svc: Service, pods: Store<Pod>): Pod[] {
  const selector = serviceSelector(svc);
  if (!selector) return [];
  return pods
    .byIndex(NAMESPACE_INDEX, svc.metadata?.namespace ?? '')
    .filter((p) => selectorMatchesLabels(selector, p.metadata?.labels));
}

/** keys of the Services (of the pod's namespace) whose selectors match any of the label sets */
export function servicesForPodLabels(
  namespace: string,
  labelSets: (Readonly<Record<string, string>> | undefined)[],
  services: Store<Service>,
): string[] {
  const out: string[] = [];
  for (const svc of services.byIndex(NAMESPACE_INDEX, namespace)) {
    const selector = serviceSelector(svc);
    if (!selector) continue;
    if (labelSets.some((labels) => selectorMatchesLabels(selector, labels)))
      out.push(`${namespace}/${svc.metadata?.name ?? ''}`);
  }
  return out;
}

function isPodTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
}

/** upstream ShouldPodBeInEndpoints: not terminal, has an IP, and (unless allowed) not terminating */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !pod.status?.podIPs?.length) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** the pod's IPv4 address (kubemu is single-stack) */
export function podIPv4(pod: Pod): string | undefined {
  return pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip;
}

/**
 * podutil.FindPort: a numeric targetPort as is; a named one is looked up among the pod's container ports
 * with the same protocol (and restartable init containers', i.e. sidecars). undefined when not found.
 */
export function findPort(pod: Pod, svcPort: ServicePort): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  const protocol = svcPort.protocol ?? 'TCP';
  const containers = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'),
  ];
  for (const c of containers)
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  return undefined;
}

/** endpointutil.ShouldSetHostname: the pod names this Service as its subdomain */
export function shouldSetHostname(pod: Pod, svc: Service): boolean {
  return (
    !!pod.spec?.hostname &&
    pod.spec.subdomain === svc.metadata?.name &&
    pod.metadata?.namespace === svc.metadata?.namespace
  );
}

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}
