import { describe, it, expect, afterEach } from 'vitest';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Event } from 'kubernetes-types/core/v1.js';
import { FakeClock } from '../../util/clock.js';
import { fakeCluster, settle, until, type FakeCluster } from '../../testing/fake-cluster.js';
import { rfc3339 } from '../../util/objects.js';
import { jobClient } from '../job/job-controller.js';
import { CronJobController, cronJobClient } from './cronjob-controller.js';

const ns = 'default';
// a whole hour, so minute schedules line up with the test's arithmetic
const START = Date.parse('2026-12-06T20:00:00Z');

function cronJob(
  name: string,
  schedule: string,
  spec: Partial<NonNullable<CronJob['spec']>> = {},
  annotations?: Record<string, string>,
): CronJob {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
    spec: {
      schedule,
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: {
          template: {
            spec: {
              containers: [{ name: 'c', image: 'busybox', command: ['date'] }],
              restartPolicy: 'OnFailure',
            },
          },
        },
      },
      ...spec,
    },
  };
}

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

async function start(): Promise<{ c: FakeCluster; ctl: CronJobController }> {
  const c = await fakeCluster({ clock: new FakeClock(START) });
  const ctl = new CronJobController({ client: c.client, informers: c.informers, clock: c.clock });
  stops.push(() => {
    ctl.stop();
    c.informers.stop();
  });
  await ctl.run();
  return { c, ctl };
}

const jobs = (c: FakeCluster): Job[] =>
  c.objects<Job>('jobs', ns).filter((j) => !j.metadata?.deletionTimestamp);
const cjOf = (c: FakeCluster, name: string): CronJob =>
  c.objects<CronJob>('cronjobs', ns).find((j) => j.metadata?.name === name)!;
const events = (c: FakeCluster): Event[] => c.objects<Event>('events', ns);

async function tick(c: FakeCluster, ms: number): Promise<void> {
  c.clock.advance(ms);
  await settle();
}

async function complete(c: FakeCluster, job: Job, type: 'Complete' | 'Failed' = 'Complete'): Promise<void> {
  const t = rfc3339(c.clock.now());
  const fresh = await jobClient(c.client).get(job.metadata!.name!, ns);
  const interim = type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget';
  const reason = type === 'Complete' ? 'CompletionsReached' : 'BackoffLimitExceeded';
  await jobClient(c.client).updateStatus({
    ...fresh,
    status: {
      startTime: fresh.status?.startTime ?? t,
      ...(type === 'Complete' ? { completionTime: t, succeeded: 1 } : { failed: 1 }),
      conditions: [
        { type: interim, status: 'True', reason, lastTransitionTime: t },
        { type, status: 'True', reason, lastTransitionTime: t },
      ],
    },
  });
}

