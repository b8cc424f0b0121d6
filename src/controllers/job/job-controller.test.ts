import { describe, it, expect, afterEach } from 'vitest';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import {
  fakeCluster,
  finishTerminatingPods,
  markPodReady,
  setPodStatus,
  settle,
  until,
  type FakeCluster,
} from '../../testing/fake-cluster.js';
import { rfc3339 } from '../../util/objects.js';
import { JobController, jobClient } from './job-controller.js';

const ns = 'default';

function job(name: string, spec: Partial<NonNullable<Job['spec']>> = {}): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: {
      template: {
        spec: { containers: [{ name: 'c', image: 'busybox', command: ['true'] }], restartPolicy: 'Never' },
      },
      ...spec,
    },
  };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(c: FakeCluster, opts: { backoffMs?: number } = {}): Promise<JobController> {
  const ctl = new JobController({
    client: c.client,
    informers: c.informers,
    clock: c.clock,
    syncBatchMs: 0,
    podFailureBackoffMs: opts.backoffMs ?? 1_000,
    maxPodFailureBackoffMs: 60_000,
  });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return ctl;
}

const pods = (c: FakeCluster): Pod[] => c.objects<Pod>('pods', ns);
const livePods = (c: FakeCluster): Pod[] =>
  pods(c).filter(
    (p) => !p.metadata?.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''),
  );
const jobOf = (c: FakeCluster, name: string): Job =>
  c.objects<Job>('jobs', ns).find((j) => j.metadata?.name === name)!;
const cond = (j: Job, type: string) => j.status?.conditions?.find((x) => x.type === type);
const events = (c: FakeCluster): Event[] => c.objects<Event>('events', ns);

/** move the clock on in steps until `predicate` holds (a back-off running out) */
async function advanceUntil(
  c: FakeCluster,
  predicate: () => boolean,
  what: string,
  stepMs = 250,
): Promise<number> {
  let waited = 0;
  while (!predicate()) {
    if (waited > 60_000) throw new Error(`timed out waiting for ${what}`);
    c.clock.advance(stepMs);
    waited += stepMs;
    await settle(10);
  }
  return waited;
}

/** what a kubelet reports when a container exits: the phase and the container's terminated state */
async function finish(c: FakeCluster, pod: Pod, exitCode: number): Promise<void> {
  const at = rfc3339(c.clock.now());
  await setPodStatus(c, pod.metadata!.name!, ns, {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: at }],
    containerStatuses: [
      {
        name: 'c',
        image: 'busybox',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: {
          terminated: {
            exitCode,
            startedAt: at,
            finishedAt: at,
            reason: exitCode === 0 ? 'Completed' : 'Error',
          },
        },
      },
    ],
  });
}

