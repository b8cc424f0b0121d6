// Priority admission: priorityClassName → spec.priority/preemptionPolicy, the global default, refusals.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { priorityPlugin } from './priority.js';
import { MemoryStore, attrs, pod, rejection } from './testdata/memory-store.js';

const pc = (name: string, value: number, more: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'scheduling.k8s.io/v1',
  kind: 'PriorityClass',
  metadata: { name },
  value,
  preemptionPolicy: 'PreemptLowerPriority',
  ...more,
});
const classes = (): MemoryStore =>
  new MemoryStore()
    .put('scheduling.k8s.io', 'priorityclasses', pc('placeholder', -1000))
    .put('scheduling.k8s.io', 'priorityclasses', pc('never', 50, { preemptionPolicy: 'Never' }));
type Spec = { priority?: number; preemptionPolicy?: string; priorityClassName?: string };
const specOf = (p: KubeObject): Spec => p['spec'] as Spec;

describe('Priority admission', () => {
  it('resolves the class to priority and preemption policy; no class and no default means 0', async () => {
    const store = classes();
    const p = pod('p', [{ name: 'c' }], { priorityClassName: 'never' });
    await priorityPlugin.admit!(attrs('CREATE', 'pods', p), store);
    expect(specOf(p)).toMatchObject({ priority: 50, preemptionPolicy: 'Never' });
    const plain = pod('q', [{ name: 'c' }]);
    await priorityPlugin.admit!(attrs('CREATE', 'pods', plain), store);
    expect(specOf(plain)).toMatchObject({ priority: 0, preemptionPolicy: 'PreemptLowerPriority' });
    expect(specOf(plain).priorityClassName).toBeUndefined();
  });

  it('gives pods without a class the globalDefault one (the lowest value if several)', async () => {
    const store = classes()
      .put('scheduling.k8s.io', 'priorityclasses', pc('a', 100, { globalDefault: true }))
      .put('scheduling.k8s.io', 'priorityclasses', pc('b', 10, { globalDefault: true }));
    const p = pod('p', [{ name: 'c' }]);
    await priorityPlugin.admit!(attrs('CREATE', 'pods', p), store);
    expect(specOf(p)).toMatchObject({ priorityClassName: 'b', priority: 10 });
  });

  it('refuses an unknown class, and a priority that contradicts the class', async () => {
    const store = classes();
    expect(
      (
        await rejection(
          priorityPlugin.admit!(attrs('CREATE', 'pods', pod('p', [], { priorityClassName: 'nope' })), store),
        )
      ).message,
    ).toBe('pods "p" is forbidden: no PriorityClass with name nope was found');
    expect(
      (
        await rejection(
          priorityPlugin.admit!(
            attrs('CREATE', 'pods', pod('p', [], { priorityClassName: 'placeholder', priority: 7 })),
            store,
          ),
        )
      ).message,
    ).toBe(
      'pods "p" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed -1000 from the given PriorityClass name',
    );
  });

  it('keeps the priority on an update that leaves it out', async () => {
    const old = pod('p', [], { priority: 50, preemptionPolicy: 'Never', priorityClassName: 'never' });
    const next = pod('p', [], { priorityClassName: 'never' });
    await priorityPlugin.admit!(attrs('UPDATE', 'pods', next, { oldObject: old }), classes());
    expect(specOf(next)).toMatchObject({ priority: 50, preemptionPolicy: 'Never' });
  });

  it('allows only one global default PriorityClass', async () => {
    const store = classes().put(
      'scheduling.k8s.io',
      'priorityclasses',
      pc('first', 1, { globalDefault: true }),
    );
    const second = pc('second', 2, { globalDefault: true });
    const a = attrs('CREATE', 'priorityclasses', second, { group: 'scheduling.k8s.io', namespace: '' });
    expect((await rejection(priorityPlugin.validate!(a, store))).message).toBe(
      'priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist',
    );
    const same = attrs('UPDATE', 'priorityclasses', pc('first', 1, { globalDefault: true }), {
      group: 'scheduling.k8s.io',
      namespace: '',
    });
    await priorityPlugin.validate!(same, store);
  });
});
