// core/v1 defaulting, as upstream's pkg/apis/core/v1/defaults.go (and the generated defaulters that walk into
// nested structs): pods and pod templates, services, endpoints, namespaces, nodes, secrets.
import type {
  Container,
  ContainerPort,
  EndpointPort,
  Endpoints,
  EphemeralContainer,
  Namespace,
  Node,
  ObjectFieldSelector,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Secret,
  Service,
  ServiceStatus,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { formatQuantity, parseQuantity, roundUp } from '../schema/quantity.js';

/** SetDefaults_Pod: requests default to limits (Pods only, not templates), then the PodSpec defaults. */
export function defaultPod(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] });
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const limits = c.resources?.limits;
    if (limits) {
      const requests = (c.resources!.requests ??= {});
      for (const [k, v] of Object.entries(limits)) if (!(k in requests)) requests[k] = v;
    }
  }
  if (spec.enableServiceLinks === undefined) spec.enableServiceLinks = true;
  if (spec.hostNetwork) {
    // defaultHostNetworkPorts: with the host's network, the host port is the container port
    for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
      for (const p of c.ports ?? []) if (p.hostPort === undefined) p.hostPort = p.containerPort;
    }
  }
  defaultPodSpec(spec);
  // priority and preemptionPolicy come from the Priority admission plugin (src/apiserver/admission/priority.ts)
}

/** the pod template of a Deployment, ReplicaSet, …: PodSpec defaults, and metadata that Go always prints */
export function defaultPodTemplate(template: PodTemplateSpec | undefined): void {
  if (!template) return;
  template.metadata ??= {};
  // ObjectMeta.creationTimestamp is a non-pointer metav1.Time: upstream always serialises it, as null
  if (!('creationTimestamp' in template.metadata))
    (template.metadata as Record<string, unknown>).creationTimestamp = null;
  defaultPodSpec((template.spec ??= { containers: [] }));
}

/** SetDefaults_PodSpec plus the nested defaulters (containers, volumes, probes, ports, resources). */
export function defaultPodSpec(spec: PodSpec): void {
  if (!spec.dnsPolicy) spec.dnsPolicy = 'ClusterFirst';
  if (!spec.restartPolicy) spec.restartPolicy = 'Always';
  spec.securityContext ??= {};
  if (spec.terminationGracePeriodSeconds === undefined) spec.terminationGracePeriodSeconds = 30;
  if (!spec.schedulerName) spec.schedulerName = 'default-scheduler';
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) defaultVolume(v);
  if (spec.overhead) defaultResourceList(spec.overhead);
}

/** SetDefaults_Container: imagePullPolicy by tag, termination message, and the nested structs. */
export function defaultContainer(c: Container | EphemeralContainer): void {
  if (!c.imagePullPolicy)
    c.imagePullPolicy = imageTag(c.image ?? '') === 'latest' ? 'Always' : 'IfNotPresent';
  if (!c.terminationMessagePath) c.terminationMessagePath = '/dev/termination-log';
  if (!c.terminationMessagePolicy) c.terminationMessagePolicy = 'File';
  // ResourceRequirements is a non-pointer struct: upstream always prints `resources: {}`
  c.resources ??= {};
  defaultResources(c.resources);
  for (const p of c.ports ?? []) defaultContainerPort(p);
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) if (probe) defaultProbe(probe);
  for (const h of [c.lifecycle?.postStart, c.lifecycle?.preStop]) if (h?.httpGet) defaultHttpGet(h.httpGet);
  for (const e of c.env ?? []) if (e.valueFrom?.fieldRef) defaultFieldRef(e.valueFrom.fieldRef);
}

/** the tag parsers.ParseImageName reports: `latest` when there is neither a tag nor a digest */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) return name.slice(colon + 1);
  return at >= 0 ? '' : 'latest';
}

function defaultContainerPort(p: ContainerPort): void {
  if (!p.protocol) p.protocol = 'TCP';
}

export function defaultProbe(p: Probe): void {
  if (p.timeoutSeconds === undefined || p.timeoutSeconds === 0) p.timeoutSeconds = 1;
  if (p.periodSeconds === undefined || p.periodSeconds === 0) p.periodSeconds = 10;
  if (p.successThreshold === undefined || p.successThreshold === 0) p.successThreshold = 1;
  if (p.failureThreshold === undefined || p.failureThreshold === 0) p.failureThreshold = 3;
  if (p.httpGet) defaultHttpGet(p.httpGet);
  if (p.grpc && p.grpc.service === undefined) p.grpc.service = '';
}

