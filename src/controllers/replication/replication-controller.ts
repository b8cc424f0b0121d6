// The ReplicationController manager (upstream pkg/controller/replication): the ReplicaSet controller run over
// ReplicationControllers, converting at its edges as upstream's conversion.go adapters do — a map selector becomes
// `matchLabels`, the status fields are the same.
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { ReplicationController } from 'kubernetes-types/core/v1.js';
import type { Informer, ObjectWithMeta, ResourceClient } from '../../client/index.js';
import type { SharedInformerFactory } from '../common/informers.js';
import {
  ReplicaSetController,
  type ReplicaSetControllerOptions,
  type ReplicaSetKind,
} from '../replicaset/replicaset-controller.js';

export const REPLICATION_CONTROLLER_NAME = 'replicationcontroller-controller';

/** Convert_v1_ReplicationController_To_apps_ReplicaSet */
export function replicaSetFromRC(rc: ReplicationController): ReplicaSet {
  const spec = rc.spec ?? {};
  const { selector, ...rest } = spec;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: rc.metadata,
    spec: {
      ...rest,
      selector: selector ? { matchLabels: { ...selector } } : {},
    },
    ...(rc.status ? { status: rc.status } : {}),
  };
}

/** Convert_apps_ReplicaSet_To_v1_ReplicationController (a selector with matchExpressions cannot be one) */
export function rcFromReplicaSet(rs: ReplicaSet): ReplicationController {
  const { selector, ...rest } = rs.spec ?? { selector: {} };
  if (selector?.matchExpressions?.length)
    throw new TypeError('a ReplicationController selector cannot hold matchExpressions');
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: rs.metadata,
    spec: { ...rest, ...(selector?.matchLabels ? { selector: { ...selector.matchLabels } } : {}) },
    ...(rs.status ? { status: rs.status } : {}),
  };
}

function replicationControllerKind(
  rcs: ResourceClient<ReplicationController>,
  informers: SharedInformerFactory,
): ReplicaSetKind {
  const informer = informers.forResource('replicationcontrollers', rcs);
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    controllerName: REPLICATION_CONTROLLER_NAME,
    informer: informer as unknown as Informer<ObjectWithMeta>,
    toReplicaSet: (obj) => replicaSetFromRC(obj as ReplicationController),
    get: async (name, namespace) => replicaSetFromRC(await rcs.get(name, namespace)),
    updateStatus: async (rs) => replicaSetFromRC(await rcs.updateStatus(rcFromReplicaSet(rs))),
  };
}

/** NewReplicationManager: a ReplicaSetController over ReplicationControllers (--concurrent-rc-syncs workers) */
export function newReplicationManager(opts: Omit<ReplicaSetControllerOptions, 'kind'>): ReplicaSetController {
  const rcs = opts.client.resource<ReplicationController>('', 'v1', 'replicationcontrollers');
  return new ReplicaSetController({ ...opts, kind: replicationControllerKind(rcs, opts.informers) });
}
