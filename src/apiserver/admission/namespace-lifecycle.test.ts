// NamespaceLifecycle admission: no content in a missing or terminating namespace; system namespaces stay.
import { describe, expect, it } from 'vitest';
import { namespaceLifecyclePlugin } from './namespace-lifecycle.js';
import { MemoryStore, attrs, rejection } from './testdata/memory-store.js';

describe('NamespaceLifecycle admission', () => {
  const store = new MemoryStore()
    .put('', 'namespaces', { metadata: { name: 'ns' } })
    .put('', 'namespaces', { metadata: { name: 'going', deletionTimestamp: '2026-01-01T00:00:00Z' } });
  const cm = (namespace: string) => ({ metadata: { name: 'c', namespace } });

  it('admits content in an active namespace', async () => {
    await namespaceLifecyclePlugin.admit!(attrs('CREATE', 'configmaps', cm('ns')), store);
  });

  it('refuses content in a namespace that does not exist (NotFound)', async () => {
    const e = await rejection(
      namespaceLifecyclePlugin.admit!(attrs('CREATE', 'configmaps', cm('nope')), store),
    );
    expect([e.reason, e.message]).toEqual(['NotFound', 'namespaces "nope" not found']);
  });

  it('refuses new content in a terminating namespace', async () => {
    const e = await rejection(
      namespaceLifecyclePlugin.admit!(attrs('CREATE', 'configmaps', cm('going')), store),
    );
    expect(e.message).toBe(
      'configmaps "c" is forbidden: unable to create new content in namespace going because it is being terminated',
    );
  });

  it('refuses to delete default, kube-system, kube-public', async () => {
    const e = await rejection(
      namespaceLifecyclePlugin.admit!(
        attrs('DELETE', 'namespaces', undefined, { name: 'kube-system', namespace: '' }),
        store,
      ),
    );
    expect(e.message).toBe('namespaces "kube-system" is forbidden: this namespace may not be deleted');
  });
});
