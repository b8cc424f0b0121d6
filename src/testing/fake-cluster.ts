// Test support for controllers: a cluster's API as the controller-manager sees it — the apiserver's real registry and
// admission on SQLite in memory (./in-memory-api.ts), on an injected FakeClock — with a KubeClient, a
// SharedInformerFactory, failure injection, held-back watches and wait helpers. What the controller-manager's own
// serviceaccount controller would have made (each bootstrap namespace's `default` ServiceAccount, which
// ServiceAccount admission looks up for every pod) is there from the start.
import { onTestFinished } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiRequest, KubeObject } from '../api/request.js';
import type { AdmissionConfig } from '../apiserver/admission/index.js';
import { KubeClient, handlerTransport, type ApiTransport } from '../client/index.js';
import { SharedInformerFactory } from '../controllers/common/informers.js';
import { FakeClock } from '../util/clock.js';
import { rfc3339 } from '../util/objects.js';
import { InMemoryApi, type Change } from './in-memory-api.js';

export interface FakeClusterOptions {
  clock?: FakeClock;
  /** admission plugins to enable/disable, as the apiserver's --enable/--disable-admission-plugins */
  admission?: AdmissionConfig;
  /** create the bootstrap namespaces' `default` ServiceAccounts, as the serviceaccount controller would (default true) */
  defaultServiceAccounts?: boolean;
  /** the apiserver's --service-cluster-ip-range (default 127.96.0.0/16) */
  serviceCidr?: string;
}

export interface FakeCluster {
  /** the ApiHandler every client of this cluster goes through (the registry, with the request log and hook) */
  handler: InMemoryApi;
  client: KubeClient;
  clock: FakeClock;
  informers: SharedInformerFactory;
  /** every request served so far, as the client sent it */
  requests: ApiRequest[];
  /** every committed write so far, in resourceVersion order */
  changes: Change[];
  /** called with every request before it is served: throw (or reject) to fail the request, or delay it */
  onRequest: ((req: ApiRequest) => void | Promise<void>) | undefined;
  /** hold watch events back (as a slow watch would) until resumeWatches() */
  pauseWatches(): void;
  resumeWatches(): void;
  /** stored objects of one resource (`pods`, `replicasets`, ...), optionally of one namespace */
  objects<T = KubeObject>(resource: string, namespace?: string): T[];
  /** create a namespace with its `default` ServiceAccount, as the cluster would have it a moment after creation */
  createNamespace(name: string): Promise<void>;
}

const BOOTSTRAP_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function fakeCluster(opts: FakeClusterOptions = {}): Promise<FakeCluster> {
  const clock = opts.clock ?? new FakeClock();
  const api = await InMemoryApi.start({
    clock,
    ...(opts.admission ? { admission: opts.admission } : {}),
    ...(opts.serviceCidr ? { serviceCidr: opts.serviceCidr } : {}),
  });
  // stop watches and free the database when the test ends (controllers still running then see errors, not hangs)
  onTestFinished(() => api.close());
  let paused = false;
  let held: (() => void)[] = [];
  const inner = handlerTransport(api);
  const transport: ApiTransport = {
    request: (req) => inner.request(req),
    watch: (req, onEvent, onEnd) =>
      inner.watch(
        req,
        (ev) => (paused ? held.push(() => onEvent(ev)) : onEvent(ev)),
        (err) => (paused ? held.push(() => onEnd(err)) : onEnd(err)),
      ),
  };
  const client = new KubeClient(transport);
  const serviceAccount = (namespace: string) =>
    client.serviceAccounts.create({ metadata: { name: 'default', namespace } });
  if (opts.defaultServiceAccounts ?? true) for (const ns of BOOTSTRAP_NAMESPACES) await serviceAccount(ns);
  api.requests.length = 0;
  const cluster: FakeCluster = {
    handler: api,
    clock,
    client,
    informers: new SharedInformerFactory({ client, clock }),
    requests: api.requests,
    changes: api.changes,
    onRequest: undefined,
    pauseWatches() {
      paused = true;
    },
    resumeWatches() {
      paused = false;
      const run = held;
      held = [];
      for (const fn of run) fn();
    },
    objects: (resource, namespace) => api.objects(resource, namespace),
    async createNamespace(name) {
      await client.namespaces.create({ metadata: { name } });
      await serviceAccount(name);
    },
  };
  api.hook = (req) => cluster.onRequest?.(req);
  return cluster;
}

/** let promise chains and watch deliveries run; many turns of the event loop, no timers */
export async function settle(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** settle until `predicate` holds; throws after `maxTurns` */
export async function until(predicate: () => boolean, what = 'condition', maxTurns = 2000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** what the scheduler and kubelet would do: bind the pod to a node, then report it Running and Ready at the clock's now */
export async function markPodReady(cluster: FakeCluster, pod: Pod, node = 'node-1'): Promise<void> {
  const name = pod.metadata?.name ?? '';
  const ns = pod.metadata?.namespace ?? 'default';
  if (!(await cluster.client.pods.get(name, ns)).spec?.nodeName)
    await cluster.client.pods.bind({
      metadata: { name, namespace: ns },
      target: { apiVersion: 'v1', kind: 'Node', name: node },
    });
  await setPodStatus(cluster, name, ns, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: rfc3339(cluster.clock.now()) }],
  });
}

/** what a kubelet does: replace the pod's status through the status subresource */
export async function setPodStatus(
  cluster: FakeCluster,
  name: string,
  namespace: string,
  status: Pod['status'],
): Promise<Pod> {
  const current = await cluster.client.pods.get(name, namespace);
  return cluster.client.pods.updateStatus({ ...current, status: { ...current.status, ...status } });
}

/**
 * What kubelets do once their pods' containers have stopped: delete the pods whose graceful deletion has begun
 * with gracePeriodSeconds 0 and the pod's uid as precondition (a pod with finalizers stays until they are gone).
 * Returns how many such deletes were accepted.
 */
export async function finishTerminatingPods(cluster: FakeCluster, namespace?: string): Promise<number> {
  let n = 0;
  for (const pod of cluster.objects<Pod>('pods', namespace)) {
    const m = pod.metadata!;
    if (!m.deletionTimestamp || m.deletionGracePeriodSeconds === 0) continue;
    try {
      await cluster.client.pods.delete(m.name!, {
        namespace: m.namespace!,
        gracePeriodSeconds: 0,
        preconditions: { uid: m.uid! },
      });
      n++;
    } catch (err) {
      // gone already, or replaced by a new pod of that name
      if (![404, 409].includes((err as { code?: number }).code ?? 0)) throw err;
    }
  }
  return n;
}
