#!/usr/bin/env node
// kube-controller-manager for kubemu: `node dist/cmd/controller-manager.js --kubeconfig FILE [--controllers ...]`.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseDuration } from '../util/duration.js';
import { RootCaCertPublisher } from '../controllers/rootcacertpublisher/publisher.js';
import { TokensController } from '../controllers/serviceaccount/tokens-controller.js';
import type { KubeClient } from '../client/index.js';
import { ServiceAccountClients } from '../controllers/common/service-account-clients.js';
import { SharedInformerFactory } from '../controllers/common/informers.js';
import { DeploymentController } from '../controllers/deployment/deployment-controller.js';
import { DisruptionController } from '../controllers/disruption/disruption-controller.js';
import { GarbageCollector } from '../controllers/garbagecollector/garbage-collector.js';
import { NamespaceController } from '../controllers/namespace/namespace-controller.js';
import { NodeLifecycleController } from '../controllers/nodelifecycle/node-lifecycle-controller.js';
import { TaintEvictionController } from '../controllers/nodelifecycle/taint-eviction-controller.js';
import { PodGCController } from '../controllers/podgc/pod-gc-controller.js';
import { ReplicaSetController } from '../controllers/replicaset/replicaset-controller.js';
import { newReplicationManager } from '../controllers/replication/replication-controller.js';
import { DaemonSetController } from '../controllers/daemon/daemon-controller.js';
import { StatefulSetController } from '../controllers/statefulset/statefulset-controller.js';
import { EndpointsController } from '../controllers/endpoints/endpoints-controller.js';
import { EndpointSliceController } from '../controllers/endpointslice/endpointslice-controller.js';
import { HorizontalPodAutoscalerController } from '../controllers/podautoscaler/hpa-controller.js';
import { ResourceQuotaController } from '../controllers/resourcequota/resource-quota-controller.js';
import { ServiceAccountsController } from '../controllers/serviceaccount/serviceaccounts-controller.js';
import { PersistentVolumeController } from '../controllers/volume/persistentvolume/pv-controller.js';
import { EphemeralVolumeController } from '../controllers/volume/ephemeral/ephemeral-controller.js';
import { PVCProtectionController } from '../controllers/volume/pvcprotection/pvc-protection-controller.js';
import { PVProtectionController } from '../controllers/volume/pvprotection/pv-protection-controller.js';
import { JobController } from '../controllers/job/job-controller.js';
import { CronJobController } from '../controllers/cronjob/cronjob-controller.js';
import { TTLAfterFinishedController } from '../controllers/ttlafterfinished/ttl-after-finished-controller.js';
import { ClusterRoleAggregationController } from '../controllers/clusterroleaggregation/clusterrole-aggregation-controller.js';
import { CSRSigningController } from '../controllers/certificates/signer.js';
import { CSRApprovingController } from '../controllers/certificates/approver.js';
import { CSRCleanerController } from '../controllers/certificates/cleaner.js';
import { METRICS_OPTIONS, UsageError, requireKubeconfig, runComponent } from '../util/component-main.js';
import type { Logger } from '../util/logger.js';
import {
  LEADER_ELECTION_OPTIONS,
  leaderElectionFlags,
  runWhenLeading,
} from '../util/leader-election-flags.js';

/** What the controller-manager needs of a controller. */
interface RunnableController {
  run(): Promise<void>;
  stop(): void;
}

interface ControllerContext {
  client: KubeClient;
  informers: SharedInformerFactory;
  logger: Logger;
  flags: Flags;
  /** --root-ca-file, else the kubeconfig's CA */
  rootCa: string | undefined;
  /** --service-account-private-key-file */
  serviceAccountKey: KeyObject | undefined;
}

interface Flags {
  nodeMonitorGracePeriodMs: number;
  nodeMonitorPeriodMs: number;
  nodeStartupGracePeriodMs: number;
  terminatedPodGcThreshold: number;
  concurrentGcSyncs: number;
  concurrentNamespaceSyncs: number;
  concurrentReplicasetSyncs: number;
  concurrentDeploymentSyncs: number;
  concurrentRcSyncs: number;
  concurrentDaemonsetSyncs: number;
  concurrentStatefulSetSyncs: number;
  hpaSyncPeriodMs: number;
  hpaDownscaleStabilizationMs: number;
  concurrentJobSyncs: number;
  concurrentCronJobSyncs: number;
  concurrentTtlAfterFinishedSyncs: number;
  jobPodFailureBackoffMs: number;
  jobPodFailureMaxBackoffMs: number;
  cronJobScheduleSpeed: number;
  /** --cluster-signing-cert-file / --cluster-signing-key-file: the CA the csrsigning controller signs with */
  clusterSigningCertFile: string | undefined;
  clusterSigningKeyFile: string | undefined;
  clusterSigningDurationMs: number;
}

