// Jobs and CronJobs end to end (issue #22), with the real kubectl and manifests from the Kubernetes docs (only the
// image names changed): the pi Job, a Job of 5 completions 2 at a time, an Indexed Job whose pods see their
// indexes, a Job failing at its backoffLimit, a CronJob on a compressed clock keeping its history limit,
// `kubectl create job` (also --from=cronjob/NAME) and `kubectl wait --for=condition=complete`.
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Event, Pod } from 'kubernetes-types/core/v1.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';

let c: TestCluster;

beforeAll(async () => {
  // the docs' images run the machine's tools: perl for pi, bash and rev for the Indexed Job
  ensureCommands([
    ['perl', 'perl'],
    ['bash', 'bash'],
    ['rev', 'util-linux'],
  ]);
  c = await upCluster({ nodes: 2 });
}, 180_000);

afterAll(async () => {
  await c?.down();
});

const jobPods = async (job: string): Promise<Pod[]> =>
  (
    await c.getJson<{ items: Pod[] }>([
      'get',
      'pods',
      '-l',
      `batch.kubernetes.io/job-name=${job}`,
      '-o',
      'json',
    ])
  ).items;

async function waitComplete(job: string, timeout = '120s'): Promise<void> {
  const r = await c.kubectl(['wait', '--for=condition=complete', `job/${job}`, `--timeout=${timeout}`], {
    timeoutMs: 130_000,
  });
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  expect(r.stdout).toContain(`job.batch/${job} condition met`);
}

