import { describe, it, expect, vi } from 'vitest';
import { get } from 'node:http';
import {
  metricsText,
  metricsVerb,
  observeRequest,
  serveMetrics,
  REQUEST_DURATION_BUCKETS,
} from './metrics.js';

const fetchText = (port: number, path: string): Promise<{ status: number; body: string; type: string }> =>
  new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }),
      );
    }).on('error', reject);
  });

describe('apiserver request metrics', () => {
  it('exposes upstream names, labels and buckets', async () => {
    observeRequest(
      { verb: 'list', group: '', version: 'v1', resource: 'pods', scope: 'namespace', code: 200 },
      0.012,
    );
    observeRequest(
      {
        verb: 'create',
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        scope: 'namespace',
        code: 201,
        dryRun: true,
      },
      0.3,
    );
    observeRequest(
      {
        verb: 'patch',
        apply: true,
        group: 'apps',
        version: 'v1',
        resource: 'deployments',
        subresource: 'scale',
        scope: 'resource',
        code: 422,
      },
      0.001,
    );
    const { body, contentType } = await metricsText();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain('# TYPE apiserver_request_total counter');
    expect(body).toContain('# TYPE apiserver_request_duration_seconds histogram');
    expect(body).toContain(
      'apiserver_request_total{verb="LIST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver",code="200"} 1',
    );
    expect(body).toContain(
      'apiserver_request_total{verb="POST",dry_run="All",group="apps",version="v1",resource="deployments",subresource="",scope="namespace",component="apiserver",code="201"} 1',
    );
    expect(body).toContain(
      'apiserver_request_total{verb="APPLY",dry_run="",group="apps",version="v1",resource="deployments",subresource="scale",scope="resource",component="apiserver",code="422"} 1',
    );
    // 0.012 s falls in le=0.025 but not le=0.005
    expect(body).toContain(
      'apiserver_request_duration_seconds_bucket{le="0.005",verb="LIST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver"} 0',
    );
    expect(body).toContain(
      'apiserver_request_duration_seconds_bucket{le="0.025",verb="LIST",dry_run="",group="",version="v1",resource="pods",subresource="",scope="namespace",component="apiserver"} 1',
    );
    const buckets = [
      ...body.matchAll(/apiserver_request_duration_seconds_bucket\{le="([^"]+)",verb="LIST"/g),
    ].map((m) => m[1]);
    expect(buckets).toEqual([...REQUEST_DURATION_BUCKETS.map(String), '+Inf']);
    // the histogram has no code label, as upstream
    expect(body).not.toMatch(/apiserver_request_duration_seconds_count\{[^}]*code=/);
    // default process metrics are there too
    expect(body).toContain('process_cpu_user_seconds_total');
    expect(body).toContain('nodejs_eventloop_lag_seconds');
  });

  it('records requests made before the metrics exist a few seconds later, without a scrape, in order', async () => {
    vi.resetModules();
    vi.useFakeTimers();
    try {
      const fresh = await import('./metrics.js');
      const labels = { verb: 'get', group: '', version: '', resource: '', scope: '' as const, code: 200 };
      fresh.observeRequest(labels, 0.002);
      fresh.observeRequest({ ...labels, code: 500 }, 7);
      // held: the metrics (and prom-client) are not made by a request at boot
      expect(fresh.metricsRegistry().getSingleMetric('apiserver_request_total')).toBeUndefined();
      vi.advanceTimersByTime(5_000);
      const total = await fresh.metricsRegistry().getSingleMetric('apiserver_request_total')!.get();
      expect(total.values.map((v) => [v.labels['code'], v.value])).toEqual([
        ['200', 1],
        ['500', 1],
      ]);
      // the duration sum is read before anything scrapes: the held requests were recorded by the timer
      const duration = await fresh
        .metricsRegistry()
        .getSingleMetric('apiserver_request_duration_seconds')!
        .get();
      expect(
        duration.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value,
      ).toBe(7.002);
      // once made, a request is recorded at once
      fresh.observeRequest(labels, 0.001);
      const after = await fresh.metricsRegistry().getSingleMetric('apiserver_request_total')!.get();
      expect(after.values.find((v) => v.labels['code'] === '200')?.value).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('maps kubemu verbs to upstream metric verbs', () => {
    expect(
      ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'].map((v) =>
        metricsVerb(v),
      ),
    ).toEqual(['GET', 'LIST', 'WATCH', 'POST', 'PUT', 'PATCH', 'DELETE', 'DELETE']);
    expect(metricsVerb('connect')).toBe('CONNECT');
  });
});

describe('serveMetrics', () => {
  it('serves /metrics, /healthz and 404 on a free port', async () => {
    let healthy = true;
    const server = await serveMetrics(0, '127.0.0.1', () => healthy);
    try {
      const metrics = await fetchText(server.port, '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toContain('process_resident_memory_bytes');
      expect(await fetchText(server.port, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
      healthy = false;
      expect((await fetchText(server.port, '/healthz')).status).toBe(500);
      expect((await fetchText(server.port, '/nope')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
