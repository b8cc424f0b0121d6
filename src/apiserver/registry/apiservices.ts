// apiregistration.k8s.io/v1 APIServices: the strategy (upstream's kube-aggregator pkg/registry/apiservice) with the
// Available condition kube-aggregator's availability controller gives each one, and the APIServices its
// autoregister controller creates for every group-version the apiserver serves itself
// (pkg/controlplane/apiserver/aggregator.go and cmd/kube-apiserver/app/aggregator.go: `v1.`, `v1.apps`, …).
//
// kubemu serves every group-version itself and does not proxy to aggregated API servers. A "Local" APIService
// (no spec.service) is Available=True, reason Local, as upstream. An APIService that points at a Service is stored
// but its API is not served: it is Available=False with upstream's FailedDiscoveryCheck reason and a message that
// says why, never True.
import type { ApiRequest, KubeObject, UserInfo } from '../../api/request.js';
import { RESOURCES } from '../../api/resources.js';
import type { APIService } from '../../api/validation/apiregistration.js';
import { deepEqual } from '../../util/objects.js';
import { METRICS_GROUP, METRICS_VERSION } from '../metrics-api/resources.js';
import type { Strategy, UpdatePart } from './strategies.js';

export const APIREGISTRATION_GROUP = 'apiregistration.k8s.io';

/**
 * groupPriorityMinimum / versionPriority of the built-in group-versions: kube-apiserver's table
 * (cmd/kube-apiserver/app/aggregator.go) merged over the generic control plane's (DefaultGenericAPIServicePriorities),
 * for the group-versions kubemu serves. Upstream registers no APIService for a group-version missing here.
 */
export const API_VERSION_PRIORITIES: Readonly<Record<string, { group: number; version: number }>> = {
  '/v1': { group: 18000, version: 1 },
  'apps/v1': { group: 17800, version: 15 },
  'events.k8s.io/v1': { group: 17750, version: 15 },
  'authentication.k8s.io/v1': { group: 17700, version: 15 },
  'authorization.k8s.io/v1': { group: 17600, version: 15 },
  'autoscaling/v1': { group: 17500, version: 15 },
  'autoscaling/v2': { group: 17500, version: 30 },
  'batch/v1': { group: 17400, version: 15 },
  'certificates.k8s.io/v1': { group: 17300, version: 15 },
  'networking.k8s.io/v1': { group: 17200, version: 15 },
  'policy/v1': { group: 17100, version: 15 },
  'rbac.authorization.k8s.io/v1': { group: 17000, version: 15 },
  'storage.k8s.io/v1': { group: 16800, version: 15 },
  'apiextensions.k8s.io/v1': { group: 16700, version: 15 },
  'admissionregistration.k8s.io/v1': { group: 16700, version: 15 },
  'scheduling.k8s.io/v1': { group: 16600, version: 15 },
  'coordination.k8s.io/v1': { group: 16500, version: 15 },
  'node.k8s.io/v1': { group: 16300, version: 15 },
  'discovery.k8s.io/v1': { group: 16200, version: 15 },
  'flowcontrol.apiserver.k8s.io/v1': { group: 16100, version: 21 },
};

/**
 * metrics.k8s.io is metrics-server's aggregated API upstream (its APIService: priorities 100/100, pointing at
 * kube-system/metrics-server); kubemu's apiserver serves it itself, so its APIService is Local.
 */
const METRICS_PRIORITY = { group: 100, version: 100 };

const nowRfc3339 = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** the APIServices kubemu's apiserver registers for itself, as upstream's autoregister controller makes them */
export function localAPIServices(): KubeObject[] {
  const gvs = new Map<string, { group: string; version: string }>();
  for (const ri of RESOURCES) {
    if (ri.group === APIREGISTRATION_GROUP) continue; // the aggregator's own group: upstream lists no APIService
    for (const version of ri.versions) gvs.set(`${ri.group}/${version}`, { group: ri.group, version });
  }
  const out: KubeObject[] = [];
  const make = (group: string, version: string, p: { group: number; version: number }): KubeObject => ({
    apiVersion: `${APIREGISTRATION_GROUP}/v1`,
    kind: 'APIService',
    // autoregister's mark of the APIServices it syncs once at start (AutoRegisterManagedLabel, "onstart")
    metadata: {
      name: `${version}.${group}`,
      labels: { 'kube-aggregator.kubernetes.io/automanaged': 'onstart' },
    },
    spec: { group, version, groupPriorityMinimum: p.group, versionPriority: p.version },
  });
  for (const [key, gv] of gvs) {
    const p = API_VERSION_PRIORITIES[key];
    if (p) out.push(make(gv.group, gv.version, p));
  }
  out.push(make(METRICS_GROUP, METRICS_VERSION, METRICS_PRIORITY));
  return out;
}

/** kube-aggregator's availability controller's verdict for one APIService */
function availableCondition(svc: APIService): NonNullable<APIService['status']>['conditions'] & object {
  const ref = svc.spec?.service;
  const now = nowRfc3339();
  if (!ref) {
    return [
      {
        type: 'Available',
        status: 'True',
        lastTransitionTime: now,
        reason: 'Local',
        message: 'Local APIServices are always available',
      },
    ];
  }
  const path = svc.spec?.group ? `/apis/${svc.spec.group}/${svc.spec.version ?? ''}` : '/api';
  return [
    {
      type: 'Available',
      status: 'False',
      lastTransitionTime: now,
      reason: 'FailedDiscoveryCheck',
      message: `kubemu does not proxy to aggregated API servers: ${path} is not forwarded to service/${ref.name ?? ''} in "${ref.namespace ?? ''}"`,
    },
  ];
}

function prepareCreate(obj: KubeObject): void {
  obj['status'] = { conditions: availableCondition(obj) };
}

/** upstream keeps status on a spec update; the availability controller re-checks when spec.service changes */
function prepareUpdate(next: KubeObject, old: KubeObject, part: UpdatePart): void {
  if (part !== 'main') return;
  const n = next as APIService;
  const o = old as APIService;
  if (deepEqual(n.spec?.service ?? null, o.spec?.service ?? null)) return;
  const [fresh] = availableCondition(n);
  const others = (n.status?.conditions ?? []).filter((c) => c.type !== 'Available');
  const prev = (o.status?.conditions ?? []).find((c) => c.type === 'Available');
  if (prev && prev.status === fresh.status && prev.lastTransitionTime)
    fresh.lastTransitionTime = prev.lastTransitionTime;
  next['status'] = { ...(n.status ?? {}), conditions: [...others, fresh] };
}

export const apiServiceStrategy: Partial<Strategy> = {
  statusSubresource: true,
  prepareForCreate: prepareCreate,
  prepareForUpdate: prepareUpdate,
};

/** create the local APIServices that are missing (upstream's autoregister on start) */
export async function ensureLocalAPIServices(
  ensure: (req: ApiRequest) => Promise<void>,
  user: UserInfo,
): Promise<void> {
  for (const body of localAPIServices()) {
    await ensure({
      verb: 'create',
      group: APIREGISTRATION_GROUP,
      version: 'v1',
      resource: 'apiservices',
      body,
      options: {},
      user,
    });
  }
}
