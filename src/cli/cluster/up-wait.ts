// What `kubemu up` waits with: polls of the API on a short interval, and beside them a watch of the supervisor's
// process list that fails the wait when a component dies. The list is asked every second, or at once when one of the
// processes it listed is gone (checked every 250 ms with kill(pid, 0), which costs nothing), not on every poll: one pm2
// list is a round trip to a daemon busy starting the components, which reads /proc for every process and sends back
// every process's whole environment (with 12 processes, 10 lists a boot cost the daemon and the CLI ~0.1 s of CPU).
import { isAlive } from './processes.js';
import type { ManagedProcess } from './pm2.js';
import type { Supervisor } from './supervisor.js';

export class ComponentFailed extends Error {
  constructor(
    readonly component: string,
    detail: string,
  ) {
    super(`${component} ${detail}`);
  }
}

/** Throws ComponentFailed when one of `names` (all, if omitted) has died, crash-looped or errored. */
export function failedComponent(processes: ManagedProcess[], names?: readonly string[]): void {
  for (const p of processes) {
    if (names && !names.includes(p.name)) continue;
    if (p.status === 'errored' || p.status === 'stopped' || p.restarts > 0) {
      throw new ComponentFailed(
        p.name,
        p.restarts > 0 ? `exited and was restarted ${p.restarts} time(s)` : `is ${p.status}`,
      );
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Watches the supervisor's processes until stopped; `failed` rejects with the first ComponentFailed. */
export class FailureWatch {
  readonly failed: Promise<never>;
  private stopped = false;
  /** the components watched; undefined: all */
  private names: readonly string[] | undefined;

  constructor(
    private readonly supervisor: Supervisor,
    names?: readonly string[],
    private readonly intervalMs = 250,
    /** the list is asked at least this often (new processes, restarts of ones that came back at once) */
    private readonly listMs = 1_000,
  ) {
    this.names = names;
    this.failed = this.loop();
    // a failure nobody awaits any more (the wait ended another way) is not an unhandled rejection
    this.failed.catch(() => undefined);
  }

  /** From now on every component is watched. */
  watchAll(): void {
    this.names = undefined;
  }

  stop(): void {
    this.stopped = true;
  }

  private async loop(): Promise<never> {
    let listed: ManagedProcess[] | undefined;
    let listedAt = 0;
    for (;;) {
      // unref'd: a stopped watch must not hold up the CLI's exit
      await new Promise((r) => setTimeout(r, this.intervalMs).unref());
      if (this.stopped) return new Promise<never>(() => undefined);
      const due =
        listed === undefined ||
        Date.now() - listedAt >= this.listMs ||
        listed.some((p) => p.pid > 0 && !isAlive(p.pid));
      if (due) {
        listed = await this.supervisor.list();
        listedAt = Date.now();
      }
      // the last list, against the names watched now (watchAll widens them)
      failedComponent(listed!, this.names);
    }
  }
}

/**
 * Calls `check` every `intervalMs` until it returns true; rejects with what `failed` rejects with, or with
 * ComponentFailed(`component`, `late`) after `deadline` (epoch ms).
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  opts: { intervalMs: number; deadline: number; failed: Promise<never>; component: string; late: string },
): Promise<void> {
  for (;;) {
    if (await Promise.race([check(), opts.failed])) return;
    if (Date.now() > opts.deadline) throw new ComponentFailed(opts.component, opts.late);
    await Promise.race([sleep(opts.intervalMs), opts.failed]);
  }
}
