// The apiserver's storage add-on: at every start it creates what is missing of the local-path-provisioner's objects
// (its ServiceAccount, ClusterRole and binding, the default StorageClass `standard`), as an add-on manager does for
// `addonmanager.kubernetes.io/mode: EnsureExists` objects — like k3s applying its local-storage manifest. An object
// the user changed is left as it is; one the user deleted comes back at the next start.
import { ApiError } from '../../api/errors.js';
import type { ApiHandler, UserInfo } from '../../api/request.js';
import { localPathAddonObjects } from '../../api/storage/local-path-addon.js';
import type { Logger } from '../../util/logger.js';

const SYSTEM: UserInfo = { username: 'system:apiserver', groups: ['system:masters'] };

export async function ensureLocalPathStorage(api: ApiHandler, log: Logger): Promise<void> {
  for (const { group, version, resource, object } of localPathAddonObjects()) {
    const namespace = object.metadata?.namespace;
    const base = { group, version, resource, ...(namespace ? { namespace } : {}), options: {}, user: SYSTEM };
    try {
      // a restart finds them: one read each, no admission
      await api.handle({ ...base, verb: 'get', name: object.metadata!.name! });
      continue;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
    try {
      await api.handle({ ...base, verb: 'create', body: object });
      log.info({ resource, name: object.metadata?.name }, 'created storage add-on object');
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