describe('CronJobController', () => {
  it('creates a Job at each schedule time, named by the scheduled minute, in the active list', async () => {
    const { c, ctl } = await start();
    const cj = await cronJobClient(c.client).create(cronJob('hello', '*/1 * * * *'));
    await tick(c, 30_000);
    expect(jobs(c)).toHaveLength(0);
    await tick(c, 30_200);
    await until(() => jobs(c).length === 1, 'first Job');
    const j = jobs(c)[0];
    const minute = Math.floor((START + 60_000) / 60_000);
    expect(j.metadata?.name).toBe(`hello-${minute}`);
    expect(j.metadata?.labels).toMatchObject({ app: 'hello' });
    expect(j.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(
      '2026-12-06T20:01:00Z',
    );
    expect(j.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'CronJob',
      name: 'hello',
      uid: cj.metadata?.uid,
      controller: true,
    });
    await until(() => cjOf(c, 'hello').status?.active?.length === 1, 'active list');
    expect(cjOf(c, 'hello').status?.lastScheduleTime).toBe('2026-12-06T20:01:00Z');
    await tick(c, 60_000);
    await until(() => jobs(c).length === 2, 'second Job');
    await ctl.flushEvents();
    expect(
      events(c)
        .filter((e) => e.reason === 'SuccessfulCreate')
        .map((e) => e.message),
    ).toContain(`Created job hello-${minute}`);
  });

  it('Forbid skips a run while one is active; Replace deletes the active one', async () => {
    const { c, ctl } = await start();
    await cronJobClient(c.client).create(cronJob('forbid', '* * * * *', { concurrencyPolicy: 'Forbid' }));
    await cronJobClient(c.client).create(cronJob('replace', '* * * * *', { concurrencyPolicy: 'Replace' }));
    await tick(c, 60_200);
    await until(() => jobs(c).length === 2, 'first Jobs');
    const firstReplace = jobs(c).find((j) => j.metadata?.name?.startsWith('replace-'))!;
    await tick(c, 60_000);
    await until(
      () =>
        jobs(c).filter((j) => j.metadata?.name?.startsWith('replace-')).length === 1 &&
        jobs(c).every((j) => j.metadata?.uid !== firstReplace.metadata?.uid),
      'replaced',
    );
    expect(jobs(c).filter((j) => j.metadata?.name?.startsWith('forbid-'))).toHaveLength(1);
    await ctl.flushEvents();
    expect(events(c).some((e) => e.reason === 'JobAlreadyActive' && e.involvedObject.name === 'forbid')).toBe(
      true,
    );
    expect(
      events(c).some(
        (e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${firstReplace.metadata?.name}`,
      ),
    ).toBe(true);
  });

  it('keeps successfulJobsHistoryLimit / failedJobsHistoryLimit finished Jobs and records lastSuccessfulTime', async () => {
    const { c } = await start();
    await cronJobClient(c.client).create(
      cronJob('hist', '* * * * *', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }),
    );
    for (let i = 1; i <= 4; i++) {
      await tick(c, 60_000 + (i === 1 ? 200 : 0));
      await until(() => cjOf(c, 'hist').status?.active?.length === 1, `run ${i}`);
      const active = cjOf(c, 'hist').status!.active![0];
      await complete(
        c,
        jobs(c).find((j) => j.metadata?.uid === active.uid)!,
        i === 2 ? 'Failed' : 'Complete',
      );
      await until(() => !cjOf(c, 'hist').status?.active, `run ${i} seen finished`);
    }
    await until(() => jobs(c).length === 3, '2 successful + 1 failed kept');
    expect(cjOf(c, 'hist').status?.lastSuccessfulTime).toBe(rfc3339(c.clock.now()));
  });

  it('does nothing while suspended; after an outage, starts the missed run only within startingDeadlineSeconds', async () => {
    const { c } = await start();
    const cjs = cronJobClient(c.client);
    await cjs.create(cronJob('sus', '* * * * *', { suspend: true }));
    // the controller does not hear of these two until 20:02:30 (a controller-manager outage)
    c.pauseWatches();
    await cjs.create(cronJob('late', '* * * * *', { startingDeadlineSeconds: 10 }));
    await cjs.create(cronJob('eager', '* * * * *'));
    c.clock.advance(150_000);
    c.resumeWatches();
    await until(() => jobs(c).length === 1, 'the missed 20:02 run of eager');
    expect(jobs(c)[0].metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(
      '2026-12-06T20:02:00Z',
    );
    await tick(c, 20_000);
    expect(jobs(c).map((j) => j.metadata?.name?.split('-')[0])).toEqual(['eager']);
    // late resumes with the next time inside its deadline
    await tick(c, 10_200);
    await until(() => jobs(c).some((j) => j.metadata?.name?.startsWith('late-')), 'late at 20:03');
    expect(jobs(c).some((j) => j.metadata?.name?.startsWith('sus-'))).toBe(false);
  });

  it('kubemu.dev/schedule-speed runs an hourly schedule 3600× faster and says so', async () => {
    const { c, ctl } = await start();
    await cronJobClient(c.client).create(
      cronJob('fast', '@hourly', {}, { 'kubemu.dev/schedule-speed': '3600' }),
    );
    await tick(c, 1_200);
    await until(() => jobs(c).length === 1, 'a Job after one real second');
    await tick(c, 1_000);
    await until(() => jobs(c).length === 2, 'the next hour one second later');
    const names = jobs(c)
      .map((j) => j.metadata!.name!)
      .sort();
    expect(names).toEqual([
      `fast-${Math.floor(START / 60_000) + 60}`,
      `fast-${Math.floor(START / 60_000) + 120}`,
    ]);
    expect(jobs(c)[0].metadata?.annotations?.['kubemu.dev/schedule-speed']).toBe('3600');
    // status times are real: two seconds after creation
    expect(cjOf(c, 'fast').status?.lastScheduleTime).toBe(rfc3339(START + 2_000));
    await ctl.flushEvents();
    const speed = events(c).find((e) => e.reason === 'ScheduleSpeed');
    expect(speed?.message).toContain('3600× faster than real time');
  });

  it('warns about a bad schedule-speed and keeps real time', async () => {
    const { c, ctl } = await start();
    await cronJobClient(c.client).create(
      cronJob('bad', '@hourly', {}, { 'kubemu.dev/schedule-speed': 'fast' }),
    );
    await tick(c, 5_000);
    expect(jobs(c)).toHaveLength(0);
    await ctl.flushEvents();
    expect(events(c).find((e) => e.reason === 'InvalidScheduleSpeed')?.type).toBe('Warning');
  });
});
