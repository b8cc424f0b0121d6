// The dashboard at 1,000 pods: how long the page's model takes to absorb them and to build its view
// (the same code runs in the browser as /dashboard/model.js).
import { applyEvent, buildView, createState } from '../dashboard/model.js';
import { percentile } from './apiserver-process.js';
import type { BenchResult } from './report.js';
import { registerSuite } from './suites.js';

const PODS = 1000;

function pod(i: number): {
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
} {
  const node = `node-${(i % 3) + 1}`;
  return {
    metadata: {
      name: `web-7f9c6d5b8-${i}`,
      namespace: 'default',
      uid: `uid-${i}`,
      resourceVersion: String(i + 10),
      labels: { app: 'web' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7f9c6d5b8', uid: 'rs', controller: true }],
      creationTimestamp: '2026-11-26T12:00:00Z',
    },
    spec: { nodeName: node, containers: [{ name: 'app', image: `kubemu/hello:v${(i % 2) + 1}` }] },
    status: {
      phase: 'Running',
      podIP: `127.244.${(i % 3) + 1}.${(i % 250) + 2}`,
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: { running: {} } }],
    },
  };
}

registerSuite('dashboard', (): Promise<BenchResult[]> => {
  const state = createState();
  for (let n = 1; n <= 3; n++) {
    applyEvent(state, 'nodes', {
      type: 'ADDED',
      object: {
        metadata: { name: `node-${n}`, resourceVersion: String(n) },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      } as never,
    });
  }
  const t0 = performance.now();
  for (let i = 0; i < PODS; i++) applyEvent(state, 'pods', { type: 'ADDED', object: pod(i) });
  const load = performance.now() - t0;
  const views: number[] = [];
  for (let r = 0; r < 50; r++) {
    // one pod changes, as a watch event would, then the page rebuilds its view for the next frame
    applyEvent(state, 'pods', {
      type: 'MODIFIED',
      object: { ...pod(r), metadata: { ...pod(r).metadata, resourceVersion: String(5000 + r) } },
    });
    const s = performance.now();
    const view = buildView(state);
    views.push(performance.now() - s);
    if (view.nodes.reduce((a, n) => a + n.pods.length, 0) !== PODS) throw new Error('view lost pods');
  }
  views.sort((a, b) => a - b);
  return Promise.resolve([
    { name: 'dashboard: absorb 1,000 pods', value: Math.round(load * 10) / 10, unit: 'ms' },
    {
      name: 'dashboard: view of 1,000 pods per frame, p99',
      value: Math.round(percentile(views, 99) * 100) / 100,
      unit: 'ms',
      target: { op: '<=', value: 16 },
      note: 'model only (no DOM): the page redraws at most once per animation frame, and only changed elements',
    },
  ]);
});
