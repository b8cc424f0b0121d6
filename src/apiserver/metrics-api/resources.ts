// The metrics.k8s.io/v1beta1 resources (PodMetrics, NodeMetrics) as discovery lists them; they have no storage.
import type { ResourceInfo } from '../../api/resources.js';

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';

const metricsResource = (kind: string, resource: string, namespaced: boolean): ResourceInfo => ({
  group: METRICS_GROUP,
  versions: [METRICS_VERSION],
  kind,
  resource,
  singular: '',
  shortNames: [],
  namespaced,
  categories: [],
  verbs: ['get', 'list'],
  subresources: [],
});

/** what metrics-server's APIService adds to discovery (upstream lists singularName '' for both) */
export const METRICS_RESOURCES: readonly ResourceInfo[] = [
  metricsResource('NodeMetrics', 'nodes', false),
  metricsResource('PodMetrics', 'pods', true),
];
