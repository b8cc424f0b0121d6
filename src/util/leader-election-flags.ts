// The leader-election flags of kube-scheduler and kube-controller-manager (upstream's LeaderElectionConfiguration,
// `--leader-elect*`), and the run that holds a component's work until it leads. Upstream's durations are 15 s /
// 10 s / 2 s; kubemu compresses them as it does the node lease, so a standby takes over in seconds.
import type { KubeClient } from '../client/index.js';
import { EventRecorder } from '../client/event-recorder.js';
import { LeaderElector, validateLeaderElection } from '../client/leader-election.js';
import { durationFlag, UsageError } from './component-main.js';
import type { Logger } from './logger.js';

export const LEADER_ELECTION_OPTIONS = {
  // a string, so that upstream's `--leader-elect=false` is taken as written
  'leader-elect': { type: 'string', default: 'true' },
  'leader-elect-lease-duration': { type: 'string', default: '4s' },
  'leader-elect-renew-deadline': { type: 'string', default: '3s' },
  'leader-elect-retry-period': { type: 'string', default: '500ms' },
  'leader-elect-resource-lock': { type: 'string', default: 'leases' },
  'leader-elect-resource-name': { type: 'string' },
  'leader-elect-resource-namespace': { type: 'string', default: 'kube-system' },
} as const;

export interface LeaderElectionFlags {
  enabled: boolean;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  name: string;
  namespace: string;
}

type Values = { [K in keyof typeof LEADER_ELECTION_OPTIONS]?: string | undefined };

/** Reads the flags (in a component's `check`): a UsageError names the flag that is wrong. */
export function leaderElectionFlags(values: Values, defaultName: string): LeaderElectionFlags {
  const enabled = values['leader-elect'] ?? 'true';
  if (enabled !== 'true' && enabled !== 'false')
    throw new UsageError(`--leader-elect ${JSON.stringify(enabled)}: expected true or false`);
  const lock = values['leader-elect-resource-lock'] ?? 'leases';
  // upstream 1.33 takes only "leases" (endpoints and configmaps locks were removed in 1.24 and 1.25)
  if (lock !== 'leases')
    throw new UsageError(
      `--leader-elect-resource-lock ${JSON.stringify(lock)}: resourceLock value must be "leases"`,
    );
  const flags: LeaderElectionFlags = {
    enabled: enabled === 'true',
    leaseDurationMs: durationFlag(
      'leader-elect-lease-duration',
      values['leader-elect-lease-duration'] ?? '4s',
    ),
    renewDeadlineMs: durationFlag(
      'leader-elect-renew-deadline',
      values['leader-elect-renew-deadline'] ?? '3s',
    ),
    retryPeriodMs: durationFlag('leader-elect-retry-period', values['leader-elect-retry-period'] ?? '500ms'),
    name: values['leader-elect-resource-name'] || defaultName,
    namespace: values['leader-elect-resource-namespace'] || 'kube-system',
  };
  const invalid = flags.enabled ? validateLeaderElection(flags) : undefined;
  if (invalid) throw new UsageError(`leaderElection: ${invalid}`);
  return flags;
}

export interface LeadingRun {
  /** gives the lease up (when held) and stops the work started by `lead` */
  close(): Promise<void>;
}

/**
 * Runs `lead` once this process holds the Lease (at once with `--leader-elect=false`). Leadership lost without a
 * stop ends the process with status 1, as upstream's "leaderelection lost" does: its supervisor starts it again, as
 * a candidate.
 */
export function runWhenLeading(opts: {
  flags: LeaderElectionFlags;
  client: KubeClient;
  logger: Logger;
  /** the component's name in its events (`kube-scheduler`, `kube-controller-manager`) */
  component: string;
  lead(): Promise<{ close(): Promise<void> | void }>;
}): LeadingRun {
  const { flags, logger: log } = opts;
  let work: Promise<{ close(): Promise<void> | void }> | undefined;
  if (!flags.enabled) {
    const started = opts.lead();
    return { close: async () => void (await (await started).close()) };
  }
  let stopping = false;
  const elector = new LeaderElector({
    client: opts.client,
    namespace: flags.namespace,
    name: flags.name,
    leaseDurationMs: flags.leaseDurationMs,
    renewDeadlineMs: flags.renewDeadlineMs,
    retryPeriodMs: flags.retryPeriodMs,
    logger: log,
    recorder: new EventRecorder({ client: opts.client, component: opts.component, logger: log }),
  });
  void elector.run({
    onStartedLeading: () => {
      work = opts.lead();
      work.catch((err: unknown) => {
        log.fatal({ err }, 'failed to start');
        process.exit(1);
      });
    },
    onStoppedLeading: () => {
      if (stopping) return;
      log.error({ lease: `${flags.namespace}/${flags.name}` }, 'leaderelection lost');
      process.exit(1);
    },
  });
  return {
    async close() {
      stopping = true;
      const running = work;
      await elector.stop();
      if (running) await (await running).close();
    },
  };
}
