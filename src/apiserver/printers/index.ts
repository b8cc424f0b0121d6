// Server-side printing: turns objects into the meta.k8s.io Table `kubectl get` asks for (Accept: ...;as=Table),
// with upstream's columns and cells for every kind kubemu serves and NAME/AGE for anything else.
import { apiServicePrinter } from './apiregistration.js';
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/request.js';
import { ageColumn, nameColumn } from './columns.js';
import { since } from './format.js';
import {
  configMapPrinter,
  deploymentPrinter,
  endpointSlicePrinter,
  endpointsPrinter,
  eventPrinter,
  hpaPrinter,
  ingressClassPrinter,
  ingressPrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  replicaSetPrinter,
  scalePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './kinds.js';
import { podPrinter } from './pod.js';
import {
  limitRangePrinter,
  priorityClassPrinter,
  resourceQuotaPrinter,
  storageClassPrinter,
} from './admission-kinds.js';
import { PLATFORM_PRINTERS } from './platform.js';
import {
  componentStatusPrinter,
  csiDriverPrinter,
  csiNodePrinter,
  csiStorageCapacityPrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  podDisruptionBudgetPrinter,
  runtimeClassPrinter,
  volumeAttachmentPrinter,
} from './storage.js';
import {
  controllerRevisionPrinter,
  cronJobPrinter,
  daemonSetPrinter,
  jobPrinter,
  podTemplatePrinter,
  replicationControllerPrinter,
  statefulSetPrinter,
} from './workloads.js';
import type { KindPrinter, PartialObjectMetadata, Table, TableRow } from './types.js';
import { servedCustomResources } from '../customresources/served.js';
import { customPrinter } from '../customresources/printer.js';
import type { CustomResource } from '../customresources/definition.js';

export type { Table, TableRow, TableColumnDefinition, TableCell, PartialObjectMetadata } from './types.js';
export { humanDuration, shortHumanDuration } from './duration.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  /** `?includeObject=`: what each row's `object` carries; upstream's default is Metadata */
  includeObject?: IncludeObject;
  /** the list's metadata (resourceVersion, continue, remainingItemCount); without it, a single object's resourceVersion */
  listMeta?: Readonly<Record<string, unknown>>;
  /** omit columnDefinitions (TableOptions.noHeaders; also what watch events after the first carry) */
  noHeaders?: boolean;
  /** meta.k8s.io version the client asked for; v1 unless it asked for v1beta1 */
  version?: 'v1' | 'v1beta1';
  /** the time ages are measured against (ms since the epoch); defaults to Date.now() */
  now?: number;
}

/** keyed by `group/Kind`, so core and events.k8s.io Events share one printer as upstream does */
const PRINTERS: ReadonlyMap<string, KindPrinter> = new Map([
  ['/Pod', podPrinter],
  ['/Service', servicePrinter],
  ['/Endpoints', endpointsPrinter],
  ['/Node', nodePrinter],
  ['/Namespace', namespacePrinter],
  ['/ConfigMap', configMapPrinter],
  ['/Secret', secretPrinter],
  ['/ServiceAccount', serviceAccountPrinter],
  ['/Event', eventPrinter],
  ['events.k8s.io/Event', eventPrinter],
  ['apps/Deployment', deploymentPrinter],
  ['apps/ReplicaSet', replicaSetPrinter],
  ['discovery.k8s.io/EndpointSlice', endpointSlicePrinter],
  ['networking.k8s.io/Ingress', ingressPrinter],
  ['networking.k8s.io/IngressClass', ingressClassPrinter],
  ['autoscaling/HorizontalPodAutoscaler', hpaPrinter],
  ['coordination.k8s.io/Lease', leasePrinter],
  // the scale subresource of deployments and replicasets
  ['autoscaling/Scale', scalePrinter],
  // --- workload and storage kinds (#18) ---
  ['batch/Job', jobPrinter],
  ['batch/CronJob', cronJobPrinter],
  ['apps/StatefulSet', statefulSetPrinter],
  ['apps/DaemonSet', daemonSetPrinter],
  ['apps/ControllerRevision', controllerRevisionPrinter],
  ['/ReplicationController', replicationControllerPrinter],
  ['/PodTemplate', podTemplatePrinter],
  ['/PersistentVolume', persistentVolumePrinter],
  ['/PersistentVolumeClaim', persistentVolumeClaimPrinter],
  ['/ComponentStatus', componentStatusPrinter],
  ['policy/PodDisruptionBudget', podDisruptionBudgetPrinter],
  ['node.k8s.io/RuntimeClass', runtimeClassPrinter],
  ['storage.k8s.io/CSIDriver', csiDriverPrinter],
  ['storage.k8s.io/CSINode', csiNodePrinter],
  ['storage.k8s.io/CSIStorageCapacity', csiStorageCapacityPrinter],
  ['storage.k8s.io/VolumeAttachment', volumeAttachmentPrinter],
  // --- platform kinds: rbac, admissionregistration, apiextensions, flowcontrol, certificates, … (#18) ---
  ...PLATFORM_PRINTERS,
  ['apiregistration.k8s.io/APIService', apiServicePrinter],
  // --- admission kinds: ResourceQuota, LimitRange, PriorityClass, StorageClass (#18) ---
  ['/ResourceQuota', resourceQuotaPrinter],
  ['/LimitRange', limitRangePrinter],
  ['scheduling.k8s.io/PriorityClass', priorityClassPrinter],
  ['storage.k8s.io/StorageClass', storageClassPrinter],
]);

