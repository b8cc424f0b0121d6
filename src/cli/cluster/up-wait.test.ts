import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ManagedProcess } from './pm2.js';
import type { Supervisor } from './supervisor.js';
import { ComponentFailed, FailureWatch, waitUntil } from './up-wait.js';

/** a supervisor whose process list the test sets, counting how often it is asked */
function fakeSupervisor(
  processes: ManagedProcess[],
): Supervisor & { lists: number; set(p: ManagedProcess[]): void } {
  let current = processes;
  return {
    lists: 0,
    set(p) {
      current = p;
    },
    start: () => Promise.resolve(),
    startAll: () => Promise.resolve(),
    stopAll: () => Promise.resolve(),
    list() {
      this.lists++;
      return Promise.resolve(current);
    },
  };
}
const online = (name: string): ManagedProcess => ({ name, pid: 10, status: 'online', restarts: 0 });

describe('waitUntil and FailureWatch', () => {
  it('resolves once the check holds, asking the supervisor on its own interval, not per poll', async () => {
    const sup = fakeSupervisor([online('apiserver')]);
    const watch = new FailureWatch(sup, undefined, 100);
    let polls = 0;
    await waitUntil(() => Promise.resolve(++polls === 20), {
      intervalMs: 10,
      deadline: Date.now() + 5_000,
      failed: watch.failed,
      component: 'apiserver',
      late: 'late',
    });
    watch.stop();
    expect(polls).toBe(20);
    expect(sup.lists).toBeLessThan(5);
  });

  it('asks the list again at once when a listed process is gone, and at least every listMs', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
    const pid = child.pid!;
    try {
      const sup = fakeSupervisor([{ ...online('kubelet-node-1'), pid }]);
      const watch = new FailureWatch(sup, undefined, 20, 60_000);
      const never = (): Promise<boolean> => Promise.resolve(false);
      const opts = { intervalMs: 10, failed: watch.failed, component: 'x', late: 'late' };
      await expect(waitUntil(never, { ...opts, deadline: Date.now() + 200 })).rejects.toThrow('x late');
      // alive: listed once, then only kill(pid, 0) until listMs
      expect(sup.lists).toBe(1);
      sup.set([{ ...online('kubelet-node-1'), pid: pid + 1_000_000, restarts: 1 }]);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const err = await waitUntil(never, { ...opts, deadline: Date.now() + 5_000 }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('kubelet-node-1 exited and was restarted 1 time(s)');
      watch.stop();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('fails the wait with the component that died, watching only the named ones until watchAll', async () => {
    const sup = fakeSupervisor([online('apiserver'), { ...online('kubelet-node-1'), restarts: 1 }]);
    const watch = new FailureWatch(sup, ['apiserver'], 20);
    const never = (): Promise<boolean> => Promise.resolve(false);
    const opts = { intervalMs: 10, failed: watch.failed, component: 'x', late: 'late' };
    await expect(waitUntil(never, { ...opts, deadline: Date.now() + 150 })).rejects.toThrow('x late');
    watch.watchAll();
    const err = await waitUntil(never, { ...opts, deadline: Date.now() + 5_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ComponentFailed);
    expect((err as ComponentFailed).component).toBe('kubelet-node-1');
    expect((err as Error).message).toBe('kubelet-node-1 exited and was restarted 1 time(s)');
    watch.stop();
  });
});
