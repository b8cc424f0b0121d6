import { describe, it, expect, afterEach } from 'vitest';
import type { Job } from 'kubernetes-types/batch/v1.js';
import { fakeCluster, settle, until } from '../../testing/fake-cluster.js';
import { rfc3339 } from '../../util/objects.js';
import { jobClient } from '../job/job-controller.js';
import { TTLAfterFinishedController } from './ttl-after-finished-controller.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

describe('TTLAfterFinishedController', () => {
  it('deletes a finished Job ttlSecondsAfterFinished after its Complete condition, not before', async () => {
    const c = await fakeCluster();
    const ctl = new TTLAfterFinishedController({ client: c.client, informers: c.informers, clock: c.clock });
    stops.push(() => {
      ctl.stop();
      c.informers.stop();
    });
    await ctl.run();
    const jobs = jobClient(c.client);
    const template = { spec: { containers: [{ name: 'c', image: 'busybox' }], restartPolicy: 'Never' } };
    const make = (name: string, ttl?: number): Promise<Job> =>
      jobs.create({
        metadata: { name, namespace: 'default' },
        spec: { template, ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}) },
      });
    const finish = async (name: string): Promise<void> => {
      const j = await jobs.get(name, 'default');
      const t = rfc3339(c.clock.now());
      await jobs.updateStatus({
        ...j,
        status: {
          startTime: t,
          completionTime: t,
          succeeded: 1,
          conditions: [
            {
              type: 'SuccessCriteriaMet',
              status: 'True',
              reason: 'CompletionsReached',
              lastTransitionTime: t,
            },
            { type: 'Complete', status: 'True', reason: 'CompletionsReached', lastTransitionTime: t },
          ],
        },
      });
    };
    await make('ttl', 30);
    await make('keep');
    await make('running', 0);
    await finish('ttl');
    await finish('keep');
    await settle();
    c.clock.advance(29_000);
    await settle();
    const names = () =>
      c
        .objects<Job>('jobs', 'default')
        .filter((j) => !j.metadata?.deletionTimestamp)
        .map((j) => j.metadata?.name)
        .sort();
    expect(names()).toEqual(['keep', 'running', 'ttl']);
    c.clock.advance(1_000);
    await until(() => !names().includes('ttl'), 'ttl deleted');
    expect(names()).toEqual(['keep', 'running']);
  });
});