function defaultHttpGet(h: NonNullable<Probe['httpGet']>): void {
  if (!h.path) h.path = '/';
  if (!h.scheme) h.scheme = 'HTTP';
}

function defaultFieldRef(f: ObjectFieldSelector): void {
  if (!f.apiVersion) f.apiVersion = 'v1';
}

function defaultResources(r: ResourceRequirements): void {
  if (r.limits) defaultResourceList(r.limits);
  if (r.requests) defaultResourceList(r.requests);
}

/** SetDefaults_ResourceList: values are rounded up to milli precision */
export function defaultResourceList(list: Record<string, string>): void {
  for (const [k, v] of Object.entries(list)) {
    const q = parseQuantity(v);
    if (q && q.exp < -3) list[k] = formatQuantity(roundUp(q, -3));
  }
}

/** SetDefaults_Volume and the volume sources' defaults (mode 0644, hostPath type "") */
function defaultVolume(v: Volume): void {
  const sources = Object.keys(v).filter((k) => k !== 'name');
  if (sources.length === 0) v.emptyDir = {};
  if (v.secret && v.secret.defaultMode === undefined) v.secret.defaultMode = 0o644;
  if (v.configMap && v.configMap.defaultMode === undefined) v.configMap.defaultMode = 0o644;
  if (v.downwardAPI) {
    if (v.downwardAPI.defaultMode === undefined) v.downwardAPI.defaultMode = 0o644;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) defaultFieldRef(item.fieldRef);
  }
  if (v.projected && v.projected.defaultMode === undefined) v.projected.defaultMode = 0o644;
  if (v.hostPath && v.hostPath.type === undefined) v.hostPath.type = '';
  if (v.projected) {
    for (const s of v.projected.sources ?? []) {
      if (s.serviceAccountToken && s.serviceAccountToken.expirationSeconds === undefined)
        s.serviceAccountToken.expirationSeconds = 3600;
      for (const item of s.downwardAPI?.items ?? []) if (item.fieldRef) defaultFieldRef(item.fieldRef);
    }
  }
}

/** SetDefaults_Service; plus the single-stack IPv4 family fields upstream's service REST sets on create. */
export function defaultService(svc: Service): void {
  const spec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (
    spec.sessionAffinity === 'ClientIP' &&
    spec.sessionAffinityConfig?.clientIP?.timeoutSeconds === undefined
  ) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of spec.ports ?? []) {
    if (!p.protocol) p.protocol = 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && !spec.externalTrafficPolicy) {
    spec.externalTrafficPolicy = 'Cluster';
  }
  if (spec.internalTrafficPolicy === undefined && spec.type !== 'ExternalName')
    spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts === undefined)
    spec.allocateLoadBalancerNodePorts = true;
  if (spec.type !== 'ExternalName') {
    // kubemu clusters are single-stack IPv4, so upstream's REST layer settles these to the same values
    if (!spec.ipFamilyPolicy) spec.ipFamilyPolicy = 'SingleStack';
    if (!spec.ipFamilies || spec.ipFamilies.length === 0) spec.ipFamilies = ['IPv4'];
  }
  // ServiceStatus and its LoadBalancerStatus are non-pointer structs
  const status = ((svc as { status?: ServiceStatus }).status ??= {});
  status.loadBalancer ??= {};
}

export function defaultEndpoints(ep: Endpoints): void {
  for (const subset of ep.subsets ?? []) for (const p of subset.ports ?? []) defaultEndpointPort(p);
}

function defaultEndpointPort(p: EndpointPort): void {
  if (!p.protocol) p.protocol = 'TCP';
}

/** SetDefaults_Namespace (the kubernetes.io/metadata.name label), NamespaceStatus phase, and the finalizer
 *  upstream's namespace strategy adds on create. */
export function defaultNamespace(ns: Namespace): void {
  const name = ns.metadata?.name;
  if (name) {
    const meta = ns.metadata!;
    meta.labels ??= {};
    meta.labels['kubernetes.io/metadata.name'] = name;
  }
  const spec = (ns.spec ??= {});
  spec.finalizers ??= ['kubernetes'];
  const status = (ns.status ??= {});
  if (!status.phase) status.phase = 'Active';
}

/** SetDefaults_NodeStatus: allocatable defaults to capacity */
export function defaultNode(node: Node): void {
  const status = node.status;
  if (status?.capacity && !status.allocatable) status.allocatable = { ...status.capacity };
  for (const list of [status?.capacity, status?.allocatable]) if (list) defaultResourceList(list);
}

export function defaultSecret(secret: Secret): void {
  if (!secret.type) secret.type = 'Opaque';
}
