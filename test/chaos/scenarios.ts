// The chaos scenarios, shared by both modes: a workload under HTTP load and a burst of apiserver writes, broken
// with `kubemu chaos` (pm2 or docker backend), healed, and counted (requests sent/failed, writes acked/lost).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKubeconfig } from '../../src/util/kubeconfig.js';
import { FLUENTD } from '../helpers/docs-manifests.js';
import { waitFor } from '../helpers/wait.js';

export interface Run {
  stdout: string;
  stderr: string;
  code: number;
}

/** A running cluster as the scenarios see it; both modes provide one. */
export interface ChaosTarget {
  kubectl(args: string[], input?: string): Promise<Run>;
  /** `kubemu chaos ARGS` against this cluster (its --mode, --name, --state-dir added) */
  chaos(args: string[]): Promise<Run>;
  /** `node ARGS` where the cluster's addresses are (this namespace, or the docker engine's) */
  spawnNode(args: string[], env: NodeJS.ProcessEnv): ChildProcess;
  kubeconfig: string;
  /** http://IP of the ingress */
  ingressUrl: string;
  /** where this side reaches each node's NodePorts (`kubemu status`: 127.S.1.N); default 127.0.1.N */
  nodeIPs?: Record<string, string>;
  /**
   * the last lines of a component's log (only those naming one of `names`, when given), printed when a scenario
   * times out (where the mode can read it)
   */
  logTail?(component: string, names: string[]): string;
}

export interface Totals {
  sent: number;
  failed: number;
  acked: number;
  lastOkAt: number;
  lastFailAt: number;
  lastError: string;
}

interface Traffic {
  now(): Totals;
  acked: string[];
  stop(): Promise<Totals>;
}

const TRAFFIC = join(import.meta.dirname, 'traffic.mjs');
const APP = 'web';
const REPLICAS = 6;
const NODE_PORT = 30180;
const NODES = ['node-1', 'node-2', 'node-3'];
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${APP}}
spec:
  replicas: ${REPLICAS}
  selector: {matchLabels: {app: ${APP}}}
  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: ${APP}}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: kubemu/hello:v1
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${APP}}
spec:
  type: NodePort
  selector: {app: ${APP}}
  ports: [{port: 80, targetPort: 8080, nodePort: ${NODE_PORT}}]
---
apiVersion: v1
kind: Service
metadata: {name: ${APP}-lb}
spec:
  type: LoadBalancer
  selector: {app: ${APP}}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${APP}}
spec:
  defaultBackend: {service: {name: ${APP}, port: {number: 80}}}
`;

/**
 * The workloads of the node-failure scenario: a StatefulSet whose pods write to their own PersistentVolumeClaims (the
 * docs' web.yaml with kubemu's writer image and parallel start), a Job of three 20-second pods and, separately, the
 * docs' fluentd DaemonSet (docs-manifests.ts).
 */
const STATEFUL = `apiVersion: v1
kind: Service
metadata: {name: db, labels: {app: db}}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{port: 80, name: web}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 3
  podManagementPolicy: Parallel
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: writer
        image: kubemu/writer:v1
        env: [{name: FILE, value: /data/out.log}]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`;
const JOB = `apiVersion: batch/v1
kind: Job
metadata: {name: crunch}
spec:
  completions: 3
  parallelism: 3
  backoffLimit: 4
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: crunch
        image: busybox
        command: [sh, -c, 'sleep 20; echo done']
