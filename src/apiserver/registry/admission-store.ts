// What admission plugins read and write (../admission/interface.ts AdmissionStore): storage itself, below
// admission, as upstream's plugins read informers' caches and write through a client. Writes (quota usage) go
// through the store's one guaranteed-update loop.
import { errors } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import { deepCopy } from '../../util/objects.js';
import { findResource, storageKey, storagePrefix } from '../../api/resources.js';
import type { AdmissionStore } from '../admission/interface.js';
import type { Storage } from '../storage/storage.js';
import type { GenericStore, Target } from './store.js';

const SYSTEM = { username: 'system:apiserver', groups: ['system:masters'] };

export function admissionStore(storage: Storage, store: () => GenericStore): AdmissionStore {
  const info = (group: string, resource: string) => {
    const ri = findResource(group, resource);
    if (!ri) throw errors.internal(`admission: no resource ${resource}.${group}`);
    return ri;
  };
  const target = (group: string, resource: string, namespace: string, name: string): Target =>
    store().resolve({
      verb: 'update',
      group,
      version: info(group, resource).versions[0],
      resource,
      ...(namespace ? { namespace } : {}),
      name,
      options: {},
      user: SYSTEM,
    });
  return {
    get: async (group, resource, namespace, name) =>
      (await storage.get(storageKey(info(group, resource), namespace || undefined, name)))?.object,
    list: async (group, resource, namespace) =>
      (await storage.list(storagePrefix(info(group, resource), namespace || undefined))).items.map(
        (i) => i.object,
      ),
    update: (group, resource, namespace, name, mutate) => {
      const t = target(group, resource, namespace, name);
      const key = store().key(t, namespace || undefined, name);
      return store().guaranteedUpdate(t, name, key, async (current): Promise<KubeObject | undefined> => {
        if (!current) return undefined;
        const next = mutate(deepCopy(current.object));
        if (!next) return undefined;
        delete next.metadata?.resourceVersion;
        return (await store().writeUpdate(t, key, next, current)).object;
      });
    },
  };
}
