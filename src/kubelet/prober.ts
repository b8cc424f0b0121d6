// Liveness, readiness and startup probes of one running container, with upstream's thresholds, timing and events.
import type { Container, Probe } from 'kubernetes-types/core/v1.js';
import { realClock, type Clock } from '../util/clock.js';
import { runProbe, type ProbeContext, type ProbeResult } from './runtime/probes.js';

export type ProbeKind = 'Liveness' | 'Readiness' | 'Startup';

export interface ProbeHooks {
  /** readiness or startup state changed: the pod's status needs writing */
  changed(): void;
  /** liveness or startup failed failureThreshold times in a row: restart the container */
  failed(kind: 'Liveness' | 'Startup', message: string): void;
  /** a failed attempt: upstream's `Unhealthy` event */
  unhealthy(kind: ProbeKind, message: string): void;
}

export type ProbeRunner = (probe: Probe, ctx: ProbeContext) => Promise<ProbeResult>;

export class ContainerProbes {
  private stopped = false;
  private timers: { cancel(): void }[] = [];
  private startedFlag: boolean;
  private readyFlag: boolean;

  constructor(
    private readonly container: Container,
    private readonly ctx: ProbeContext,
    private readonly hooks: ProbeHooks,
    private readonly clock: Clock = realClock,
    private readonly run: ProbeRunner = runProbe,
  ) {
    this.startedFlag = !container.startupProbe;
    this.readyFlag = !container.readinessProbe;
  }

  /** Started: no startup probe, or it has succeeded. */
  get started(): boolean {
    return this.startedFlag;
  }

  /** Ready: started, and no readiness probe or it succeeds. */
  get ready(): boolean {
    return this.startedFlag && this.readyFlag;
  }

  start(): void {
    if (this.container.startupProbe) this.loop('Startup', this.container.startupProbe);
    else this.startAfterStartup();
  }

  private startAfterStartup(): void {
    if (this.container.livenessProbe) this.loop('Liveness', this.container.livenessProbe);
    if (this.container.readinessProbe) this.loop('Readiness', this.container.readinessProbe);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
  }

  private loop(kind: ProbeKind, probe: Probe): void {
    const periodMs = (probe.periodSeconds ?? 10) * 1000;
    const successThreshold = probe.successThreshold ?? 1;
    const failureThreshold = probe.failureThreshold ?? 3;
    let successes = 0;
    let failures = 0;
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      const result = await this.run(probe, this.ctx).catch((err: unknown): ProbeResult => ({
        success: false,
        message: (err as Error).message,
      }));
      if (this.stopped) return;
      if (result.success) {
        failures = 0;
        successes++;
        if (kind === 'Readiness' && !this.readyFlag && successes >= successThreshold) {
          this.readyFlag = true;
          this.hooks.changed();
        }
        if (kind === 'Startup' && successes >= successThreshold) {
          this.startedFlag = true;
          this.hooks.changed();
          this.startAfterStartup();
          return; // a startup probe stops once it has succeeded
        }
      } else {
        successes = 0;
        failures++;
        this.hooks.unhealthy(kind, `${kind} probe failed: ${result.message}`);
        if (failures >= failureThreshold) {
          if (kind === 'Readiness') {
            if (this.readyFlag) {
              this.readyFlag = false;
              this.hooks.changed();
            }
          } else {
            this.stop();
            this.hooks.failed(kind, result.message);
            return;
          }
        }
      }
      this.schedule(tick, periodMs);
    };
    this.schedule(tick, (probe.initialDelaySeconds ?? 0) * 1000);
  }

  private schedule(fn: () => Promise<void>, ms: number): void {
    if (this.stopped) return;
    const t = this.clock.setTimeout(() => {
      this.timers = this.timers.filter((x) => x !== t);
      void fn();
    }, ms);
    this.timers.push(t);
  }
}
