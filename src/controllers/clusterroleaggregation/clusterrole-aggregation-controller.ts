// The ClusterRole aggregation controller (upstream pkg/controller/clusterroleaggregation): a ClusterRole with an
// aggregationRule gets as its rules the rules of every other ClusterRole its selectors match (sorted by name, each
// rule once) — how `admin`, `edit` and `view` gather their rules and pick up those of CRDs' roles.
import type { ClusterRole, PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { ApiError } from '../../api/errors.js';
import { selectorMatches } from '../../api/labels.js';
import { WorkQueue, type Informer, type KubeClient, type ResourceClient } from '../../client/index.js';
import { realClock, type Clock } from '../../util/clock.js';
import type { Logger } from '../../util/logger.js';
import { SharedInformerFactory } from '../common/informers.js';

export interface ClusterRoleAggregationControllerOptions {
  client: KubeClient;
  informers?: SharedInformerFactory;
  logger: Logger;
  clock?: Clock;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** the rules `role` aggregates from `all`: matched roles by name, rules deduplicated in order */
export function aggregatedRules(role: ClusterRole, all: readonly ClusterRole[]): PolicyRule[] {
  const matched = new Map<string, ClusterRole>();
  for (const selector of role.aggregationRule?.clusterRoleSelectors ?? [])
    for (const other of all)
      if (selectorMatches(selector, other.metadata?.labels)) matched.set(other.metadata?.name ?? '', other);
  const rules: PolicyRule[] = [];
  for (const [name, other] of [...matched.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name === role.metadata?.name) continue;
    for (const rule of other.rules ?? []) if (!rules.some((r) => sameJson(r, rule))) rules.push(rule);
  }
  return rules;
}

export class ClusterRoleAggregationController {
  private readonly client: ResourceClient<ClusterRole>;
  private readonly log: Logger;
  private readonly informers: SharedInformerFactory;
  private readonly ownsInformers: boolean;
  private readonly clusterRoles: Informer<ClusterRole>;
  readonly queue: WorkQueue<string>;

  constructor(opts: ClusterRoleAggregationControllerOptions) {
    if (!opts.client) throw new TypeError('ClusterRoleAggregationController needs a client');
    this.client = opts.client.resource<ClusterRole>('rbac.authorization.k8s.io', 'v1', 'clusterroles');
    this.log = opts.logger.child({ controller: 'clusterrole-aggregation' });
    const clock = opts.clock ?? realClock;
    this.queue = new WorkQueue<string>({ name: 'clusterrole-aggregation', clock, logger: this.log });
    this.ownsInformers = !opts.informers;
    this.informers =
      opts.informers ?? new SharedInformerFactory({ client: opts.client, clock, logger: this.log });
    this.clusterRoles = this.informers.forResource('clusterroles.rbac.authorization.k8s.io', this.client);
    // any change may change what some aggregated role selects: every aggregating role is looked at again
    const enqueueAll = (): void => {
      for (const role of this.clusterRoles.store.list())
        if (role.aggregationRule) this.queue.add(role.metadata?.name ?? '');
    };
    this.clusterRoles.addEventHandler({ onAdd: enqueueAll, onUpdate: enqueueAll, onDelete: enqueueAll });
  }

  async run(): Promise<void> {
    this.informers.start();
    await this.clusterRoles.waitForSync();
    if (this.queue.shuttingDown()) return;
    void this.queue.runWorkers(1, (name) => this.sync(name));
  }

  stop(): void {
    this.queue.shutDown();
    if (this.ownsInformers) this.informers.stop();
  }

  async sync(name: string): Promise<void> {
    const role = this.clusterRoles.store.getByName(undefined, name);
    if (!role?.aggregationRule) return;
    const rules = aggregatedRules(role, this.clusterRoles.store.list());
    if (sameJson(rules, role.rules ?? [])) return;
    try {
      await this.client.update({ ...role, rules });
      this.log.debug({ clusterRole: name, rules: rules.length }, 'aggregated ClusterRole rules');
    } catch (err) {
      // a newer version is on its way through the informer, which enqueues again
      if (err instanceof ApiError && (err.reason === 'Conflict' || err.reason === 'NotFound')) return;
      throw err;
    }
  }
}
