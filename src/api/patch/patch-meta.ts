// Strategic-merge-patch metadata: upstream's patchStrategy/patchMergeKey/listType struct tags, and a navigator that
// walks the generated JSON Schemas (definitions.json) to say, for every field of an object, how lists and maps merge.
//
// PATCH_META_TABLE shape (also what the OpenAPI generator reads to emit x-kubernetes-patch-strategy,
// x-kubernetes-patch-merge-key, x-kubernetes-list-type and x-kubernetes-list-map-keys):
//
//   PATCH_META_TABLE[<Go type name>][<json property>] = { patchStrategy?, patchMergeKey?, listType?, listMapKeys? }
//
// Keys are the short Go type names (`PodSpec`, `ObjectMeta`, `ServicePort`), which is also the part after the dot
// of a definitions.json name (`apps/v1.PodSpec` → `PodSpec`): definitions are generated per group-version file,
// so meta/v1 types appear under several prefixes, and no two types with one short name disagree on a tagged field.
// Transcribed from k8s.io/api (core, apps, autoscaling, discovery, networking, policy) and k8s.io/apimachinery
// meta/v1 types.go; `EphemeralContainerCommon` (inlined upstream) is listed under `EphemeralContainer`.
import { loadDefinitions, type JsonSchema } from '../schema/definitions.js';
import { PLATFORM_PATCH_META } from './patch-meta-platform.js';
import { rootKey } from '../schema/compile.js';

/** How one field merges, exactly as upstream's struct tags and list markers say. */
export interface FieldPatchInfo {
  /** `merge`, `replace`, `retainKeys` or `merge,retainKeys` (upstream's tag value, comma-separated) */
  readonly patchStrategy?: string;
  readonly patchMergeKey?: string;
  /** `atomic`, `set` or `map` (+listType) */
  readonly listType?: string;
  readonly listMapKeys?: readonly string[];
}

