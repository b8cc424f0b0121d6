// ServiceAccount admission: the default ServiceAccount, and pods refused while theirs does not exist.
import { describe, expect, it } from 'vitest';
import { serviceAccountPlugin } from './service-account.js';
import { MemoryStore, attrs, pod, rejection } from './testdata/memory-store.js';

const sa = (name: string, more: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: 'ns' },
  ...more,
});

describe('ServiceAccount admission', () => {
  it('runs a pod without one as `default`, with the account image pull secrets', async () => {
    const store = new MemoryStore().put(
      '',
      'serviceaccounts',
      sa('default', { imagePullSecrets: [{ name: 'reg' }] }),
    );
    const p = pod('p', [{ name: 'c' }]);
    await serviceAccountPlugin().admit!(attrs('CREATE', 'pods', p), store);
    expect(p['spec']).toMatchObject({
      serviceAccountName: 'default',
      serviceAccount: 'default',
      imagePullSecrets: [{ name: 'reg' }],
    });
  });

  it('refuses a pod whose ServiceAccount does not exist, with upstream message', async () => {
    const store = new MemoryStore().put('', 'serviceaccounts', sa('default'));
    const e = await rejection(
      serviceAccountPlugin().admit!(
        attrs('CREATE', 'pods', pod('p', [], { serviceAccountName: 'robot' })),
        store,
      ),
    );
    expect(e.code).toBe(403);
    expect(e.message).toBe(
      'pods "p" is forbidden: error looking up service account ns/robot: serviceaccount "robot" not found',
    );
  });

  it('waits a little for the default ServiceAccount the controller is about to make', async () => {
    const store = new MemoryStore();
    setTimeout(() => store.put('', 'serviceaccounts', sa('default')), 30);
    const p = pod('p', []);
    await serviceAccountPlugin({ defaultAttempts: 50, retryIntervalMs: 10 }).admit!(
      attrs('CREATE', 'pods', p),
      store,
    );
    expect(p['spec']).toMatchObject({ serviceAccountName: 'default' });
    const never = new MemoryStore();
    expect(
      (
        await rejection(
          serviceAccountPlugin({ defaultAttempts: 3, retryIntervalMs: 1 }).admit!(
            attrs('CREATE', 'pods', pod('q', [])),
            never,
          ),
        )
      ).message,
    ).toBe(
      'pods "q" is forbidden: error looking up service account ns/default: serviceaccount "default" not found',
    );
  });
});