`;

interface PodView {
  name: string;
  node: string;
  phase: string;
  ready: boolean;
  terminating: boolean;
  image: string;
  /** the first container's restarts and, when not running, why (for the messages of a timeout) */
  restarts: number;
  state: string;
}

/** Defines the nine scenarios against the cluster `target()` returns (set up by the caller's beforeAll). */
export function chaosScenarios(mode: 'pm2' | 'netns' | 'docker', target: () => ChaosTarget): void {
  const count = { sent: 0, failed: 0, acked: 0, lost: 0 };
  const running = new Set<Traffic>();
  let t: ChaosTarget;
  const nodeIP = (node: string): string => t.nodeIPs?.[node] ?? `127.0.1.${node.slice('node-'.length)}`;

  const must = (r: Run, what: string): string => {
    if (r.code !== 0) throw new Error(`${what} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  const kubectl = async (args: string[], input?: string): Promise<string> =>
    must(await t.kubectl(args, input), `kubectl ${args.join(' ')}`);
  const getJson = async <T = any>(args: string[]): Promise<T> =>
    JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
  /**
   * runs `step`; when it fails, prints the events of the objects `about()` names and the last lines of each
   * component's log (only those naming one of them, when it names any): a timeout alone says little
   */
  const withLogOnFailure = async <T>(
    components: string[],
    step: () => Promise<T>,
    about: () => string[] = () => [],
  ): Promise<T> => {
    try {
      return await step();
    } catch (err) {
      const names = about();
      // the pods' events (probe failures, kills) say most; then the components' own words
      for (const name of names) {
        const ev = await t.kubectl(['get', 'events', '--field-selector', `involvedObject.name=${name}`]);
        console.log(`chaos[${mode}] events of ${name}:\n${ev.stdout}${ev.stderr}`);
      }
      for (const component of components) {
        const tail = t.logTail?.(component, names);
        if (tail) console.log(`chaos[${mode}] ${component} log, last lines:\n${tail}`);
      }
      throw err;
    }
  };
  const chaos = async (...args: string[]): Promise<string> => {
    const out = must(await t.chaos(args), `kubemu chaos ${args.join(' ')}`);
    console.log(`chaos[${mode}] ${args.join(' ')}: ${out.trim()}`);
    return out;
  };

  const pods = async (app = APP): Promise<PodView[]> =>
    (await getJson(['get', 'pods', '-l', `app=${app}`])).items.map((p: any) => ({
      name: p.metadata.name,
      node: p.spec.nodeName ?? '',
      phase: p.status?.phase ?? '',
      ready: p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false,
      terminating: !!p.metadata.deletionTimestamp,
      image: p.spec.containers[0].image,
      restarts: p.status?.containerStatuses?.[0]?.restartCount ?? 0,
      state: Object.entries(p.status?.containerStatuses?.[0]?.state ?? {})
        .map(([k, v]: [string, any]) => `${k}${v?.reason ? `(${v.reason})` : ''}`)
        .join(','),
    }));
  const nodeReady = async (name: string): Promise<string> =>
    (await getJson(['get', 'node', name])).status?.conditions?.find((c: any) => c.type === 'Ready')?.status ??
    'missing';
  const serving = (p: PodView[], except?: string): PodView[] =>
    p.filter((x) => x.ready && !x.terminating && x.node !== except);

  function traffic(args: string[], env: NodeJS.ProcessEnv = {}): Traffic {
    const child = t.spawnNode([TRAFFIC, ...args], { ...process.env, ...env });
    let totals: Totals = { sent: 0, failed: 0, acked: 0, lastOkAt: 0, lastFailAt: 0, lastError: '' };
    const acked: string[] = [];
    let buf = '';
    let err = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.startsWith('ack ')) acked.push(line.slice(4));
        else if (line.startsWith('{')) totals = JSON.parse(line) as Totals;
      }
    });
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const tr: Traffic = {
      now: () => totals,
      acked,
      async stop() {
        running.delete(tr);
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
        if (err.trim()) throw new Error(`traffic ${args[0]}: ${err.trim()}`);
        count.sent += totals.sent;
        count.failed += totals.failed;
        return totals;
      },
    };
    running.add(tr);
    return tr;
  }
  /** waits until a request sent after `since` succeeded */
  const servesAfter = (tr: Traffic, since: number, what: string, ms = 30_000): Promise<number> =>
    waitFor(what, () => Promise.resolve(tr.now().lastOkAt > since ? tr.now().lastOkAt : undefined), ms);
  const report = (what: string, tot: Totals): void =>
    console.log(
      `chaos[${mode}] ${what}: ${tot.sent} requests, ${tot.failed} failed` +
        (tot.failed ? ` (last: ${tot.lastError})` : ''),
    );

  describe(`chaos (${mode} mode)`, () => {
    beforeAll(() => {
      t = target();
    });

    afterAll(async () => {
      for (const tr of [...running]) await tr.stop().catch(() => undefined);
      console.log(
        `chaos[${mode}]: requests ${count.sent} sent, ${count.failed} failed; writes ${count.acked} acknowledged, ${count.lost} lost`,
      );
    });

    it('serves a workload through a NodePort, a LoadBalancer and the ingress', async () => {
      await kubectl(['apply', '-f', '-'], manifest);
      await waitFor(`${REPLICAS} Ready pods`, async () => serving(await pods()).length === REPLICAS, 90_000);
      const lb = await waitFor(
        'a LoadBalancer IP',
        async () =>
          (await getJson(['get', 'svc', `${APP}-lb`])).status?.loadBalancer?.ingress?.[0]?.ip as string,
        30_000,
      );
      const probe = traffic([
        'load',
        ...NODES.map((n) => `http://${nodeIP(n)}:${NODE_PORT}/`),
        `http://${lb}/`,
        `${t.ingressUrl}/`,
      ]);
      const start = Date.now();
      // every entrance answers (a failure before the ingress picked up its route is fine; one after is not)
      await servesAfter(probe, start, 'the workload to answer');
      await sleep(3000);
      const warm = probe.now();
      await sleep(2000);
      const tot = await probe.stop();
      report('warm-up', tot);
      expect(tot.sent - warm.sent).toBeGreaterThan(20);
      expect(tot.failed - warm.failed).toBe(0);
    }, 150_000);

    it('kill a node under load: replicas are restored on the other nodes', async () => {
      const victim = 'node-3';
      const load = traffic([
        'load',
        `http://${nodeIP('node-1')}:${NODE_PORT}/`,
        `http://${nodeIP('node-2')}:${NODE_PORT}/`,
      ]);
      await sleep(1000);
      expect((await pods()).some((p) => p.node === victim)).toBe(true);
      await chaos('kill-node', victim);
      const killedAt = Date.now();
      await waitFor(`${victim} NotReady`, async () => (await nodeReady(victim)) !== 'True', 30_000);
      await waitFor(
        `${REPLICAS} Ready pods on the other nodes`,
        async () => serving(await pods(), victim).length === REPLICAS,
        90_000,
      );
      const healedAt = Date.now();
      console.log(
        `chaos[${mode}] kill-node: ${REPLICAS}/${REPLICAS} Ready elsewhere after ${healedAt - killedAt} ms`,
      );
      await servesAfter(load, healedAt, 'the service to answer after healing');
      // once the dead node's endpoints are gone nothing more fails
      await sleep(2000);
      const settled = load.now();
      await sleep(2000);
      const tot = await load.stop();
      report('kill-node', tot);
      expect(tot.failed - settled.failed).toBe(0);
      expect(tot.failed).toBeLessThan(tot.sent * 0.25);
      await chaos('restart-node', victim);
      await waitFor(`${victim} Ready again`, async () => (await nodeReady(victim)) === 'True', 60_000);
    }, 240_000);

    it('pause a node past the grace period: NotReady, pods replaced, Ready again with no duplicates', async () => {
      const victim = 'node-2';
      // pods where they are now, some on the victim (the kill above moved everything off node-3)
      if (!(await pods()).some((p) => p.node === victim)) throw new Error(`no ${APP} pod on ${victim}`);
      const load = traffic(['load', `http://${nodeIP('node-1')}:${NODE_PORT}/`]);
      const pause = t.chaos(['pause-node', victim, '--for', '15s']);
      let resumed = false;
      void pause.then(() => (resumed = true));
      await waitFor(`${victim} NotReady`, async () => (await nodeReady(victim)) === 'Unknown', 15_000);
      await waitFor(
        `${REPLICAS} Ready pods off the paused node`,
        async () => serving(await pods(), victim).length === REPLICAS,
        20_000,
      );
      expect(resumed, 'pods were replaced while the node was still paused').toBe(false);
      const r = await pause;
      must(r, 'kubemu chaos pause-node');
      expect(r.stdout).toMatch(new RegExp(`paused ${victim} .* for 15s\\nresumed ${victim}`));
      await waitFor(`${victim} Ready again`, async () => (await nodeReady(victim)) === 'True', 30_000);
      // the old pods learn they were deleted and go: exactly the replicas remain, all Ready, none twice
      const after = await waitFor(
        `exactly ${REPLICAS} pods, no leftovers`,
        async () => {
          const now = await pods();
          return now.length === REPLICAS && serving(now).length === REPLICAS ? now : undefined;
        },
        60_000,
      );
      expect(new Set(after.map((p) => p.name)).size).toBe(REPLICAS);
      const rs = await getJson(['get', 'deployment', APP]);
      expect(rs.status.replicas).toBe(REPLICAS);
      const tot = await load.stop();
      report('pause-node', tot);
      expect(tot.failed).toBeLessThan(tot.sent * 0.25);
    }, 180_000);

    it('SIGKILL the apiserver during a burst of writes: no acknowledged write lost, everything resumes', async () => {
      const creds = readKubeconfig(t.kubeconfig);
      const prefix = `burst${Date.now() % 100_000}`;
      const writes = traffic(['write', creds.server, prefix], {
        CHAOS_TOKEN: creds.token ?? '',
        CHAOS_CA: creds.caPem ?? '',
      });
      await waitFor('writes being acknowledged', () => Promise.resolve(writes.acked.length >= 30), 20_000);
      await chaos('kill', 'apiserver');
      await waitFor(
        'the apiserver ready again',
        async () => (await t.kubectl(['get', '--raw', '/readyz'])).code === 0,
        30_000,
      );
      const readyAt = Date.now();
      const ackedBefore = writes.acked.length;
      // components resume their watches: a new pod is scheduled and started, a scale-up is acted on (how soon is
      // measured by polling with kubectl, so a little late rather than early, and printed)
      await kubectl(['run', 'after-restart', '--image=kubemu/hello:v1', '--labels=app=after-restart']);
      const createdAt = Date.now();
      await kubectl(['scale', 'deployment', APP, `--replicas=${REPLICAS + 1}`]);
      const scaledAt = Date.now();
      const seen: { scheduled?: number; scaled?: number } = {};
      const runningIn = await waitFor(
        'the new pod scheduled and the scale-up acted on, both Ready',
        async () => {
          const [mine, web] = [await pods('after-restart'), await pods()];
          const now = Date.now();
          if (mine[0]?.node) seen.scheduled ??= now - createdAt;
          if (web.filter((p) => !p.terminating).length === REPLICAS + 1) seen.scaled ??= now - scaledAt;
          return serving(mine).length === 1 && serving(web).length === REPLICAS + 1
            ? now - readyAt
            : undefined;
        },
        30_000,
      );
      const scheduledIn = seen.scheduled ?? Infinity;
      const scaledIn = seen.scaled ?? Infinity;
      console.log(
        `chaos[${mode}] apiserver restart: pod scheduled ${scheduledIn} ms after its creation, scale-up acted on in ${scaledIn} ms, both Ready ${runningIn} ms after /readyz`,
      );
      await waitFor(
        'writes acknowledged after the restart',
        () => Promise.resolve(writes.acked.length > ackedBefore + 30),
        20_000,
      );
      const tot = await writes.stop();
      count.sent -= tot.sent; // writes are counted as writes, not requests
      count.failed -= tot.failed;
      const stored = new Set<string>(
        (await getJson(['get', 'configmaps'])).items.map((c: any) => c.metadata.name as string),
      );
      const lost = writes.acked.filter((n) => !stored.has(n));
      count.acked += writes.acked.length;
      count.lost += lost.length;
      console.log(
        `chaos[${mode}] apiserver kill: ${tot.sent} writes sent, ${writes.acked.length} acknowledged, ${tot.failed} failed, ${lost.length} lost`,
      );
      // back as it was before asserting, so that a failure here does not fail the scenarios after it
      await kubectl(['delete', 'pod', 'after-restart', '--wait=false']);
      await kubectl(['scale', 'deployment', APP, `--replicas=${REPLICAS}`]);
      expect(lost).toEqual([]);
      // both were acted on (the wait above bounds them at 30 s); how soon is printed above, not asserted: a timed
      // assertion fails on a slow machine (2,080 ms once against 2,000) without telling a stalled watch apart
      expect(Number.isFinite(scheduledIn)).toBe(true);
      expect(Number.isFinite(scaledIn)).toBe(true);
    }, 150_000);

    it('kill the controller-manager mid-rollout: the rollout completes after it restarts', async () => {
      await waitFor(
        `${REPLICAS} pods`,
        async () => {
          const p = await pods();
          return p.length === REPLICAS && serving(p).length === REPLICAS;
        },
        60_000,
      );
      const load = traffic(['load', `http://${nodeIP('node-1')}:${NODE_PORT}/`]);
      await kubectl(['set', 'image', `deployment/${APP}`, 'app=kubemu/hello:v2']);
      await waitFor(
        'the rollout started',
        async () => (await pods()).some((p) => p.image === 'kubemu/hello:v2'),
        10_000,
      );
      await chaos('kill', 'controller-manager');
      const mid = await pods();
      expect(
        mid.filter((p) => p.image === 'kubemu/hello:v1' && !p.terminating).length,
        'rollout still under way',
      ).toBeGreaterThan(0);
      let stuck: string[] = [];
      const done = await withLogOnFailure(
        ['controller-manager', ...NODES.map((n) => `kubelet-${n}`)],
        () =>
          waitFor(
            'the rollout complete',
            async () => {
              const d = await getJson(['get', 'deployment', APP]);
              const p = await pods();
              if (
                d.status.observedGeneration >= d.metadata.generation &&
                d.status.updatedReplicas === REPLICAS &&
                d.status.availableReplicas === REPLICAS &&
                (d.status.replicas ?? 0) === REPLICAS &&
                p.length === REPLICAS &&
                serving(p).every((x) => x.image === 'kubemu/hello:v2') &&
                serving(p).length === REPLICAS
              )
                return d;
              // not yet: what is off, so that a timeout says it (and which pods to look for in the kubelets' logs)
              stuck = p.filter((x) => !x.ready || x.terminating).map((x) => x.name);
              throw new Error(
                `generation ${d.metadata.generation}, status ${JSON.stringify(d.status)}; pods ${JSON.stringify(p)}`,
              );
            },
            120_000,
          ),
        () => stuck,
      );
      expect(done.status.conditions.find((c: any) => c.type === 'Progressing')?.reason).toBe(
        'NewReplicaSetAvailable',
      );
      const tot = await load.stop();
      report('controller-manager kill mid-rollout', tot);
      expect(tot.failed).toBeLessThan(tot.sent * 0.05);
    }, 180_000);

    it('kill the scheduler with pods pending: they are scheduled after it restarts', async () => {
      const deploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: pending}
spec:
  replicas: 3
  selector: {matchLabels: {app: pending}}
  template:
    metadata: {labels: {app: pending}}
    spec:
      nodeSelector: {chaos: here}
      containers: [{name: app, image: kubemu/hello:v1}]
`;
      await kubectl(['apply', '-f', '-'], deploy);
      await waitFor('3 Pending pods', async () => {
        const p = await pods('pending');
        return p.length === 3 && p.every((x) => x.phase === 'Pending' && !x.node);
      });
      await chaos('kill', 'scheduler');
      await kubectl(['label', 'node', 'node-1', 'chaos=here']);
      const placed = await waitFor(
        'the pending pods scheduled and Ready',
        async () => {
          const p = await pods('pending');
          return p.length === 3 && serving(p).length === 3 ? p : undefined;
        },
        60_000,
      );
      expect(placed.map((p) => p.node)).toEqual(['node-1', 'node-1', 'node-1']);
      await kubectl(['delete', 'deployment', 'pending', '--wait=false']);
      await kubectl(['label', 'node', 'node-1', 'chaos-']);
    }, 120_000);

    it('kill the ingress, then cloud-lb: traffic resumes after each restarts', async () => {
      const lb = (await getJson(['get', 'svc', `${APP}-lb`])).status.loadBalancer.ingress[0].ip as string;
      for (const [component, url] of [
        ['ingress', `${t.ingressUrl}/`],
        ['cloud-lb', `http://${lb}/`],
      ] as const) {
        const load = traffic(['load', url]);
        await servesAfter(load, Date.now(), `${component} serving before the kill`);
        const before = Date.now();
        await chaos('kill', component);
        const resumedAt = await servesAfter(
          load,
          Date.now(),
          `traffic through ${component} after its restart`,
          30_000,
        );
        console.log(`chaos[${mode}] ${component}: traffic back ${resumedAt - before} ms after the kill`);
        await sleep(1000);
        const settled = load.now();
        await sleep(2000);
        const tot = await load.stop();
        report(`${component} kill`, tot);
        expect(tot.failed - settled.failed).toBe(0);
      }
    }, 120_000);

    it('a rolling restart of the control plane under load: the workload keeps serving', async () => {
      const load = traffic(['load', ...NODES.map((n) => `http://${nodeIP(n)}:${NODE_PORT}/`)]);
      await servesAfter(load, Date.now(), 'the workload serving');
      for (const component of [
        'apiserver',
        'controller-manager',
        'scheduler',
        'dns',
        'cloud-lb',
        'ingress',
      ]) {
        const before = load.now();
        await chaos('kill', component);
        await sleep(1000);
        await servesAfter(load, Date.now(), `serving after ${component} restarted`, 10_000);
        expect(load.now().sent).toBeGreaterThan(before.sent);
      }
      // and the control plane works again: the deployment still has its replicas, all Ready
      await waitFor(`${REPLICAS} Ready pods`, async () => serving(await pods()).length === REPLICAS, 30_000);
      const tot = await load.stop();
      report('rolling restart', tot);
      expect(tot.failed).toBeLessThanOrEqual(tot.sent * 0.01);
    }, 180_000);

    it('kill a node under a StatefulSet, a DaemonSet and a Job: upstream semantics, then the volume data back', async () => {
      await kubectl(['apply', '-f', '-'], STATEFUL);
      await kubectl(['apply', '-f', '-'], FLUENTD);
      const dbPods = async (): Promise<PodView[]> => pods('db');
      const daemonPods = async (): Promise<any[]> =>
        (await getJson(['get', 'pods', '-n', 'kube-system', '-l', 'name=fluentd-elasticsearch'])).items;
      const jobPods = async (): Promise<any[]> =>
        (await getJson(['get', 'pods', '-l', 'job-name=crunch'])).items;
      const isReady = (p: any): boolean =>
        !p.metadata.deletionTimestamp &&
        (p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ?? false);
      await withLogOnFailure(['controller-manager', 'scheduler'], () =>
        waitFor(
          '3 Ready db pods and a Ready fluentd pod on each node',
          async () =>
            serving(await dbPods()).length === 3 &&
            new Set((await daemonPods()).filter(isReady).map((p) => p.spec.nodeName)).size === NODES.length,
          120_000,
        ),
      );
      // what each db pod wrote so far (its writer appends a line a second to its own volume)
      const db = await dbPods();
      const written = new Map<string, string>();
      for (const { name } of db) {
        const text = await waitFor(`${name} to have written`, async () => {
          const r = await t.kubectl(['exec', name, '--', 'cat', '/data/out.log']);
          return r.code === 0 && r.stdout.includes(`${name} line`) ? r.stdout : undefined;
        });
        written.set(name, text);
      }
      const uids = new Map<string, string>(
        (await getJson(['get', 'pods', '-l', 'app=db'])).items.map((p: any) => [
          p.metadata.name,
          p.metadata.uid,
        ]),
      );
      // the Job last, so that its 20-second pods still run when the node dies
      await kubectl(['apply', '-f', '-'], JOB);
      const running = await waitFor(
        "the Job's 3 pods running",
        async () => {
          const p = await jobPods();
          return p.length === 3 && p.every((x) => x.status?.phase === 'Running') ? p : undefined;
        },
        60_000,
      );
      // a node that holds a db pod and a pod of the Job (the scheduler spreads each controller's pods)
      const victim = NODES.find(
        (n) => db.some((p) => p.node === n) && running.some((p) => p.spec.nodeName === n),
      );
      if (!victim)
        throw new Error(
          `no node runs both a db pod and a Job pod: db ${JSON.stringify(db.map((p) => [p.name, p.node]))}, ` +
            `job ${JSON.stringify(running.map((p) => [p.metadata.name, p.spec.nodeName]))}`,
        );
      const stuck = db.filter((p) => p.node === victim).map((p) => p.name);
      const daemonOnVictim = (await daemonPods()).find((p) => p.spec.nodeName === victim);
      const jobPodOnVictim = running.find((p) => p.spec.nodeName === victim).metadata.name as string;

      await chaos('kill-node', victim);
      const killedAt = Date.now();
      let restartedAt = 0;
      try {
        await waitFor(`${victim} NotReady`, async () => (await nodeReady(victim)) !== 'True', 30_000);
        // the taint manager evicts the db and Job pods (graceful deletes no kubelet will ever confirm); the Job
        // replaces its pod at once on a live node, the StatefulSet does not (at most one pod per identity)
        const replacement = await withLogOnFailure(
          ['controller-manager', 'scheduler'],
          () =>
            waitFor(
              `${stuck.join(', ')} and ${jobPodOnVictim} terminating, the Job's pod replaced on another node`,
              async () => {
                const d = await dbPods();
                const j = await jobPods();
                const evicted =
                  stuck.every((n) => d.find((p) => p.name === n)?.terminating) &&
                  !!j.find((p) => p.metadata.name === jobPodOnVictim)?.metadata.deletionTimestamp;
                const fresh = j.find(
                  (p) =>
                    !running.some((r) => r.metadata.uid === p.metadata.uid) &&
                    p.spec.nodeName &&
                    p.spec.nodeName !== victim,
                );
                return evicted && fresh ? fresh : undefined;
              },
              60_000,
            ),
          () => [...stuck, jobPodOnVictim],
        );
        console.log(
          `chaos[${mode}] kill-node ${victim}: Job pod ${jobPodOnVictim} replaced by ${replacement.metadata.name} on ${replacement.spec.nodeName}`,
        );
        await sleep(5000);
        // a while later: the same db pods, still terminating, no second pod of their names; the fluentd pod of the
        // dead node kept (it tolerates the unreachable taint), one Ready fluentd pod on each live node
        const later = (await getJson(['get', 'pods', '-l', 'app=db'])).items;
        for (const name of stuck) {
          const same = later.filter((p: any) => p.metadata.name === name);
          expect(same.map((p: any) => [p.metadata.uid, !!p.metadata.deletionTimestamp])).toEqual([
            [uids.get(name), true],
          ]);
        }
        const ds = await daemonPods();
        const kept = ds.find((p) => p.metadata.uid === daemonOnVictim.metadata.uid);
        expect(kept?.metadata.deletionTimestamp, 'the fluentd pod of the dead node evicted').toBeUndefined();
        expect(ds.filter((p) => p.spec.nodeName === victim)).toHaveLength(1);
        const live = NODES.filter((n) => n !== victim);
        expect(
          live.map((n) => ds.filter((p) => p.spec.nodeName === n && isReady(p)).length),
          'one Ready fluentd pod per Ready node',
        ).toEqual(live.map(() => 1));

        // what the docs tell the user: force-delete the pod; the StatefulSet makes it again, and it waits (Pending)
        // for its volume, which lives on the dead node
        for (const name of stuck) await kubectl(['delete', 'pod', name, '--force', '--grace-period=0']);
        await waitFor(
          `new ${stuck.join(', ')} created and unschedulable while their volumes' node is down`,
          async () => {
            const now = (await getJson(['get', 'pods', '-l', 'app=db'])).items;
            return stuck.every((name) => {
              const p = now.find((x: any) => x.metadata.name === name);
              return (
                p &&
                p.metadata.uid !== uids.get(name) &&
                !p.spec.nodeName &&
                p.status?.conditions?.some(
                  (c: any) =>
                    c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
                )
              );
            });
          },
          30_000,
        );
      } finally {
        await chaos('restart-node', victim);
        restartedAt = Date.now();
      }
      await waitFor(`${victim} Ready again`, async () => (await nodeReady(victim)) === 'True', 90_000);
      // back on their node, the new db pods read what the old ones wrote, and go on appending
      await withLogOnFailure(
        ['scheduler', `kubelet-${victim}`],
        () =>
          waitFor(
            `${stuck.join(', ')} Ready on ${victim} again`,
            async () => {
              const d = await dbPods();
              return stuck.every((n) =>
                d.some((p) => p.name === n && p.node === victim && p.ready && !p.terminating),
              );
            },
            90_000,
          ),
        () => stuck,
      );
      for (const name of stuck) {
        const before = written.get(name)!;
        const now = await waitFor(`${name} appending to its old file`, async () => {
          const r = await t.kubectl(['exec', name, '--', 'cat', '/data/out.log']);
          return r.code === 0 && r.stdout.length > before.length ? r.stdout : undefined;
        });
        expect(now.startsWith(before), `${name}'s volume kept what the old ${name} wrote`).toBe(true);
      }
      const dataBackAt = Date.now();
      // the Job completes, its pods counted once each
      const job = await withLogOnFailure(['controller-manager'], () =>
        waitFor(
          'the Job Complete',
          async () => {
            const j = await getJson(['get', 'job', 'crunch']);
            return j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True')
              ? j
              : undefined;
          },
          90_000,
        ),
      );
      console.log(
        `chaos[${mode}] kill-node ${victim}: ${stuck.join(', ')} back with their data ${dataBackAt - restartedAt} ms ` +
          `after restart-node; the Job Complete ${Date.now() - killedAt} ms after the kill`,
      );
      expect(job.status.succeeded).toBe(3);
      // the fluentd pod that rode out the outage runs again (restarted by its kubelet), one per node
      const after = await waitFor(
        'a Ready fluentd pod on each node',
        async () => {
          const ds = (await daemonPods()).filter((p) => !p.metadata.deletionTimestamp);
          return ds.length === NODES.length && ds.every(isReady) ? ds : undefined;
        },
        60_000,
      );
      expect(after.map((p) => p.spec.nodeName).sort()).toEqual(NODES);
      expect(after.find((p) => p.spec.nodeName === victim).metadata.uid).toBe(daemonOnVictim.metadata.uid);
    }, 420_000);
  });
}

/** spawns `node ARGS`, optionally through a prefix such as nsenter */
export function spawnNode(prefix: string[], args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, ...rest] = [...prefix, process.execPath, ...args];
  return spawn(cmd, rest, { env, stdio: ['ignore', 'pipe', 'pipe'] });
}
