// Sidecar termination order (upstream's kuberuntime_termination_order.go): when a pod stops, its sidecars (init
// containers with restartPolicy Always) get SIGTERM only after every main container has exited, and in reverse order
// of their declaration, each waiting at most until the grace period runs out.
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { isRestartableInitContainer } from './sidecar.js';

interface Latch {
  done: Promise<void>;
  release(): void;
}

function latch(): Latch {
  let release!: () => void;
  const done = new Promise<void>((r) => (release = r));
  return { done, release };
}

export class TerminationOrdering {
  private readonly terminatedLatches = new Map<string, Latch>();
  private readonly prereqs = new Map<string, Promise<void>[]>();

  /** running: names of the containers that still run (the others count as terminated already). */
  constructor(spec: PodSpec, running: ReadonlySet<string>) {
    const track = (name: string): Latch => {
      const l = latch();
      this.terminatedLatches.set(name, l);
      if (!running.has(name)) l.release();
      return l;
    };
    const mains = spec.containers.map((c) => track(c.name).done);
    let later: Promise<void> | undefined;
    for (const c of [...(spec.initContainers ?? [])].reverse()) {
      const l = track(c.name);
      if (!isRestartableInitContainer(c)) continue;
      this.prereqs.set(c.name, [...mains, ...(later ? [later] : [])]);
      later = l.done;
    }
  }

  /** Resolves when the container may be sent SIGTERM: its prerequisites have exited, or waitMs has passed. */
  async waitForTurn(name: string, waitMs: number): Promise<void> {
    const prereqs = this.prereqs.get(name);
    if (!prereqs?.length || waitMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((r) => (timer = setTimeout(r, waitMs)));
    try {
      await Promise.race([Promise.all(prereqs), expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The container has exited: whoever waits on it may go. */
  containerTerminated(name: string): void {
    this.terminatedLatches.get(name)?.release();
  }
}
