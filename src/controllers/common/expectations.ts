// Controller expectations (upstream's UIDTrackingControllerExpectations): creates and deletes a controller
// has issued but not yet seen come back through its informer, so a sync never acts twice on a stale cache.
import { realClock, type Clock } from '../../util/clock.js';

/** upstream's ExpectationsTimeout: after this, stale expectations no longer block a sync */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  del: number;
  timestamp: number;
  /** keys of pods whose deletion we wait for: each counts once, whether seen as update or delete */
  deleting: Set<string>;
}

export class ControllerExpectations {
  private readonly items = new Map<string, Expectation>();
  private readonly clock: Clock;

  constructor(clock: Clock = realClock) {
    this.clock = clock;
  }

  /** true when the controller may act: no expectations, all fulfilled, or expired */
  satisfied(controllerKey: string): boolean {
    const e = this.items.get(controllerKey);
    if (!e) return true;
    if (e.add <= 0 && e.del <= 0) return true;
    return this.clock.now() - e.timestamp > EXPECTATIONS_TIMEOUT_MS;
  }

  expectCreations(controllerKey: string, n: number): void {
    this.set(controllerKey, n, []);
  }

  expectDeletions(controllerKey: string, podKeys: string[]): void {
    this.set(controllerKey, 0, podKeys);
  }

  creationObserved(controllerKey: string): void {
    const e = this.items.get(controllerKey);
    if (e) e.add--;
  }

  /** a pod we may have deleted is gone (or going); counts only pods we were waiting for */
  deletionObserved(controllerKey: string, podKey: string): void {
    const e = this.items.get(controllerKey);
    if (e?.deleting.delete(podKey)) e.del--;
  }

  delete(controllerKey: string): void {
    this.items.delete(controllerKey);
  }

  /** for tests and logs */
  get(controllerKey: string): { add: number; del: number } | undefined {
    const e = this.items.get(controllerKey);
    return e && { add: e.add, del: e.del };
  }

  private set(controllerKey: string, add: number, podKeys: string[]): void {
    this.items.set(controllerKey, {
      add,
      del: podKeys.length,
      timestamp: this.clock.now(),
      deleting: new Set(podKeys),
    });
  }
}
