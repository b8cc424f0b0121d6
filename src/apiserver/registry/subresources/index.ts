// The subresources the apiserver serves itself, by name (log, exec, attach, portforward and proxy go to the kubelet).
import type { ApiRequest, ApiResult } from '../../../api/request.js';
import type { GenericStore, Target } from '../store.js';
import { approval } from './approval.js';
import { binding } from './binding.js';
import { ephemeralContainers } from './ephemeral-containers.js';
import { eviction } from './eviction.js';
import { finalize } from './finalize.js';
import { scale } from './scale.js';
import { status } from './status.js';

export type SubresourceHandler = (store: GenericStore, req: ApiRequest, t: Target) => Promise<ApiResult>;

export const SUBRESOURCES: Readonly<Record<string, SubresourceHandler>> = {
  status,
  scale,
  binding,
  eviction,
  finalize,
  approval,
  ephemeralcontainers: ephemeralContainers,
};
