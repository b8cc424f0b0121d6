// PriorityClass storage (pkg/registry/scheduling/priorityclass/storage): the classes the apiserver creates at start
// are there and cannot be deleted; user classes can.
import { describe, expect, it } from 'vitest';
import { fakeCluster } from '../../testing/fake-cluster.js';

describe('priorityclasses', () => {
  it('the system classes exist from the start and refuse deletion in upstream words', async () => {
    const c = await fakeCluster();
    const classes = c.client.resource<{ metadata?: { name?: string }; value?: number }>(
      'scheduling.k8s.io',
      'v1',
      'priorityclasses',
    );
    const names = (await classes.list()).items.map((p) => [p.metadata?.name, p.value]);
    expect(names).toEqual(
      expect.arrayContaining([
        ['system-cluster-critical', 2000000000],
        ['system-node-critical', 2000001000],
      ]),
    );
    await expect(classes.delete('system-node-critical')).rejects.toMatchObject({
      code: 403,
      message:
        'priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted',
    });
    await classes.create({ metadata: { name: 'high-priority' }, value: 1000000 });
    await classes.delete('high-priority');
    expect((await classes.list()).items.map((p) => p.metadata?.name)).not.toContain('high-priority');
  });
});
