// Services' rules in the generic store (upstream pkg/registry/core/service/storage/storage.go and strategy.go):
// status reset on create, ClusterIP and NodePorts allocated before the write and released when it fails, is a
// dry run, or the Service is deleted (upstream's BeginCreate/BeginUpdate transactions and afterDelete).
import type { KubeObject } from '../../../api/request.js';
import { beginServiceCreate, beginServiceUpdate, releaseService, type ServiceSpec } from '../allocators.js';
import type { Strategy } from '../strategies.js';

const specOf = (obj: KubeObject): ServiceSpec => (obj['spec'] ??= {}) as ServiceSpec;

export const serviceStrategy: Partial<Strategy> = {
  statusSubresource: true,
  prepareForCreate(obj) {
    obj['status'] = { loadBalancer: {} };
  },
  beginCreate(obj, ctx) {
    return beginServiceCreate(ctx.allocator, specOf(obj));
  },
  beginUpdate(next, old, ctx) {
    return beginServiceUpdate(ctx.allocator, specOf(next), (old['spec'] ?? {}) as ServiceSpec);
  },
  afterDelete(obj, ctx) {
    releaseService(ctx.allocator, obj['spec'] as ServiceSpec | undefined);
  },
};
