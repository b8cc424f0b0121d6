// Unit tests of leader election against the apiserver's registry in memory, on a fake clock: the cases of client-go's
// leaderelection_test.go that apply to a LeaseLock (acquire a missing or released lock, wait for a held one to
// expire, renew, lose it when renewals fail, release on stop).
import { describe, expect, it } from 'vitest';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { KubeClient, handlerTransport, type ApiTransport } from './index.js';
import { silentLogger } from '../util/logger.js';
import { fakeCluster, settle, until, type FakeCluster } from '../testing/fake-cluster.js';
import { LeaderElector, validateLeaderElection } from './leader-election.js';

const TIMES = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 500 };

/** a candidate with a client of its own, whose requests can be made to fail (a partitioned or frozen process) */
function candidate(c: FakeCluster, identity: string) {
  const state = { cut: false, started: 0, stopped: 0, leaders: [] as string[] };
  const inner = handlerTransport(c.handler);
  const transport: ApiTransport = {
    request: (req) => (state.cut ? Promise.reject(new Error('connection refused')) : inner.request(req)),
    watch: (req, onEvent, onEnd) => inner.watch(req, onEvent, onEnd),
  };
  const elector = new LeaderElector({
    client: new KubeClient(transport),
    namespace: 'kube-system',
    name: 'kube-scheduler',
    identity,
    ...TIMES,
    logger: silentLogger(),
    clock: c.clock,
  });
  const done = elector.run({
    onStartedLeading: () => void state.started++,
    onStoppedLeading: () => void state.stopped++,
    onNewLeader: (id) => void state.leaders.push(id),
  });
  return { elector, state, done };
}

const lease = (c: FakeCluster): Lease | undefined =>
  c.objects<Lease>('leases', 'kube-system').find((l) => l.metadata?.name === 'kube-scheduler');

/** advance the fake clock in small steps, letting requests finish between them */
async function advance(c: FakeCluster, ms: number, step = 100): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    c.clock.advance(step);
    await settle(20);
  }
}

describe('LeaderElector', () => {
  it('refuses durations upstream refuses', () => {
    expect(validateLeaderElection({ leaseDurationMs: 10, renewDeadlineMs: 10, retryPeriodMs: 1 })).toBe(
      'leaseDuration must be greater than renewDeadline',
    );
    expect(validateLeaderElection({ leaseDurationMs: 15, renewDeadlineMs: 10, retryPeriodMs: 9 })).toBe(
      'renewDeadline must be greater than retryPeriod*JitterFactor',
    );
    expect(validateLeaderElection(TIMES)).toBeUndefined();
  });

  it('creates a missing Lease and leads at once; renews it every retry period', async () => {
    const c = await fakeCluster();
    const a = candidate(c, 'a');
    await until(() => a.state.started === 1, 'a leads');
    const first = lease(c)!;
    expect(first.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 4, leaseTransitions: 0 });
    await advance(c, 600);
    const renewed = lease(c)!;
    expect(renewed.spec?.renewTime).not.toBe(first.spec?.renewTime);
    expect(renewed.spec?.acquireTime).toBe(first.spec?.acquireTime);
    expect(a.elector.isLeader()).toBe(true);
    await a.elector.stop();
    await a.done;
  });

  it('a second candidate waits while the leader renews, and takes over a lease duration after renewals stop', async () => {
    const c = await fakeCluster();
    const a = candidate(c, 'a');
    await until(() => a.state.started === 1, 'a leads');
    const b = candidate(c, 'b');
    await advance(c, 6000);
    expect(b.state.started).toBe(0);
    expect(b.elector.leader()).toBe('a');
    expect(b.state.leaders).toEqual(['a']);
    // a is cut off from the apiserver: it loses leadership after its renew deadline, b leads after a lease duration
    a.state.cut = true;
    // (its last renewal, then a round of retries for the renew deadline)
    await advance(c, 3600);
    expect(a.state.stopped).toBe(1);
    await a.done;
    expect(b.state.started).toBe(0);
    await advance(c, 2000);
    expect(b.state.started).toBe(1);
    expect(lease(c)!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.stop();
    await b.done;
  });

  it('releases the Lease on stop, so the next candidate leads without waiting', async () => {
    const c = await fakeCluster();
    const a = candidate(c, 'a');
    await until(() => a.state.started === 1, 'a leads');
    await a.elector.stop();
    await a.done;
    expect(a.state.stopped).toBe(1);
    expect(lease(c)!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const b = candidate(c, 'b');
    await until(() => b.state.started === 1, 'b leads');
    expect(lease(c)!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.elector.stop();
    await b.done;
  });

  it('a restarted process (a new identity) waits for the old holder to expire', async () => {
    const c = await fakeCluster();
    const a = candidate(c, 'a');
    await until(() => a.state.started === 1, 'a leads');
    a.state.cut = true; // SIGKILLed: never renews nor releases
    const b = candidate(c, 'b');
    await advance(c, 3500);
    expect(b.state.started).toBe(0);
    await advance(c, 1500);
    expect(b.state.started).toBe(1);
    await b.elector.stop();
    await a.elector.stop();
    await Promise.all([a.done, b.done]);
  });
});