export const PATCH_META_TABLE: Readonly<Record<string, Readonly<Record<string, FieldPatchInfo>>>> = {
  // apps/v1
  StatefulSetSpec: {
    volumeClaimTemplates: { listType: 'atomic' },
  },
  // apps/v1
  StatefulSetStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // apps/v1
  DeploymentSpec: {
    strategy: { patchStrategy: 'retainKeys' },
  },
  // apps/v1
  DeploymentStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // apps/v1
  DaemonSetStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // apps/v1
  ReplicaSetStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // autoscaling/v2
  HorizontalPodAutoscalerSpec: {
    metrics: { listType: 'atomic' },
  },
  // autoscaling/v2
  HPAScalingRules: {
    policies: { listType: 'atomic' },
  },
  // autoscaling/v2
  HorizontalPodAutoscalerStatus: {
    currentMetrics: { listType: 'atomic' },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // core/v1
  PersistentVolumeSpec: {
    accessModes: { listType: 'atomic' },
    mountOptions: { listType: 'atomic' },
  },
  // core/v1
  PersistentVolumeClaimSpec: {
    accessModes: { listType: 'atomic' },
  },
  // core/v1
  VolumeHealthStatus: {
    healthConditions: {
      patchStrategy: 'merge',
      patchMergeKey: 'status',
      listType: 'map',
      listMapKeys: ['status', 'reason'],
    },
  },
  // core/v1
  PodVolumeHealth: {
    healthConditions: {
      patchStrategy: 'merge',
      patchMergeKey: 'status',
      listType: 'map',
      listMapKeys: ['status', 'reason'],
    },
  },
  // core/v1
  PersistentVolumeClaimStatus: {
    accessModes: { listType: 'atomic' },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // core/v1
  RBDVolumeSource: {
    monitors: { listType: 'atomic' },
  },
  // core/v1
  RBDPersistentVolumeSource: {
    monitors: { listType: 'atomic' },
  },
  // core/v1
  CephFSVolumeSource: {
    monitors: { listType: 'atomic' },
  },
  // core/v1
  CephFSPersistentVolumeSource: {
    monitors: { listType: 'atomic' },
  },
  // core/v1
  SecretVolumeSource: {
    items: { listType: 'atomic' },
  },
  // core/v1
  SecretProjection: {
    items: { listType: 'atomic' },
  },
  // core/v1
  ISCSIVolumeSource: {
    portals: { listType: 'atomic' },
  },
  // core/v1
  ISCSIPersistentVolumeSource: {
    portals: { listType: 'atomic' },
  },
  // core/v1
  FCVolumeSource: {
    targetWWNs: { listType: 'atomic' },
    wwids: { listType: 'atomic' },
  },
  // core/v1
  ConfigMapVolumeSource: {
    items: { listType: 'atomic' },
  },
  // core/v1
  ConfigMapProjection: {
    items: { listType: 'atomic' },
  },
  // core/v1
  ProjectedVolumeSource: {
    sources: { listType: 'atomic' },
  },
  // core/v1
  VolumeMount: {
    bindMountOptions: { listType: 'set' },
  },
  // core/v1
  HTTPGetAction: {
    httpHeaders: { listType: 'atomic' },
  },
  // core/v1
  ExecAction: {
    command: { listType: 'atomic' },
  },
  // core/v1
  Capabilities: {
    add: { listType: 'atomic' },
    drop: { listType: 'atomic' },
  },
  // core/v1
  ResourceRequirements: {
    claims: { listType: 'map', listMapKeys: ['name'] },
  },
  // core/v1
  Container: {
    command: { listType: 'atomic' },
    args: { listType: 'atomic' },
    ports: {
      patchStrategy: 'merge',
      patchMergeKey: 'containerPort',
      listType: 'map',
      listMapKeys: ['containerPort', 'protocol'],
    },
    envFrom: { listType: 'atomic' },
    env: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeMounts: {
      patchStrategy: 'merge',
      patchMergeKey: 'mountPath',
      listType: 'map',
      listMapKeys: ['mountPath'],
    },
    volumeDevices: {
      patchStrategy: 'merge',
      patchMergeKey: 'devicePath',
      listType: 'map',
      listMapKeys: ['devicePath'],
    },
  },
  // core/v1
  ContainerStatus: {
    volumeMounts: {
      patchStrategy: 'merge',
      patchMergeKey: 'mountPath',
      listType: 'map',
      listMapKeys: ['mountPath'],
    },
    allocatedResourcesStatus: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
  },
  // core/v1
  ResourceStatus: {
    resources: { listType: 'map', listMapKeys: ['resourceID'] },
  },
  // core/v1
  LinuxContainerUser: {
    supplementalGroups: { listType: 'atomic' },
  },
  // core/v1
  ContainerRestartRuleOnExitCodes: {
    values: { listType: 'set' },
  },
  // core/v1
  NodeSelector: {
    nodeSelectorTerms: { listType: 'atomic' },
  },
  // core/v1
  NodeSelectorTerm: {
    matchExpressions: { listType: 'atomic' },
    matchFields: { listType: 'atomic' },
  },
  // core/v1
  NodeSelectorRequirement: {
    values: { listType: 'atomic' },
  },
  // core/v1
  TopologySelectorTerm: {
    matchLabelExpressions: { listType: 'atomic' },
  },
  // core/v1
  TopologySelectorLabelRequirement: {
    values: { listType: 'atomic' },
  },
  // core/v1
  PodAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  // core/v1
  PodAntiAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  // core/v1
  PodAffinityTerm: {
    namespaces: { listType: 'atomic' },
    matchLabelKeys: { listType: 'atomic' },
    mismatchLabelKeys: { listType: 'atomic' },
  },
  // core/v1
  NodeAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  // core/v1
  PodSpec: {
    volumes: {
      patchStrategy: 'merge,retainKeys',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    initContainers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    containers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    ephemeralContainers: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    imagePullSecrets: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    tolerations: { listType: 'atomic' },
    hostAliases: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
    readinessGates: { listType: 'atomic' },
    topologySpreadConstraints: {
      patchStrategy: 'merge',
      patchMergeKey: 'topologyKey',
      listType: 'map',
      listMapKeys: ['topologyKey', 'whenUnsatisfiable'],
    },
    schedulingGates: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    resourceClaims: {
      patchStrategy: 'merge,retainKeys',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    evictionResponders: {
      patchStrategy: 'merge',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
  },
  // core/v1
  PodExtendedResourceClaimStatus: {
    requestMappings: { listType: 'atomic' },
  },
  // core/v1
  TopologySpreadConstraint: {
    matchLabelKeys: { listType: 'atomic' },
  },
  // core/v1
  HostAlias: {
    hostnames: { listType: 'atomic' },
  },
  // core/v1
  PodSecurityContext: {
    supplementalGroups: { listType: 'atomic' },
    sysctls: { listType: 'atomic' },
  },
  // core/v1
  PodDNSConfig: {
    nameservers: { listType: 'atomic' },
    searches: { listType: 'atomic' },
    options: { listType: 'atomic' },
  },
  // core/v1
  EphemeralContainer: {
    command: { listType: 'atomic' },
    args: { listType: 'atomic' },
    ports: {
      patchStrategy: 'merge',
      patchMergeKey: 'containerPort',
      listType: 'map',
      listMapKeys: ['containerPort', 'protocol'],
    },
    envFrom: { listType: 'atomic' },
    env: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeMounts: {
      patchStrategy: 'merge',
      patchMergeKey: 'mountPath',
      listType: 'map',
      listMapKeys: ['mountPath'],
    },
    volumeDevices: {
      patchStrategy: 'merge',
      patchMergeKey: 'devicePath',
      listType: 'map',
      listMapKeys: ['devicePath'],
    },
  },
  // core/v1
  PodStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    podIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
    initContainerStatuses: { listType: 'atomic' },
    containerStatuses: { listType: 'atomic' },
    ephemeralContainerStatuses: { listType: 'atomic' },
    resourceClaimStatuses: {
      patchStrategy: 'merge,retainKeys',
      patchMergeKey: 'name',
      listType: 'map',
      listMapKeys: ['name'],
    },
    nodeAllocatableResourceClaimStatuses: {
      patchStrategy: 'merge',
      patchMergeKey: 'resourceClaimName',
      listType: 'map',
      listMapKeys: ['resourceClaimName'],
    },
    volumeHealth: { listType: 'map', listMapKeys: ['name'] },
  },
  // core/v1
  ReplicationControllerStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // core/v1
  ServiceStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // core/v1
  LoadBalancerStatus: {
    ingress: { listType: 'atomic' },
  },
  // core/v1
  LoadBalancerIngress: {
    ports: { listType: 'atomic' },
  },
  // core/v1
  ServiceSpec: {
    ports: {
      patchStrategy: 'merge',
      patchMergeKey: 'port',
      listType: 'map',
      listMapKeys: ['port', 'protocol'],
    },
    clusterIPs: { listType: 'atomic' },
    externalIPs: { listType: 'atomic' },
    loadBalancerSourceRanges: { listType: 'atomic' },
    ipFamilies: { listType: 'atomic' },
  },
  // core/v1
  ServiceAccount: {
    secrets: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    imagePullSecrets: { listType: 'atomic' },
  },
  // core/v1
  Endpoints: {
    subsets: { listType: 'atomic' },
  },
  // core/v1
  EndpointSubset: {
    addresses: { listType: 'atomic' },
    notReadyAddresses: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  // core/v1
  NodeSpec: {
    podCIDRs: { patchStrategy: 'merge', listType: 'set' },
    taints: { listType: 'atomic' },
  },
  // core/v1
  NodePodPreemptionPolicy: {
    disableResizePreemption: { listType: 'set' },
  },
  // core/v1
  NodeStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    addresses: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    images: { listType: 'atomic' },
    volumesInUse: { listType: 'atomic' },
    volumesAttached: { listType: 'atomic' },
    runtimeHandlers: { listType: 'atomic' },
    declaredFeatures: { listType: 'atomic' },
  },
  // core/v1
  AvoidPods: {
    preferAvoidPods: { listType: 'atomic' },
  },
  // core/v1
  ContainerImage: {
    names: { listType: 'atomic' },
  },
  // core/v1
  NamespaceSpec: {
    finalizers: { listType: 'atomic' },
  },
  // core/v1
  NamespaceStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // core/v1
  PodExecOptions: {
    command: { listType: 'atomic' },
  },
  // core/v1
  PodPortForwardOptions: {
    ports: { listType: 'atomic' },
  },
  // core/v1
  LimitRangeSpec: {
    limits: { listType: 'atomic' },
  },
  // core/v1
  ResourceQuotaSpec: {
    scopes: { listType: 'atomic' },
  },
  // core/v1
  ScopeSelector: {
    matchExpressions: { listType: 'atomic' },
  },
  // core/v1
  ScopedResourceSelectorRequirement: {
    values: { listType: 'atomic' },
  },
  // core/v1
  ComponentStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // core/v1
  DownwardAPIVolumeSource: {
    items: { listType: 'atomic' },
  },
  // core/v1
  DownwardAPIProjection: {
    items: { listType: 'atomic' },
  },
  // core/v1
  NodeAllocatableResourceClaimStatus: {
    containers: { listType: 'set' },
    mapping: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    overhead: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  // discovery/v1
  EndpointSlice: {
    endpoints: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  // discovery/v1
  Endpoint: {
    addresses: { listType: 'set' },
  },
  // discovery/v1
  EndpointHints: {
    forZones: { listType: 'atomic' },
    forNodes: { listType: 'atomic' },
  },
  // meta/v1
  ObjectMeta: {
    ownerReferences: { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
    finalizers: { patchStrategy: 'merge', listType: 'set' },
    managedFields: { listType: 'atomic' },
  },
  // meta/v1
  DeleteOptions: {
    dryRun: { listType: 'atomic' },
  },
  // meta/v1
  CreateOptions: {
    dryRun: { listType: 'atomic' },
  },
  // meta/v1
  PatchOptions: {
    dryRun: { listType: 'atomic' },
  },
  // meta/v1
  ApplyOptions: {
    dryRun: { listType: 'atomic' },
  },
  // meta/v1
  UpdateOptions: {
    dryRun: { listType: 'atomic' },
  },
  // meta/v1
  StatusDetails: {
    causes: { listType: 'atomic' },
  },
  // meta/v1
  APIVersions: {
    versions: { listType: 'atomic' },
    serverAddressByClientCIDRs: { listType: 'atomic' },
  },
  // meta/v1
  APIGroupList: {
    groups: { listType: 'atomic' },
  },
  // meta/v1
  APIGroup: {
    versions: { listType: 'atomic' },
    serverAddressByClientCIDRs: { listType: 'atomic' },
  },
  // meta/v1
  APIResource: {
    shortNames: { listType: 'atomic' },
    categories: { listType: 'atomic' },
  },
  // meta/v1
  APIResourceList: {
    resources: { listType: 'atomic' },
  },
  // meta/v1
  RootPaths: {
    paths: { listType: 'atomic' },
  },
  // meta/v1
  LabelSelector: {
    matchExpressions: { listType: 'atomic' },
  },
  // meta/v1
  LabelSelectorRequirement: {
    values: { listType: 'atomic' },
  },
  // meta/v1
  FieldSelectorRequirement: {
    values: { listType: 'atomic' },
  },
  // meta/v1
  Table: {
    columnDefinitions: { listType: 'atomic' },
    rows: { listType: 'atomic' },
  },
  // meta/v1
  TableRow: {
    cells: { listType: 'atomic' },
    conditions: { listType: 'atomic' },
  },
  // networking/v1
  NetworkPolicySpec: {
    ingress: { listType: 'atomic' },
    egress: { listType: 'atomic' },
    policyTypes: { listType: 'atomic' },
  },
  // networking/v1
  NetworkPolicyIngressRule: {
    ports: { listType: 'atomic' },
    from: { listType: 'atomic' },
  },
  // networking/v1
  NetworkPolicyEgressRule: {
    ports: { listType: 'atomic' },
    to: { listType: 'atomic' },
  },
  // networking/v1
  IPBlock: {
    except: { listType: 'atomic' },
  },
  // networking/v1
  IngressSpec: {
    tls: { listType: 'atomic' },
    rules: { listType: 'atomic' },
  },
  // networking/v1
  IngressTLS: {
    hosts: { listType: 'atomic' },
  },
  // networking/v1
  IngressLoadBalancerStatus: {
    ingress: { listType: 'atomic' },
  },
  // networking/v1
  IngressLoadBalancerIngress: {
    ports: { listType: 'atomic' },
  },
  // networking/v1
  HTTPIngressRuleValue: {
    paths: { listType: 'atomic' },
  },
  // networking/v1
  ServiceCIDRSpec: {
    cidrs: { listType: 'atomic' },
  },
  // networking/v1
  ServiceCIDRStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  // policy/v1
  PodDisruptionBudgetSpec: {
    selector: { patchStrategy: 'replace' },
  },
  // policy/v1
  PodDisruptionBudgetStatus: {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
};

/** What a field lookup yields: the field's own tags, and the metadata of its value (a list's element type). */
export interface FieldPatchMeta extends FieldPatchInfo {
  readonly meta: PatchMeta;
}

/** Upstream's LookupPatchMeta, for one type: ask each field how it merges while walking an object. */
export interface PatchMeta {
  /** the type name, for error messages (upstream prints the Go kind) */
  readonly name: string;
  field(name: string): FieldPatchMeta;
}

const NO_INFO: FieldPatchMeta = {
  get meta(): PatchMeta {
    return EMPTY_PATCH_META;
  },
};

/** No metadata anywhere: maps merge, lists are replaced whole (what a kind without a schema gets). */
export const EMPTY_PATCH_META: PatchMeta = { name: 'struct', field: () => NO_INFO };

/** the table entry for `type.property`, by short or definitions.json name (`apps/v1.PodSpec`) */
export function fieldPatchInfo(typeName: string, property: string): FieldPatchInfo | undefined {
  const short = shortTypeName(typeName);
  return PATCH_META_TABLE[short]?.[property] ?? PLATFORM_PATCH_META[short]?.[property];
}

export function shortTypeName(definitionName: string): string {
  return definitionName.slice(definitionName.lastIndexOf('.') + 1);
}

const REF_PREFIX = '#/definitions/';
const byDefinition = new Map<string, PatchMeta>();

/** PatchMeta of a definitions.json definition, e.g. `core/v1.PodSpec`; memoised, built lazily as fields are asked for. */
export function patchMetaForDefinition(definitionName: string): PatchMeta {
  const cached = byDefinition.get(definitionName);
  if (cached) return cached;
  const schema = loadDefinitions().definitions[definitionName];
  const meta = schema ? structMeta(definitionName, schema) : EMPTY_PATCH_META;
  byDefinition.set(definitionName, meta);
  return meta;
}

/** PatchMeta of a served kind (its root definition in definitions.json), or EMPTY_PATCH_META for kinds without one. */
export function patchMetaFor(gvk: { group: string; version: string; kind: string }): PatchMeta {
  const root = loadDefinitions().roots[rootKey(gvk.group, gvk.version, gvk.kind)];
  return root ? patchMetaForDefinition(root) : EMPTY_PATCH_META;
}

function structMeta(definitionName: string, schema: JsonSchema): PatchMeta {
  const fields = new Map<string, FieldPatchMeta>();
  const typeName = shortTypeName(definitionName);
  return {
    name: typeName,
    field(name: string): FieldPatchMeta {
      let f = fields.get(name);
      if (!f) {
        const propSchema = Object.hasOwn(schema.properties ?? {}, name)
          ? schema.properties![name]
          : undefined;
        // unknown fields carry no metadata, as upstream treats fields it has no tags for
        f = propSchema ? withMeta(fieldPatchInfo(typeName, name) ?? {}, propSchema) : NO_INFO;
        fields.set(name, f);
      }
      return f;
    },
  };
}

function withMeta(info: FieldPatchInfo, propSchema: JsonSchema): FieldPatchMeta {
  let meta: PatchMeta | undefined;
  return {
    ...info,
    get meta(): PatchMeta {
      return (meta ??= valueMeta(propSchema));
    },
  };
}

/** The metadata of a value: a $ref'd struct, a list's element, or a map whose every key has the value schema. */
function valueMeta(schema: JsonSchema): PatchMeta {
  if (schema.$ref?.startsWith(REF_PREFIX))
    return patchMetaForDefinition(schema.$ref.slice(REF_PREFIX.length));
  if (schema.items) return valueMeta(schema.items);
  if (typeof schema.additionalProperties === 'object') {
    // upstream: a Go map has no tags of its own; every key yields the element type
    const element: FieldPatchMeta = withMeta({}, schema.additionalProperties);
    return { name: 'map', field: () => element };
  }
  return EMPTY_PATCH_META;
}

/** Build a PatchMeta from a small table of types (tests, and kinds described outside definitions.json). */
export function patchMetaFromTable(
  types: Record<string, Record<string, FieldPatchInfo & { type?: string }>>,
  root: string,
): PatchMeta {
  const metas = new Map<string, PatchMeta>();
  const metaOf = (typeName: string): PatchMeta => {
    let m = metas.get(typeName);
    if (!m) {
      const fields = types[typeName] ?? {};
      m = {
        name: typeName,
        field(name: string): FieldPatchMeta {
          const f = Object.hasOwn(fields, name) ? fields[name] : undefined;
          if (!f) return NO_INFO;
          const { type, ...info } = f;
          return { ...info, meta: type ? metaOf(type) : EMPTY_PATCH_META };
        },
      };
      metas.set(typeName, m);
    }
    return m;
  };
  return metaOf(root);
}
