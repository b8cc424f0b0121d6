// Test support: an in-memory API (FakeApiHandler) that behaves a little more like the apiserver for controllers.
// It fills generateName, uid, creationTimestamp (from the injected clock) and bumps metadata.generation
// on spec changes of apps objects, and gives a KubeClient, a SharedInformerFactory and wait helpers.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { FakeApiHandler, KubeClient, handlerTransport, type ApiTransport } from '../../client/index.js';
import { FakeClock } from '../../util/clock.js';
import { deepEqual, rfc3339 } from '../../util/objects.js';
import { SharedInformerFactory } from './informers.js';

const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export interface FakeCluster {
  handler: FakeApiHandler;
  client: KubeClient;
  clock: FakeClock;
  informers: SharedInformerFactory;
  /** called with every request before it is served (after the fake's own fixes) */
  onRequest: ((req: ApiRequest) => void) | undefined;
  /** hold watch events back (as a slow watch would) until resumeWatches() */
  pauseWatches(): void;
  resumeWatches(): void;
  /** stored objects of one resource (`pods`, `replicasets`, ...), optionally of one namespace */
  objects<T = KubeObject>(resource: string, namespace?: string): T[];
}

export function fakeCluster(clock = new FakeClock()): FakeCluster {
  const handler = new FakeApiHandler();
  let seq = 0;
  let paused = false;
  let held: (() => void)[] = [];
  const inner = handlerTransport(handler);
  const transport: ApiTransport = {
    request: (req) => inner.request(req),
    watch: (req, onEvent, onEnd) =>
      inner.watch(
        req,
        (ev) => (paused ? held.push(() => onEvent(ev)) : onEvent(ev)),
        (err) => (paused ? held.push(() => onEnd(err)) : onEnd(err)),
      ),
  };
  const cluster: FakeCluster = {
    handler,
    clock,
    client: new KubeClient(transport),
    pauseWatches() {
      paused = true;
    },
    resumeWatches() {
      paused = false;
      const run = held;
      held = [];
      for (const fn of run) fn();
    },
    informers: undefined as unknown as SharedInformerFactory,
    onRequest: undefined,
    objects<T>(resource: string, namespace?: string): T[] {
      const out: T[] = [];
      for (const [key, obj] of handler.objects) {
        const [, res] = key.split('/');
        if (res !== resource) continue;
        if (namespace && obj.metadata?.namespace !== namespace) continue;
        out.push(obj as T);
      }
      return out;
    },
  };
  handler.hook = (req) => {
    const body = req.body as KubeObject | undefined;
    if (req.verb === 'create' && body?.metadata) {
      const meta = body.metadata;
      if (!meta.name && meta.generateName) {
        let suffix = '';
        let n = ++seq * 7919;
        for (let i = 0; i < 5; i++, n = Math.floor(n / 27) + i * 13) suffix += SUFFIX_ALPHABET[n % 27];
        meta.name = meta.generateName + suffix;
      }
      meta.uid ??= `uid-${meta.name}-${++seq}`;
      meta.creationTimestamp ??= rfc3339(clock.now());
      if (req.group === 'apps') meta.generation = 1;
    }
    if (req.verb === 'update' && body?.metadata && req.subresource !== 'status') {
      const old = handler.objects.get(
        `${req.group}/${req.resource}/${req.namespace ?? ''}/${req.name ?? ''}`,
      );
      if (old?.metadata) {
        body.metadata.uid = old.metadata.uid;
        body.metadata.creationTimestamp = old.metadata.creationTimestamp;
        if (req.group === 'apps') {
          const gen = old.metadata.generation ?? 1;
          body.metadata.generation = deepEqual(old['spec'], body['spec']) ? gen : gen + 1;
          // the status subresource is the only way to change status
          body['status'] = old['status'];
        }
      }
    }
    if (req.verb === 'update' && req.subresource === 'status' && body) {
      const old = handler.objects.get(
        `${req.group}/${req.resource}/${req.namespace ?? ''}/${req.name ?? ''}`,
      );
      if (old) {
        req.body = {
          ...old,
          status: body['status'],
          metadata: { ...old.metadata, resourceVersion: body.metadata?.resourceVersion },
        };
      }
    }
    cluster.onRequest?.(req);
  };
  cluster.informers = new SharedInformerFactory({ client: cluster.client, clock });
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

/** what the scheduler and kubelet would do: bind the pod to a node and mark it Running and Ready at `nowMs` */
export async function markPodReady(cluster: FakeCluster, pod: Pod, node = 'node-1'): Promise<void> {
  const name = pod.metadata?.name ?? '';
  const ns = pod.metadata?.namespace ?? 'default';
  const current = await cluster.client.pods.get(name, ns);
  const at = rfc3339(cluster.clock.now());
  // scheduling is a spec change; the fake's plain update stores it as is
  const bound = await cluster.client.pods.update({ ...current, spec: { ...current.spec!, nodeName: node } });
  await cluster.client.pods.updateStatus({
    ...bound,
    status: {
      ...bound.status,
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }],
    },
  });
}
