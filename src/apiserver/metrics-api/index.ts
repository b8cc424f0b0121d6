// The resource metrics API (metrics.k8s.io/v1beta1): a metrics-server scraping kubelets, served by the apiserver.
export { METRICS_GROUP, METRICS_VERSION, METRICS_RESOURCES } from './resources.js';
export { MetricsStore, type MetricsProvider, type Summary, type NodePoint, type PodPoint } from './store.js';
export { MetricsScraper, fetchKubeletSummary, type MetricsScraperOptions } from './scraper.js';
export { handleMetricsRequest, metricsApiRoute, withMetricsApi, metricsTable, goDuration } from './api.js';
