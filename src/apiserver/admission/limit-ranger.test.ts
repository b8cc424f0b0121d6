// LimitRanger admission: defaults from a namespace's LimitRanges, and min/max/ratio refusals in upstream's words.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { limitRangerPlugin } from './limit-ranger.js';
import { MemoryStore, attrs, pod, rejection } from './testdata/memory-store.js';

const limitRange = (limits: Record<string, unknown>[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name: 'lr', namespace: 'ns' },
  spec: { limits },
});

type Res = { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } };

describe('LimitRanger admission', () => {
  it("fills in the docs' memory defaults (default, defaultRequest) and notes it in an annotation", async () => {
    const store = new MemoryStore().put(
      '',
      'limitranges',
      limitRange([{ type: 'Container', default: { memory: '512Mi' }, defaultRequest: { memory: '256Mi' } }]),
    );
    const p = pod('default-mem-demo', [{ name: 'default-mem-demo-ctr', image: 'nginx' }]);
    const a = attrs('CREATE', 'pods', p);
    await limitRangerPlugin.admit!(a, store);
    const c = (p['spec'] as { containers: Res[] }).containers[0];
    expect(c.resources).toEqual({ limits: { memory: '512Mi' }, requests: { memory: '256Mi' } });
    expect(p.metadata?.annotations?.['kubernetes.io/limit-ranger']).toBe(
      'LimitRanger plugin set: memory request for container default-mem-demo-ctr; memory limit for container default-mem-demo-ctr',
    );
    await limitRangerPlugin.validate!(a, store);
  });

  it('keeps what a container sets and does not touch pods on update', async () => {
    const store = new MemoryStore().put(
      '',
      'limitranges',
      limitRange([{ type: 'Container', default: { memory: '512Mi' }, defaultRequest: { memory: '256Mi' } }]),
    );
    const p = pod('p', [
      { name: 'c', resources: { limits: { memory: '1Gi' }, requests: { memory: '1Gi' } } },
    ]);
    await limitRangerPlugin.admit!(attrs('CREATE', 'pods', p), store);
    expect((p['spec'] as { containers: Res[] }).containers[0].resources).toEqual({
      limits: { memory: '1Gi' },
      requests: { memory: '1Gi' },
    });
    expect(p.metadata?.annotations).toBeUndefined();
    const q = pod('q', [{ name: 'c' }]);
    await limitRangerPlugin.admit!(attrs('UPDATE', 'pods', q, { oldObject: q }), store);
    expect((q['spec'] as { containers: Res[] }).containers[0].resources).toBeUndefined();
  });

  it('refuses containers outside min/max and above the ratio, with upstream messages', async () => {
    const store = new MemoryStore().put(
      '',
      'limitranges',
      limitRange([
        {
          type: 'Container',
          max: { cpu: '800m' },
          min: { cpu: '200m' },
          maxLimitRequestRatio: { memory: '2' },
        },
      ]),
    );
    const over = pod('constraints-cpu-demo-2', [
      { name: 'c', resources: { limits: { cpu: '1.5' }, requests: { cpu: '500m' } } },
    ]);
    expect((await rejection(limitRangerPlugin.validate!(attrs('CREATE', 'pods', over), store))).message).toBe(
      'pods "constraints-cpu-demo-2" is forbidden: [maximum cpu usage per Container is 800m, but limit is 1500m, memory max limit to request ratio per Container is 2, but no request is specified or request is 0]',
    );
    const under = pod('u', [
      {
        name: 'c',
        resources: { limits: { cpu: '800m', memory: '1Gi' }, requests: { cpu: '100m', memory: '256Mi' } },
      },
    ]);
    expect(
      (await rejection(limitRangerPlugin.validate!(attrs('CREATE', 'pods', under), store))).message,
    ).toBe(
      'pods "u" is forbidden: [minimum cpu usage per Container is 200m, but request is 100m, memory max limit to request ratio per Container is 2, but provided ratio is 4.000000]',
    );
    const none = pod('n', [
      { name: 'c', resources: { requests: { memory: '1Gi' }, limits: { memory: '1Gi' } } },
    ]);
    expect((await rejection(limitRangerPlugin.validate!(attrs('CREATE', 'pods', none), store))).message).toBe(
      'pods "n" is forbidden: [minimum cpu usage per Container is 200m.  No request is specified, maximum cpu usage per Container is 800m.  No limit is specified]',
    );
  });

  it('a Pod item bounds the sum of the containers', async () => {
    const store = new MemoryStore().put(
      '',
      'limitranges',
      limitRange([{ type: 'Pod', max: { memory: '1Gi' } }]),
    );
    const two = pod('p', [
      { name: 'a', resources: { limits: { memory: '600Mi' } } },
      { name: 'b', resources: { limits: { memory: '600Mi' } } },
    ]);
    expect((await rejection(limitRangerPlugin.validate!(attrs('CREATE', 'pods', two), store))).message).toBe(
      'pods "p" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi',
    );
  });

  it('bounds a PersistentVolumeClaim storage request', async () => {
    const store = new MemoryStore().put(
      '',
      'limitranges',
      limitRange([{ type: 'PersistentVolumeClaim', max: { storage: '2Gi' }, min: { storage: '1Gi' } }]),
    );
    const pvc = (size: string): KubeObject => ({
      metadata: { name: 'pvc-limit-greater', namespace: 'ns' },
      spec: { resources: { requests: { storage: size } } },
    });
    expect(
      (
        await rejection(
          limitRangerPlugin.validate!(attrs('CREATE', 'persistentvolumeclaims', pvc('5Gi')), store),
        )
      ).message,
    ).toBe(
      'persistentvolumeclaims "pvc-limit-greater" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi',
    );
    expect(
      (
        await rejection(
          limitRangerPlugin.validate!(attrs('CREATE', 'persistentvolumeclaims', pvc('500Mi')), store),
        )
      ).message,
    ).toBe(
      'persistentvolumeclaims "pvc-limit-greater" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi',
    );
    await limitRangerPlugin.validate!(attrs('CREATE', 'persistentvolumeclaims', pvc('1Gi')), store);
  });
});
