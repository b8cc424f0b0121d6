// apps/v1 defaulting (upstream pkg/apis/apps/v1/defaults.go) — replicas, strategy, history — plus the pod template.
import type { Deployment, ReplicaSet, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import { defaultPodTemplate } from './core.js';

export function defaultDeployment(d: Deployment): void {
  const spec = (d.spec ??= { selector: {}, template: {} });
  if (spec.replicas === undefined) spec.replicas = 1;
  const strategy = (spec.strategy ??= {});
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const ru = (strategy.rollingUpdate ??= {});
    if (ru.maxUnavailable === undefined) ru.maxUnavailable = '25%';
    if (ru.maxSurge === undefined) ru.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit === undefined) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds === undefined) spec.progressDeadlineSeconds = 600;
  defaultPodTemplate(spec.template);
  // DeploymentStatus is a non-pointer struct
  (d as { status?: object }).status ??= {};
}

export function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = (rs.spec ??= { selector: {} });
  if (spec.replicas === undefined) spec.replicas = 1;
  defaultPodTemplate(spec.template);
  // ReplicaSetStatus.replicas has no omitempty: upstream always prints it
  const status = ((rs as { status?: ReplicaSetStatus }).status ??= { replicas: 0 });
  status.replicas ??= 0;
}
