// API Priority and Fairness' mandatory configuration objects, created at startup as upstream's apiserver does
// (k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap): the `exempt` and `catch-all` priority levels and flow
// schemas. Their status carries the Dangling condition upstream's APF controller maintains.
import { ApiError } from '../../api/errors.js';
import { MANDATORY_FLOW_SCHEMAS, MANDATORY_PRIORITY_LEVELS } from '../../api/flowcontrol/mandatory.js';
import type { ApiRequest, ApiResult, KubeObject, UserInfo } from '../../api/request.js';

const GROUP = 'flowcontrol.apiserver.k8s.io';

/** the Dangling condition of a flow schema whose priority level exists */
export function notDangling(plName: string, now: string): Record<string, unknown> {
  return {
    type: 'Dangling',
    status: 'False',
    lastTransitionTime: now,
    reason: 'Found',
    message: `This FlowSchema references the PriorityLevelConfiguration object named "${plName}" and it exists`,
  };
}

type Handle = (req: ApiRequest) => Promise<ApiResult>;

/**
 * Create what is missing (existing objects are left as they are, as the user may have changed them) and give
 * each mandatory flow schema its Dangling=False condition once.
 */
export async function ensureFlowcontrolBootstrap(
  handle: Handle,
  ensure: (req: ApiRequest) => Promise<void>,
  user: UserInfo,
  now: string,
): Promise<void> {
  const base = { group: GROUP, version: 'v1', options: {}, user };
  for (const body of MANDATORY_PRIORITY_LEVELS)
    await ensure({ ...base, verb: 'create', resource: 'prioritylevelconfigurations', body });
  for (const body of MANDATORY_FLOW_SCHEMAS) {
    await ensure({ ...base, verb: 'create', resource: 'flowschemas', body });
    const name = body.metadata!.name!;
    const current = (await handle({ ...base, verb: 'get', resource: 'flowschemas', name }))
      .body as KubeObject;
    const status = (current['status'] ?? {}) as { conditions?: unknown[] };
    if (status.conditions?.length) continue;
    const pl = (body['spec'] as { priorityLevelConfiguration: { name: string } }).priorityLevelConfiguration
      .name;
    await handle({
      ...base,
      verb: 'update',
      resource: 'flowschemas',
      subresource: 'status',
      name,
      body: { ...structuredClone(current), status: { conditions: [notDangling(pl, now)] } },
    }).catch((e: unknown) => {
      // another apiserver of an HA control plane (sharing etcd) gave it its condition first
      if (!(e instanceof ApiError && e.reason === 'Conflict')) throw e;
    });
  }
}