/** upstream's controller names, with its short aliases, in start order */
const CONTROLLERS: {
  name: string;
  aliases: string[];
  /**
   * the kube-system ServiceAccount it runs as with --use-service-account-credentials (upstream's ClientBuilder name,
   * bound to `system:controller:<name>` by the bootstrap policy); none: the controller-manager's own credential, as
   * upstream's tokens controller (rootClientBuilder)
   */
  serviceAccount?: string;
  /** undefined: the controller cannot run with these flags (logged as upstream's "skipping", with `needs`) */
  make(ctx: ControllerContext): RunnableController | undefined;
  /** what a controller whose make() gave nothing lacks */
  needs?: string;
}[] = [
  {
    name: 'namespace-controller',
    serviceAccount: 'namespace-controller',
    aliases: ['namespace'],
    make: (c) =>
      new NamespaceController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentNamespaceSyncs,
      }),
  },
  {
    name: 'serviceaccount-controller',
    serviceAccount: 'service-account-controller',
    aliases: ['serviceaccount'],
    make: (c) =>
      new ServiceAccountsController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'serviceaccount-token-controller',
    aliases: ['serviceaccount-token'],
    needs: '--service-account-private-key-file or the root CA is not set',
    make: (c) =>
      c.serviceAccountKey && c.rootCa
        ? new TokensController({
            client: c.client,
            informers: c.informers,
            logger: c.logger,
            signingKey: c.serviceAccountKey,
            rootCa: c.rootCa,
          })
        : undefined,
  },
  {
    name: 'root-ca-certificate-publisher-controller',
    serviceAccount: 'root-ca-cert-publisher',
    aliases: ['root-ca-cert-publisher'],
    needs: 'the root CA is not set (--root-ca-file or the kubeconfig)',
    make: (c) =>
      c.rootCa
        ? new RootCaCertPublisher({
            client: c.client,
            informers: c.informers,
            logger: c.logger,
            rootCa: c.rootCa,
          })
        : undefined,
  },
  {
    name: 'resourcequota-controller',
    serviceAccount: 'resourcequota-controller',
    aliases: ['resourcequota'],
    make: (c) => new ResourceQuotaController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'garbage-collector-controller',
    serviceAccount: 'generic-garbage-collector',
    aliases: ['garbagecollector'],
    make: (c) =>
      new GarbageCollector({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentGcSyncs,
      }),
  },
  {
    name: 'replicaset-controller',
    serviceAccount: 'replicaset-controller',
    aliases: ['replicaset'],
    make: (c) =>
      new ReplicaSetController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentReplicasetSyncs,
      }),
  },
  {
    name: 'deployment-controller',
    serviceAccount: 'deployment-controller',
    aliases: ['deployment'],
    make: (c) =>
      new DeploymentController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentDeploymentSyncs,
      }),
  },
  {
    name: 'replicationcontroller-controller',
    serviceAccount: 'replication-controller',
    aliases: ['replicationcontroller'],
    make: (c) =>
      newReplicationManager({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentRcSyncs,
      }),
  },
  {
    name: 'daemonset-controller',
    serviceAccount: 'daemon-set-controller',
    aliases: ['daemonset'],
    make: (c) =>
      new DaemonSetController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentDaemonsetSyncs,
      }),
  },
  {
    name: 'job-controller',
    serviceAccount: 'job-controller',
    aliases: ['job'],
    make: (c) =>
      new JobController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentJobSyncs,
        podFailureBackoffMs: c.flags.jobPodFailureBackoffMs,
        maxPodFailureBackoffMs: c.flags.jobPodFailureMaxBackoffMs,
      }),
  },
  {
    name: 'cronjob-controller',
    serviceAccount: 'cronjob-controller',
    aliases: ['cronjob'],
    make: (c) =>
      new CronJobController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentCronJobSyncs,
        scheduleSpeed: c.flags.cronJobScheduleSpeed,
      }),
  },
  {
    name: 'ttl-after-finished-controller',
    serviceAccount: 'ttl-after-finished-controller',
    aliases: ['ttl-after-finished'],
    make: (c) =>
      new TTLAfterFinishedController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentTtlAfterFinishedSyncs,
      }),
  },
  {
    name: 'statefulset-controller',
    serviceAccount: 'statefulset-controller',
    aliases: ['statefulset'],
    make: (c) =>
      new StatefulSetController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        workers: c.flags.concurrentStatefulSetSyncs,
      }),
  },
  {
    name: 'endpoints-controller',
    serviceAccount: 'endpoint-controller',
    aliases: ['endpoint', 'endpoints'],
    make: (c) => new EndpointsController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'endpointslice-controller',
    serviceAccount: 'endpointslice-controller',
    aliases: ['endpointslice'],
    make: (c) => new EndpointSliceController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'disruption-controller',
    serviceAccount: 'disruption-controller',
    aliases: ['disruption'],
    make: (c) => new DisruptionController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'node-lifecycle-controller',
    serviceAccount: 'node-controller',
    aliases: ['nodelifecycle'],
    make: (c) =>
      new NodeLifecycleController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        nodeMonitorGracePeriodMs: c.flags.nodeMonitorGracePeriodMs,
        nodeMonitorPeriodMs: c.flags.nodeMonitorPeriodMs,
        nodeStartupGracePeriodMs: c.flags.nodeStartupGracePeriodMs,
      }),
  },
  {
    name: 'taint-eviction-controller',
    serviceAccount: 'node-controller',
    aliases: ['tainteviction'],
    make: (c) => new TaintEvictionController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'pod-garbage-collector-controller',
    serviceAccount: 'pod-garbage-collector',
    aliases: ['podgc'],
    make: (c) =>
      new PodGCController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        terminatedPodThreshold: c.flags.terminatedPodGcThreshold,
      }),
  },
  {
    name: 'clusterrole-aggregation-controller',
    serviceAccount: 'clusterrole-aggregation-controller',
    aliases: ['clusterrole-aggregation'],
    make: (c) =>
      new ClusterRoleAggregationController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'persistentvolume-binder-controller',
    serviceAccount: 'persistent-volume-binder',
    aliases: ['persistentvolume-binder'],
    make: (c) =>
      new PersistentVolumeController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'ephemeral-volume-controller',
    serviceAccount: 'ephemeral-volume-controller',
    aliases: ['ephemeral-volume'],
    make: (c) =>
      new EphemeralVolumeController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'certificatesigningrequest-signing-controller',
    serviceAccount: 'certificate-controller',
    aliases: ['csrsigning'],
    needs: '--cluster-signing-cert-file/--cluster-signing-key-file not set',
    make: (c) =>
      c.flags.clusterSigningCertFile && c.flags.clusterSigningKeyFile
        ? new CSRSigningController({
            client: c.client,
            informers: c.informers,
            logger: c.logger,
            certFile: c.flags.clusterSigningCertFile,
            keyFile: c.flags.clusterSigningKeyFile,
            durationMs: c.flags.clusterSigningDurationMs,
          })
        : undefined,
  },
  {
    name: 'certificatesigningrequest-approving-controller',
    serviceAccount: 'certificate-controller',
    aliases: ['csrapproving'],
    make: (c) => new CSRApprovingController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'certificatesigningrequest-cleaner-controller',
    serviceAccount: 'certificate-controller',
    aliases: ['csrcleaner'],
    make: (c) => new CSRCleanerController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'persistentvolumeclaim-protection-controller',
    serviceAccount: 'pvc-protection-controller',
    aliases: ['pvc-protection'],
    make: (c) => new PVCProtectionController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'persistentvolume-protection-controller',
    serviceAccount: 'pv-protection-controller',
    aliases: ['pv-protection'],
    make: (c) => new PVProtectionController({ client: c.client, informers: c.informers, logger: c.logger }),
  },
  {
    name: 'horizontal-pod-autoscaler-controller',
    serviceAccount: 'horizontal-pod-autoscaler',
    aliases: ['horizontalpodautoscaling'],
    make: (c) =>
      new HorizontalPodAutoscalerController({
        client: c.client,
        informers: c.informers,
        logger: c.logger,
        syncPeriodMs: c.flags.hpaSyncPeriodMs,
        downscaleStabilizationMs: c.flags.hpaDownscaleStabilizationMs,
      }),
  },
];

