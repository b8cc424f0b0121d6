// Services' rules in the generic store (upstream pkg/registry/core/service/storage/storage.go and strategy.go):
// status reset on create, ClusterIP and NodePorts allocated before the write and released when it fails, is a
// dry run, or the Service is deleted (upstream's BeginCreate/BeginUpdate transactions and afterDelete); held in
// storage too (IPAddress objects, NodePort records: service-reservations.ts), as every apiserver shares them.
import type { KubeObject } from '../../../api/request.js';
import {
  beginServiceCreate,
  beginServiceUpdate,
  releaseService,
  type Reserving,
  type ServiceSpec,
} from '../allocators.js';
import type { Strategy, StrategyContext } from '../strategies.js';

const specOf = (obj: KubeObject): ServiceSpec => (obj['spec'] ??= {}) as ServiceSpec;

/** the Service's picks held in storage too, when the store has reservations (every apiserver's does) */
const reserving = (obj: KubeObject, ctx: StrategyContext): Reserving | undefined =>
  ctx.reservations
    ? {
        reservations: ctx.reservations,
        owner: { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' },
        ...(ctx.dryRun ? { dryRun: true } : {}),
      }
    : undefined;

export const serviceStrategy: Partial<Strategy> = {
  statusSubresource: true,
  prepareForCreate(obj) {
    obj['status'] = { loadBalancer: {} };
  },
  beginCreate(obj, ctx) {
    return beginServiceCreate(ctx.allocator, specOf(obj), reserving(obj, ctx));
  },
  beginUpdate(next, old, ctx) {
    return beginServiceUpdate(
      ctx.allocator,
      specOf(next),
      (old['spec'] ?? {}) as ServiceSpec,
      reserving(next, ctx),
    );
  },
  afterDelete(obj, ctx) {
    return releaseService(ctx.allocator, obj['spec'] as ServiceSpec | undefined, reserving(obj, ctx));
  },
};