describe('Jobs', () => {
  it('runs the docs pi Job to completion: kubectl wait --for=condition=complete, logs, COMPLETIONS 1/1', async () => {
    // https://kubernetes.io/docs/concepts/workloads/controllers/job/ (controllers/job.yaml) with the image
    // busybox, which runs the machine's perl; 1000 digits, not 2000: Debian 12's perl 5.36 Math::BigInt dies on
    // bpi(2000) ("Can't use an undefined value as an ARRAY reference"), which is perl's bug, not the Job's
    const manifest = `apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: busybox
        command: ["perl",  "-Mbignum=bpi", "-wle", "print bpi(1000)"]
      restartPolicy: Never
  backoffLimit: 4
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    await waitComplete('pi');
    const logs = await c.kubectl(['logs', 'job/pi']);
    expect(logs.stdout).toMatch(/^3\.14159265358979323846264338327950288419716939937510/);
    const get = await c.kubectl(['get', 'job', 'pi']);
    expect(get.stdout).toMatch(/pi\s+Complete\s+1\/1/);
    const job = await c.getJson<Job>(['get', 'job', 'pi', '-o', 'json']);
    expect(job.status?.conditions?.map((x) => `${x.type}=${x.status}`)).toEqual([
      'SuccessCriteriaMet=True',
      'Complete=True',
    ]);
    const pods = await jobPods('pi');
    expect(pods).toHaveLength(1);
    expect(pods[0].status?.phase).toBe('Succeeded');
    // counted, so the tracking finalizer is gone
    expect(pods[0].metadata?.finalizers ?? []).not.toContain('batch.kubernetes.io/job-tracking');
  }, 180_000);

  it('runs 5 completions at most 2 at a time', async () => {
    const manifest = `apiVersion: batch/v1
kind: Job
metadata:
  name: work
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      containers:
      - name: work
        image: busybox
        command: ["sh", "-c", "echo working on $HOSTNAME; sleep 1"]
      restartPolicy: Never
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    await waitComplete('work');
    const job = await c.getJson<Job>(['get', 'job', 'work', '-o', 'json']);
    expect(job.status).toMatchObject({ succeeded: 5, active: 0 });
    const pods = await jobPods('work');
    expect(pods).toHaveLength(5);
    // from the containers' own start and finish times: never more than 2 running at once
    const spans = pods.map((p) => {
      const t = p.status!.containerStatuses![0].state!.terminated!;
      return [Date.parse(t.startedAt!), Date.parse(t.finishedAt!)] as const;
    });
    for (const [start] of spans) {
      const running = spans.filter(([s, f]) => s <= start && start < f).length;
      expect(running).toBeLessThanOrEqual(2);
    }
  }, 180_000);

  it('gives each pod of an Indexed Job its index (the docs static work assignment)', async () => {
    // https://kubernetes.io/docs/tasks/job/indexed-parallel-processing-static/ (application/job/indexed-job.yaml)
    const manifest = `apiVersion: batch/v1
kind: Job
metadata:
  name: 'indexed-job'
spec:
  completions: 5
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      initContainers:
      - name: 'input'
        image: 'busybox'
        command:
        - "bash"
        - "-c"
        - |
          items=(foo bar baz qux xyz)
          echo \${items[$JOB_COMPLETION_INDEX]} > /input/data.txt
        volumeMounts:
        - mountPath: /input
          name: input
      containers:
      - name: 'worker'
        image: 'docker.io/library/busybox'
        command:
        - "rev"
        - "/input/data.txt"
        volumeMounts:
        - mountPath: /input
          name: input
      volumes:
      - name: input
        emptyDir: {}
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    await waitComplete('indexed-job');
    const job = await c.getJson<Job>(['get', 'job', 'indexed-job', '-o', 'json']);
    expect(job.status?.completedIndexes).toBe('0-4');
    const pods = await jobPods('indexed-job');
    expect(pods).toHaveLength(5);
    const seen: Record<string, string> = {};
    for (const p of pods) {
      const ix = p.metadata!.annotations!['batch.kubernetes.io/job-completion-index'];
      expect(p.metadata?.labels?.['batch.kubernetes.io/job-completion-index']).toBe(ix);
      expect(p.metadata?.name).toMatch(new RegExp(`^indexed-job-${ix}-[a-z0-9]{5}$`));
      expect(p.spec?.hostname).toBe(`indexed-job-${ix}`);
      seen[ix] = (await c.kubectl(['logs', p.metadata!.name!])).stdout.trim();
    }
    expect(seen).toEqual({ '0': 'oof', '1': 'rab', '2': 'zab', '3': 'xuq', '4': 'zyx' });
  }, 180_000);

  it('stops a failing Job at its backoffLimit with Failed (BackoffLimitExceeded)', async () => {
    const manifest = `apiVersion: batch/v1
kind: Job
metadata:
  name: fails
spec:
  backoffLimit: 2
  template:
    spec:
      containers:
      - name: fail
        image: busybox
        command: ["sh", "-c", "echo failing; exit 3"]
      restartPolicy: Never
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    const w = await c.kubectl(['wait', '--for=condition=failed', 'job/fails', '--timeout=120s'], {
      timeoutMs: 130_000,
    });
    expect(w.code, w.stderr).toBe(0);
    const job = await c.getJson<Job>(['get', 'job', 'fails', '-o', 'json']);
    const failed = job.status?.conditions?.find((x) => x.type === 'Failed');
    expect(failed).toMatchObject({
      status: 'True',
      reason: 'BackoffLimitExceeded',
      message: 'Job has reached the specified backoff limit',
    });
    expect(job.status).toMatchObject({ failed: 3, active: 0 });
    const pods = await jobPods('fails');
    expect(pods.map((p) => p.status?.phase)).toEqual(['Failed', 'Failed', 'Failed']);
    const events = await c.getJson<{ items: Event[] }>([
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Job,involvedObject.name=fails',
      '-o',
      'json',
    ]);
    expect(events.items.some((e) => e.reason === 'BackoffLimitExceeded' && e.type === 'Warning')).toBe(true);
  }, 180_000);

  it('kubectl create job NAME --image ... runs it', async () => {
    const r = await c.kubectl([
      'create',
      'job',
      'once',
      '--image=busybox',
      '--',
      'sh',
      '-c',
      'echo made by kubectl',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('job.batch/once created');
    await waitComplete('once');
    expect((await c.kubectl(['logs', 'job/once'])).stdout.trim()).toBe('made by kubectl');
  }, 180_000);
});

describe('CronJobs', () => {
  it('fires the docs CronJob on a compressed clock and keeps its history limit; create job --from=cronjob', async () => {
    // https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ (application/job/cronjob.yaml)
    const manifest = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: hello
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: hello
            image: busybox:1.28
            imagePullPolicy: IfNotPresent
            command:
            - /bin/sh
            - -c
            - date; echo Hello from the Kubernetes cluster
          restartPolicy: OnFailure
`;
    expect((await c.kubectl(['apply', '-f', '-'], { input: manifest })).code).toBe(0);
    // a minute every 6 seconds
    const a = await c.kubectl(['annotate', 'cronjob', 'hello', 'kubemu.dev/schedule-speed=10']);
    expect(a.code, a.stderr).toBe(0);
    const owned = async (): Promise<Job[]> =>
      (await c.getJson<{ items: Job[] }>(['get', 'jobs', '-o', 'json'])).items.filter(
        (j) => j.metadata?.ownerReferences?.[0]?.name === 'hello' && !j.metadata?.deletionTimestamp,
      );
    const cronEvents = async (reason: string): Promise<number> =>
      (
        await c.getJson<{ items: Event[] }>([
          'get',
          'events',
          '--field-selector',
          'involvedObject.kind=CronJob,involvedObject.name=hello',
          '-o',
          'json',
        ])
      ).items
        .filter((e) => e.reason === reason)
        .reduce((n, e) => n + (e.count ?? 1), 0);
    // 5 runs, then no more: at least 2 beyond successfulJobsHistoryLimit's default of 3
    await c.waitFor(
      '5 Jobs created by the CronJob',
      async () => (await cronEvents('SuccessfulCreate')) >= 5,
      150_000,
    );
    expect((await c.kubectl(['patch', 'cronjob', 'hello', '-p', '{"spec":{"suspend":true}}'])).code).toBe(0);
    const isDone = (j: Job): boolean =>
      !!j.status?.conditions?.some((x) => x.type === 'Complete' && x.status === 'True');
    await c.waitFor(
      'every Job finished and only 3 kept',
      async () => {
        const jobs = await owned();
        return jobs.length === 3 && jobs.every(isDone);
      },
      90_000,
    );
    expect(await cronEvents('SuccessfulDelete')).toBeGreaterThanOrEqual(2);
    const cj = await c.getJson<CronJob>(['get', 'cronjob', 'hello', '-o', 'json']);
    expect(cj.status?.lastScheduleTime).toBeTruthy();
    expect(cj.status?.lastSuccessfulTime).toBeTruthy();
    // the Jobs are named by the scheduled minute and carry the scheduled time
    const jobs = await owned();
    for (const j of jobs) {
      expect(j.metadata?.name).toMatch(/^hello-\d+$/);
      expect(j.metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toMatch(/:00Z$/);
    }
    const logs = await c.kubectl(['logs', `job/${jobs[0].metadata!.name}`]);
    expect(logs.stdout).toContain('Hello from the Kubernetes cluster');
    const describe = await c.kubectl(['describe', 'cronjob', 'hello']);
    expect(describe.stdout).toContain('ScheduleSpeed');
    expect(describe.stdout).toMatch(/10× faster than real time/);

    // a manual run from the CronJob's template
    const r = await c.kubectl(['create', 'job', '--from=cronjob/hello', 'hello-manual']);
    expect(r.code, r.stderr).toBe(0);
    await waitComplete('hello-manual');
    const manual = await c.getJson<Job>(['get', 'job', 'hello-manual', '-o', 'json']);
    expect(manual.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect((await c.kubectl(['logs', 'job/hello-manual'])).stdout).toContain(
      'Hello from the Kubernetes cluster',
    );
  }, 300_000);
});