describe('JobController', () => {
  it('runs 5 completions 2 at a time, counts through the tracking finalizer and completes', async () => {
    const c = await fakeCluster();
    const ctl = await start(c);
    const created = await jobClient(c.client).create(job('pi', { completions: 5, parallelism: 2 }));
    const seen = new Set<string>();
    for (let round = 0; round < 10 && !cond(jobOf(c, 'pi'), 'Complete'); round++) {
      await until(() => livePods(c).length > 0 || !!cond(jobOf(c, 'pi'), 'Complete'), 'a running pod');
      const live = livePods(c);
      expect(live.length).toBeLessThanOrEqual(2);
      for (const p of live) {
        seen.add(p.metadata!.name!);
        expect(p.metadata?.finalizers).toContain('batch.kubernetes.io/job-tracking');
        expect(p.metadata?.generateName).toBe('pi-');
        expect(p.metadata?.labels).toMatchObject({
          'batch.kubernetes.io/job-name': 'pi',
          'job-name': 'pi',
          'batch.kubernetes.io/controller-uid': created.metadata!.uid,
        });
        expect(p.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Job', name: 'pi', controller: true });
        await markPodReady(c, p);
        await finish(c, p, 0);
      }
      await settle();
    }
    await until(() => !!cond(jobOf(c, 'pi'), 'Complete'), 'Complete');
    const j = jobOf(c, 'pi');
    expect(seen.size).toBe(5);
    expect(j.status).toMatchObject({ succeeded: 5, active: 0, ready: 0, terminating: 0 });
    expect(j.status?.failed ?? 0).toBe(0);
    expect(j.status?.completionTime).toBeTruthy();
    expect(j.status?.startTime).toBeTruthy();
    expect(cond(j, 'SuccessCriteriaMet')).toMatchObject({ status: 'True', reason: 'CompletionsReached' });
    expect(cond(j, 'Complete')).toMatchObject({
      status: 'True',
      reason: 'CompletionsReached',
      message: 'Reached expected number of succeeded pods',
    });
    // every finished pod was counted once and let go of
    await until(() => pods(c).every((p) => !p.metadata?.finalizers?.length), 'finalizers removed');
    await ctl.flushEvents();
    expect(events(c).some((e) => e.reason === 'Completed' && e.message === 'Job completed')).toBe(true);
    expect(events(c).filter((e) => e.reason === 'SuccessfulCreate')).toHaveLength(5);
  });

  it('gives Indexed pods their index: annotation, label, env, hostname; completedIndexes', async () => {
    const c = await fakeCluster();
    await start(c);
    await jobClient(c.client).create(
      job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }),
    );
    await until(() => livePods(c).length === 3, '3 pods');
    const byIndex = new Map(
      livePods(c).map((p) => [p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'], p]),
    );
    expect([...byIndex.keys()].sort()).toEqual(['0', '1', '2']);
    for (const [ix, p] of byIndex) {
      expect(p.metadata?.labels?.['batch.kubernetes.io/job-completion-index']).toBe(ix);
      expect(p.metadata?.generateName).toBe(`idx-${ix}-`);
      expect(p.spec?.hostname).toBe(`idx-${ix}`);
      expect(p.spec?.containers[0].env).toContainEqual({
        name: 'JOB_COMPLETION_INDEX',
        valueFrom: {
          fieldRef: {
            apiVersion: 'v1',
            fieldPath: "metadata.labels['batch.kubernetes.io/job-completion-index']",
          },
        },
      });
    }
    await finish(c, byIndex.get('0')!, 0);
    await finish(c, byIndex.get('2')!, 0);
    await until(() => jobOf(c, 'idx').status?.completedIndexes === '0,2', 'completedIndexes 0,2');
    await finish(c, byIndex.get('1')!, 0);
    await until(() => !!cond(jobOf(c, 'idx'), 'Complete'), 'Complete');
    expect(jobOf(c, 'idx').status).toMatchObject({ completedIndexes: '0-2', succeeded: 3 });
  });

  it('backs off exponentially between failed pods and fails at backoffLimit with BackoffLimitExceeded', async () => {
    const c = await fakeCluster();
    const ctl = await start(c, { backoffMs: 1_000 });
    await jobClient(c.client).create(job('fail', { backoffLimit: 2 }));
    const waits: number[] = [];
    for (let failure = 0; failure < 3; failure++) {
      await until(() => livePods(c).length === 1, `pod ${failure + 1}`);
      await finish(c, livePods(c)[0], 1);
      if (failure === 2) break;
      await settle();
      // no replacement before the back-off has passed: 1 s, then 2 s
      let waited = 0;
      while (livePods(c).length === 0 && waited < 10_000) {
        c.clock.advance(250);
        waited += 250;
        await settle(10);
      }
      waits.push(waited);
    }
    expect(waits[0]).toBeGreaterThanOrEqual(1_000);
    expect(waits[1]).toBeGreaterThanOrEqual(2_000);
    await until(() => !!cond(jobOf(c, 'fail'), 'Failed'), 'Failed');
    const j = jobOf(c, 'fail');
    expect(cond(j, 'FailureTarget')).toMatchObject({ status: 'True', reason: 'BackoffLimitExceeded' });
    expect(cond(j, 'Failed')).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(j.status).toMatchObject({ failed: 3, active: 0 });
    expect(j.status?.completionTime).toBeUndefined();
    await ctl.flushEvents();
    expect(events(c).some((e) => e.type === 'Warning' && e.reason === 'BackoffLimitExceeded')).toBe(true);
  });

  it('suspends (pods deleted, Suspended condition) and resumes', async () => {
    const c = await fakeCluster();
    await start(c);
    const jobs = jobClient(c.client);
    await jobs.create(job('s', { parallelism: 2, completions: 4 }));
    await until(() => livePods(c).length === 2, '2 pods');
    await jobs.patch('s', { spec: { suspend: true } }, 'merge', { namespace: ns });
    await until(() => cond(jobOf(c, 's'), 'Suspended')?.status === 'True', 'Suspended');
    expect(cond(jobOf(c, 's'), 'Suspended')).toMatchObject({
      reason: 'JobSuspended',
      message: 'Job suspended',
    });
    await finishTerminatingPods(c, ns);
    await until(() => pods(c).length === 0, 'pods gone');
    await jobs.patch('s', { spec: { suspend: false } }, 'merge', { namespace: ns });
    await until(
      () => cond(jobOf(c, 's'), 'Suspended')?.status === 'False' && livePods(c).length === 2,
      'resumed',
    );
    expect(cond(jobOf(c, 's'), 'Suspended')).toMatchObject({ reason: 'JobResumed' });
  });

  it('fails a Job past activeDeadlineSeconds with DeadlineExceeded and deletes its pods', async () => {
    const c = await fakeCluster();
    await start(c);
    await jobClient(c.client).create(job('slow', { activeDeadlineSeconds: 10 }));
    await until(() => livePods(c).length === 1, 'pod');
    c.clock.advance(10_000);
    await until(
      () => cond(jobOf(c, 'slow'), 'FailureTarget')?.reason === 'DeadlineExceeded',
      'FailureTarget',
    );
    expect(pods(c)[0].metadata?.deletionTimestamp).toBeTruthy();
    // the pod is terminating: the Job is not Failed until it is gone
    expect(cond(jobOf(c, 'slow'), 'Failed')).toBeUndefined();
    await finishTerminatingPods(c, ns);
    await until(() => !!cond(jobOf(c, 'slow'), 'Failed'), 'Failed');
    expect(cond(jobOf(c, 'slow'), 'Failed')).toMatchObject({
      reason: 'DeadlineExceeded',
      message: 'Job was active longer than specified deadline',
    });
    await until(() => pods(c).length === 0, 'pod gone once the finalizer is removed');
  });

  it('podFailurePolicy: Ignore does not count, FailJob fails the Job at once', async () => {
    const c = await fakeCluster();
    await start(c);
    await jobClient(c.client).create(
      job('pfp', {
        backoffLimit: 6,
        podFailurePolicy: {
          rules: [
            { action: 'Ignore', onExitCodes: { operator: 'In', values: [3] } },
            { action: 'FailJob', onExitCodes: { containerName: 'c', operator: 'In', values: [42] } },
          ],
        },
      }),
    );
    await until(() => livePods(c).length === 1, 'pod');
    await finish(c, livePods(c)[0], 3);
    await advanceUntil(c, () => livePods(c).length === 1, 'a replacement');
    expect(pods(c)).toHaveLength(2);
    expect(jobOf(c, 'pfp').status?.failed ?? 0).toBe(0);
    const victim = livePods(c)[0];
    await finish(c, victim, 42);
    await until(() => !!cond(jobOf(c, 'pfp'), 'Failed'), 'Failed');
    expect(cond(jobOf(c, 'pfp'), 'Failed')).toMatchObject({
      reason: 'PodFailurePolicy',
      message: `Container c for pod default/${victim.metadata!.name} failed with exit code 42 matching FailJob rule at index 1`,
    });
  });

  it('backoffLimitPerIndex marks an index failed and the Job FailedIndexes once every index is done', async () => {
    const c = await fakeCluster();
    await start(c, { backoffMs: 100 });
    await jobClient(c.client).create(
      job('bpi', { completions: 2, parallelism: 2, completionMode: 'Indexed', backoffLimitPerIndex: 1 }),
    );
    await until(() => livePods(c).length === 2, '2 pods');
    const idx = (p: Pod) => p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'];
    const zero = livePods(c).find((p) => idx(p) === '0')!;
    const one = livePods(c).find((p) => idx(p) === '1')!;
    expect(zero.metadata?.annotations?.['batch.kubernetes.io/job-index-failure-count']).toBe('0');
    await finish(c, one, 0);
    await finish(c, zero, 1);
    for (let i = 0; i < 20 && !livePods(c).some((p) => idx(p) === '0'); i++) {
      c.clock.advance(100);
      await settle(10);
    }
    const retry = livePods(c).find((p) => idx(p) === '0')!;
    expect(retry.metadata?.annotations?.['batch.kubernetes.io/job-index-failure-count']).toBe('1');
    await finish(c, retry, 1);
    await until(() => !!cond(jobOf(c, 'bpi'), 'Failed'), 'Failed');
    expect(jobOf(c, 'bpi').status).toMatchObject({ failedIndexes: '0', completedIndexes: '1', failed: 2 });
    expect(cond(jobOf(c, 'bpi'), 'Failed')).toMatchObject({
      reason: 'FailedIndexes',
      message: 'Job has failed indexes',
    });
  });

  it('successPolicy: the Job completes once the listed indexes succeeded, deleting the rest', async () => {
    const c = await fakeCluster();
    await start(c);
    await jobClient(c.client).create(
      job('leader', {
        completions: 3,
        parallelism: 3,
        completionMode: 'Indexed',
        successPolicy: { rules: [{ succeededIndexes: '0' }] },
      }),
    );
    await until(() => livePods(c).length === 3, '3 pods');
    const zero = livePods(c).find(
      (p) => p.metadata?.annotations?.['batch.kubernetes.io/job-completion-index'] === '0',
    )!;
    await finish(c, zero, 0);
    await until(
      () => cond(jobOf(c, 'leader'), 'SuccessCriteriaMet')?.reason === 'SuccessPolicy',
      'SuccessCriteriaMet',
    );
    expect(cond(jobOf(c, 'leader'), 'SuccessCriteriaMet')?.message).toBe('Matched rules at index 0');
    await finishTerminatingPods(c, ns);
    await until(() => !!cond(jobOf(c, 'leader'), 'Complete'), 'Complete');
    expect(cond(jobOf(c, 'leader'), 'Complete')).toMatchObject({ reason: 'SuccessPolicy' });
  });

  it('podReplacementPolicy Failed waits for a deleted pod to be gone before replacing it', async () => {
    const c = await fakeCluster();
    await start(c);
    await jobClient(c.client).create(job('rp', { podReplacementPolicy: 'Failed' }));
    await until(() => livePods(c).length === 1, 'pod');
    const first = livePods(c)[0];
    await c.client.pods.delete(first.metadata!.name!, { namespace: ns });
    await until(() => jobOf(c, 'rp').status?.terminating === 1, 'terminating 1');
    await settle();
    expect(pods(c)).toHaveLength(1);
    await finish(c, await c.client.pods.get(first.metadata!.name!, ns), 137);
    await advanceUntil(c, () => livePods(c).length === 1, 'a replacement');
    expect(jobOf(c, 'rp').status?.failed).toBe(1);
  });

  it('removes the tracking finalizer of pods left by a deleted Job', async () => {
    const c = await fakeCluster();
    await start(c);
    await jobClient(c.client).create(job('gone'));
    await until(() => livePods(c).length === 1, 'pod');
    await jobClient(c.client).delete('gone', { namespace: ns, propagationPolicy: 'Orphan' });
    await until(
      () => pods(c).every((p) => !p.metadata?.finalizers?.includes('batch.kubernetes.io/job-tracking')),
      'finalizer removed',
    );
  });
});