export { parseDuration };

/** upstream --controllers: `*` is every controller, `name` enables, `-name` disables */
export function enabledControllers(spec: string): Set<string> {
  const canonical = (n: string): string => {
    const c = CONTROLLERS.find((x) => x.name === n || x.aliases.includes(n));
    if (!c) throw new TypeError(`unknown controller "${n}"`);
    return c.name;
  };
  const items = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out = new Set<string>(items.includes('*') ? CONTROLLERS.map((c) => c.name) : []);
  for (const item of items) {
    if (item === '*') continue;
    if (item.startsWith('-')) out.delete(canonical(item.slice(1)));
    else out.add(canonical(item));
  }
  return out;
}

export function controllerManagerMain(argv: string[]): void {
  runComponent({
    name: 'controller-manager',
    argv,
    options: {
      controllers: { type: 'string', default: '*' },
      // upstream's flag (kubeadm sets it): each controller with its own ServiceAccount's credentials
      'use-service-account-credentials': { type: 'boolean', default: false },
      ...METRICS_OPTIONS,
      ...LEADER_ELECTION_OPTIONS,
      // upstream's grace is 4× the kubelet's lease renew interval (40 s / 10 s); kubemu renews every 0.5 s
      'node-monitor-grace-period': { type: 'string', default: '2s' },
      // upstream checks every 5 s, an eighth of its grace: a dead node is seen ≤ 0.25 s after the grace ran out
      'node-monitor-period': { type: 'string', default: '250ms' },
      'node-startup-grace-period': { type: 'string', default: '10s' },
      'terminated-pod-gc-threshold': { type: 'string', default: '12500' },
      'concurrent-gc-syncs': { type: 'string', default: '5' },
      'concurrent-namespace-syncs': { type: 'string', default: '2' },
      'concurrent-replicaset-syncs': { type: 'string', default: '5' },
      'concurrent-deployment-syncs': { type: 'string', default: '5' },
      'concurrent-rc-syncs': { type: 'string', default: '5' },
      'concurrent-daemonset-syncs': { type: 'string', default: '2' },
      'concurrent-statefulset-syncs': { type: 'string', default: '5' },
      'horizontal-pod-autoscaler-sync-period': { type: 'string', default: '2s' },
      'horizontal-pod-autoscaler-downscale-stabilization': { type: 'string', default: '15s' },
      'root-ca-file': { type: 'string' },
      'service-account-private-key-file': { type: 'string' },
      'concurrent-job-syncs': { type: 'string', default: '5' },
      'concurrent-cron-job-syncs': { type: 'string', default: '5' },
      'concurrent-ttl-after-finished-syncs': { type: 'string', default: '5' },
      // upstream's Job pod-failure back-off is 10 s doubling to 10 min; kubemu's is ten times shorter
      'job-pod-failure-backoff': { type: 'string', default: '1s' },
      'job-pod-failure-max-backoff': { type: 'string', default: '1m' },
      // kubemu's time compression for every CronJob (the kubemu.dev/schedule-speed annotation overrides it); 1 = off
      'cronjob-schedule-speed': { type: 'string', default: '1' },
      'cluster-signing-cert-file': { type: 'string', default: '' },
      'cluster-signing-key-file': { type: 'string', default: '' },
      'cluster-signing-duration': { type: 'string', default: '8760h' },
    },
    check(values, kubeconfig) {
      requireKubeconfig(kubeconfig);
      const leaderElection = leaderElectionFlags(values, 'kube-controller-manager');
      try {
        const flags: Flags = {
          nodeMonitorGracePeriodMs: parseDuration(values['node-monitor-grace-period']),
          nodeMonitorPeriodMs: parseDuration(values['node-monitor-period']),
          nodeStartupGracePeriodMs: parseDuration(values['node-startup-grace-period']),
          terminatedPodGcThreshold: Number(values['terminated-pod-gc-threshold']),
          concurrentGcSyncs: Number(values['concurrent-gc-syncs']),
          concurrentNamespaceSyncs: Number(values['concurrent-namespace-syncs']),
          concurrentReplicasetSyncs: Number(values['concurrent-replicaset-syncs']),
          concurrentDeploymentSyncs: Number(values['concurrent-deployment-syncs']),
          concurrentRcSyncs: Number(values['concurrent-rc-syncs']),
          concurrentDaemonsetSyncs: Number(values['concurrent-daemonset-syncs']),
          concurrentStatefulSetSyncs: Number(values['concurrent-statefulset-syncs']),
          hpaSyncPeriodMs: parseDuration(values['horizontal-pod-autoscaler-sync-period']),
          hpaDownscaleStabilizationMs: parseDuration(
            values['horizontal-pod-autoscaler-downscale-stabilization'],
          ),
          concurrentJobSyncs: Number(values['concurrent-job-syncs']),
          concurrentCronJobSyncs: Number(values['concurrent-cron-job-syncs']),
          concurrentTtlAfterFinishedSyncs: Number(values['concurrent-ttl-after-finished-syncs']),
          jobPodFailureBackoffMs: parseDuration(values['job-pod-failure-backoff']),
          jobPodFailureMaxBackoffMs: parseDuration(values['job-pod-failure-max-backoff']),
          cronJobScheduleSpeed: Number(values['cronjob-schedule-speed']),
          clusterSigningCertFile: values['cluster-signing-cert-file'] || undefined,
          clusterSigningKeyFile: values['cluster-signing-key-file'] || undefined,
          clusterSigningDurationMs: parseDuration(values['cluster-signing-duration']),
        };
        if (!flags.clusterSigningCertFile !== !flags.clusterSigningKeyFile)
          throw new TypeError('--cluster-signing-cert-file and --cluster-signing-key-file go together');
        if (!(flags.cronJobScheduleSpeed >= 1 && flags.cronJobScheduleSpeed <= 1_000_000))
          throw new TypeError(`--cronjob-schedule-speed must be a number from 1 to 1000000`);
        if (!(
          flags.jobPodFailureBackoffMs > 0 && flags.jobPodFailureMaxBackoffMs >= flags.jobPodFailureBackoffMs
        ))
          throw new TypeError(
            '--job-pod-failure-backoff must be > 0 and at most --job-pod-failure-max-backoff',
          );
        const read = (file: unknown): string | undefined =>
          typeof file === 'string' && file ? readFileSync(file, 'utf8') : undefined;
        const keyPem = read(values['service-account-private-key-file']);
        return {
          flags,
          leaderElection,
          useServiceAccountCredentials: values['use-service-account-credentials'],
          enabled: enabledControllers(values.controllers),
          rootCaFile: read(values['root-ca-file']),
          serviceAccountKey: keyPem ? createPrivateKey(keyPem) : undefined,
        };
      } catch (err) {
        throw new UsageError('invalid flags', { err });
      }
    },
    async start({
      checked: {
        flags,
        leaderElection,
        useServiceAccountCredentials,
        enabled,
        rootCaFile,
        serviceAccountKey,
      },
      logger: log,
      connect,
      serveMetrics,
    }) {
      const { client, connection, credentials } = connect();
      await serveMetrics();
      // upstream's controllers start once this process leads (`--leader-elect`, one Lease for all of them)
      return runWhenLeading({
        flags: leaderElection,
        client,
        logger: log,
        component: 'kube-controller-manager',
        async lead() {
          // each controller as its own ServiceAccount (--use-service-account-credentials), over this one connection
          const saClients = useServiceAccountCredentials
            ? new ServiceAccountClients({
                root: client,
                connection,
                logger: log.child({ module: 'client-builder' }),
              })
            : undefined;
          const informers = new SharedInformerFactory({ client, logger: log });
          const rootCa = rootCaFile ?? credentials.caPem;
          const ctx: ControllerContext = { client, informers, logger: log, flags, rootCa, serviceAccountKey };
          const running: { name: string; controller: RunnableController }[] = [];
          // Construct every controller first so all register handlers before any informer lists.
          for (const c of CONTROLLERS) {
            if (!enabled.has(c.name)) continue;
            const controller = c.make(
              saClients && c.serviceAccount ? { ...ctx, client: saClients.client(c.serviceAccount) } : ctx,
            );
            if (!controller) {
              log.warn({ controller: c.name }, `skipping: ${c.needs ?? 'its flags are not set'}`);
              continue;
            }
            running.push({ name: c.name, controller });
          }
          informers.start();
          await Promise.all(running.map((r) => r.controller.run()));
          log.info({ controllers: running.map((r) => r.name) }, 'controllers started');
          return {
            close() {
              for (const r of running) r.controller.stop();
              informers.stop();
            },
          };
        },
      });
    },
  });
}

if (import.meta.url === `file://${process.argv[1]}`) controllerManagerMain(process.argv.slice(2));