/** kinds without an upstream printer: NAME and AGE, as upstream shows custom resources without printer columns */
const genericPrinter: KindPrinter = {
  columns: [nameColumn(), ageColumn()],
  cells: (obj, ctx) => [obj.metadata?.name ?? '', since(obj.metadata?.creationTimestamp, ctx.now)],
};

const customPrinters = new WeakMap<CustomResource, Map<string, KindPrinter>>();

/** a custom resource's printer at the version its objects are in (its additionalPrinterColumns) */
function customPrinterFor(
  resource: Pick<ResourceInfo, 'group' | 'kind'> & { resource?: string },
  objects: readonly KubeObject[],
): KindPrinter | undefined {
  if (!resource.resource) return undefined;
  const cr = servedCustomResources.find(resource.group, resource.resource);
  if (!cr || cr.ri.kind !== resource.kind) return undefined;
  const apiVersion = objects[0]?.apiVersion;
  const version = apiVersion ? apiVersion.slice(apiVersion.indexOf('/') + 1) : cr.ri.versions[0];
  let byVersion = customPrinters.get(cr);
  if (!byVersion) customPrinters.set(cr, (byVersion = new Map<string, KindPrinter>()));
  let printer = byVersion.get(version);
  if (!printer) byVersion.set(version, (printer = customPrinter(cr, version)));
  return printer;
}

export function printerFor(resource: Pick<ResourceInfo, 'group' | 'kind'>): KindPrinter {
  return PRINTERS.get(`${resource.group}/${resource.kind}`) ?? genericPrinter;
}

export function toTable(
  resource: Pick<ResourceInfo, 'group' | 'kind'>,
  objects: readonly KubeObject[],
  opts: TableOptions = {},
): Table {
  const printer = customPrinterFor(resource, objects) ?? printerFor(resource);
  const version = opts.version ?? 'v1';
  const ctx = { now: opts.now ?? Date.now() };
  const includeObject = opts.includeObject ?? 'Metadata';
  const order = printer.order?.bind(printer);
  const ordered = order ? [...objects].sort(order) : objects;
  const rows = ordered.map((obj): TableRow => {
    const row: TableRow = { cells: printer.cells(obj, ctx) };
    const conditions = printer.conditions?.(obj);
    if (conditions) row.conditions = conditions;
    if (includeObject === 'Object') row.object = obj;
    else if (includeObject === 'Metadata') row.object = partialObjectMetadata(obj, version);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: tableMeta(opts.listMeta, objects),
    columnDefinitions: opts.noHeaders ? [] : printer.columns.map((c) => ({ ...c })),
    rows,
  };
}

/** upstream copies a list's ListMeta; a single object (a get, a watch event) lends its resourceVersion */
function tableMeta(
  listMeta: Readonly<Record<string, unknown>> | undefined,
  objects: readonly KubeObject[],
): Table['metadata'] {
  const metadata: Table['metadata'] = {};
  if (!listMeta) {
    const rv = objects.length === 1 ? objects[0].metadata?.resourceVersion : undefined;
    if (rv) metadata.resourceVersion = rv;
    return metadata;
  }
  if (typeof listMeta.resourceVersion === 'string') metadata.resourceVersion = listMeta.resourceVersion;
  if (typeof listMeta.continue === 'string' && listMeta.continue) metadata.continue = listMeta.continue;
  if (typeof listMeta.remainingItemCount === 'number')
    metadata.remainingItemCount = listMeta.remainingItemCount;
  return metadata;
}

export function partialObjectMetadata(
  obj: KubeObject,
  version: 'v1' | 'v1beta1' = 'v1',
): PartialObjectMetadata {
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: obj.metadata ?? {},
  };
}
