// ComponentStatus (`kubectl get cs`): computed on every read, never stored, as upstream's
// pkg/registry/core/componentstatus does. Upstream probes each component's /healthz; kubemu's scheduler and
// controller-manager serve no health port to the apiserver, so a component counts as healthy while it holds a
// watch open on the apiserver under its own identity (every controller and the scheduler watch constantly), and
// the storage ("etcd-0") is healthy when a read of it succeeds.
import { CONTROLLER_MANAGER_USER, SCHEDULER_USER } from '../auth/token-file.js';
import type { KubeObject } from '../../api/request.js';
import type { Storage } from '../storage/storage.js';

/** open watches per user name */
export class WatcherCensus {
  private readonly open = new Map<string, number>();

  /** count one watch of `user` until the returned release is called (once) */
  enter(user: string): () => void {
    this.open.set(user, (this.open.get(user) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.open.get(user) ?? 1) - 1;
      if (n <= 0) this.open.delete(user);
      else this.open.set(user, n);
    };
  }

  count(user: string): number {
    return this.open.get(user) ?? 0;
  }
}

interface Health {
  healthy: boolean;
  message: string;
  error: string;
}

function componentStatus(name: string, h: Health): KubeObject {
  return {
    kind: 'ComponentStatus',
    apiVersion: 'v1',
    metadata: { name },
    conditions: [
      {
        type: 'Healthy',
        status: h.healthy ? 'True' : 'False',
        message: h.message,
        ...(h.error ? { error: h.error } : {}),
      },
    ],
  };
}

function watching(census: WatcherCensus, user: string, what: string): Health {
  return census.count(user) > 0
    ? { healthy: true, message: 'ok', error: '' }
    : {
        healthy: false,
        message: '',
        error: `the ${what} holds no watch on the apiserver as ${user}: it is not running or not connected`,
      };
}

async function storageHealth(storage: Storage): Promise<Health> {
  try {
    await storage.get('/registry/health');
    return { healthy: true, message: 'ok', error: '' };
  } catch (e) {
    return { healthy: false, message: '', error: `storage read failed: ${(e as Error).message}` };
  }
}

/** the ComponentStatuses upstream lists, in its order */
export async function componentStatuses(storage: Storage, census: WatcherCensus): Promise<KubeObject[]> {
  return [
    componentStatus('scheduler', watching(census, SCHEDULER_USER, 'scheduler')),
    componentStatus('controller-manager', watching(census, CONTROLLER_MANAGER_USER, 'controller-manager')),
    componentStatus('etcd-0', await storageHealth(storage)),
  ];
}

/** upstream answers every ComponentStatus request with this warning header */
export const COMPONENT_STATUS_WARNING = 'v1 ComponentStatus is deprecated in v1.19+';
