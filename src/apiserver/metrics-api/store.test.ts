// The metrics pipeline's rate computation and the metrics.k8s.io responses built from it.
import { describe, expect, it } from 'vitest';
import type { ApiHandler, ApiRequest } from '../../api/request.js';
import { handleMetricsRequest, goDuration } from './api.js';
import { MetricsStore, type Summary } from './store.js';

const summary = (nodeCpuNs: number, podCpuNs: number): Summary => ({
  node: {
    nodeName: 'n1',
    cpu: { usageCoreNanoSeconds: nodeCpuNs, usageNanoCores: 1 },
    memory: { workingSetBytes: 4096 },
  },
  pods: [
    {
      podRef: { name: 'web', namespace: 'default' },
      containers: [
        { name: 'c', cpu: { usageCoreNanoSeconds: podCpuNs }, memory: { workingSetBytes: 2048 * 1024 } },
      ],
    },
  ],
});

describe('MetricsStore', () => {
  it('needs two scrapes, then serves CPU as the counter delta over the window', () => {
    let now = 10_000;
    const store = new MetricsStore({ now: () => now, maxAgeMs: 10_000 });
    store.ingest('n1', summary(1e9, 1e9), 10_000);
    expect(store.pod('default', 'web')).toBeUndefined();
    now = 12_000;
    store.ingest('n1', summary(2e9, 1.5e9), 12_000);
    expect(store.pod('default', 'web')).toEqual({
      timestampMs: 12_000,
      windowMs: 2000,
      containers: [{ name: 'c', usage: { nanoCores: 250_000_000, memoryBytes: 2048 * 1024 } }],
    });
    expect(store.node('n1')?.usage).toEqual({ nanoCores: 500_000_000, memoryBytes: 4096 });
    now = 30_000;
    expect(store.pod('default', 'web')).toBeUndefined();
  });
});

describe('handleMetricsRequest', () => {
  const pod = {
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    status: { phase: 'Running' },
  };
  const inner: ApiHandler = {
    handle: (req: ApiRequest) =>
      Promise.resolve({ code: 200, body: req.verb === 'list' ? { items: [pod] } : pod }),
    watch: () => Promise.reject(new Error('no')),
  };
  const provider = {
    node: () => undefined,
    pod: () => ({
      timestampMs: 0,
      windowMs: 1004,
      containers: [{ name: 'c', usage: { nanoCores: 5e6, memoryBytes: 10240 } }],
    }),
  };
  const user = { username: 'u', groups: [] };
  it('lists PodMetrics with the pod labels, nanocores and Ki', async () => {
    const r = await handleMetricsRequest(inner, provider, {
      verb: 'list',
      group: 'metrics.k8s.io',
      version: 'v1beta1',
      resource: 'pods',
      namespace: 'default',
      options: {},
      user,
    });
    expect(r.body).toMatchObject({
      kind: 'PodMetricsList',
      apiVersion: 'metrics.k8s.io/v1beta1',
      items: [
        {
          kind: 'PodMetrics',
          metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
          window: '1.004s',
          containers: [{ name: 'c', usage: { cpu: '5000000n', memory: '10Ki' } }],
        },
      ],
    });
  });
  it('answers NotFound for a node without metrics', async () => {
    await expect(
      handleMetricsRequest(inner, provider, {
        verb: 'get',
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        resource: 'nodes',
        name: 'n9',
        options: {},
        user,
      }),
    ).rejects.toThrow('nodes.metrics.k8s.io "n9" not found');
  });
  it('formats windows as Go durations', () => {
    expect([goDuration(500), goDuration(1000), goDuration(15_250)]).toEqual(['500ms', '1s', '15.25s']);
  });
});
