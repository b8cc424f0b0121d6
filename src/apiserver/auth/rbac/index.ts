// The apiserver's authorizer chain (kube-apiserver --authorization-mode): system:masters first (always allowed, as
// upstream's privileged-group authorizer), then the Node authorizer's slot, then RBAC. AlwaysAllow is upstream's
// mode of the same name (every authenticated request allowed; the benchmark's baseline).
import type { ApiHandler } from '../../../api/request.js';
import type { Logger } from '../../../util/logger.js';
import type { AdmissionPlugin } from '../../admission/interface.js';
import { alwaysAllow, type Authorizer } from '../authorizer.js';
import type { PolicyRule } from 'kubernetes-types/rbac/v1.js';
import { bootstrapPolicy, ensureBootstrapPolicy } from './bootstrap.js';
import type { NodeGraph } from '../node/graph.js';
import { NodeAuthorizer } from '../node/node-authorizer.js';
import { rbacEscalationCheck } from './escalation.js';
import { RbacPolicyCache } from './policy-cache.js';
import { privilegedGroups, RbacAuthorizer, unionAuthorizer } from './rbac-authorizer.js';
import { RuleResolver } from './resolver.js';

export * from './bootstrap.js';
export * from './rules.js';
export { RbacAuthorizer, privilegedGroups, unionAuthorizer } from './rbac-authorizer.js';
export { RuleResolver } from './resolver.js';
export { RbacPolicyCache } from './policy-cache.js';

/** the chains kubemu builds: kubeadm's Node,RBAC (the default), RBAC alone, or AlwaysAllow */
export type AuthorizationMode = 'Node,RBAC' | 'RBAC' | 'AlwaysAllow';
const KNOWN_MODES: readonly string[] = ['Node', 'RBAC', 'AlwaysAllow'];

/** `--authorization-mode` (comma-separated, as upstream): Node,RBAC; RBAC; or AlwaysAllow */
export function parseAuthorizationMode(flag: string | undefined): AuthorizationMode {
  const modes = (flag ?? 'Node,RBAC')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  for (const m of modes)
    if (!KNOWN_MODES.includes(m))
      throw new TypeError(`--authorization-mode: unknown mode "${m}" (known: ${KNOWN_MODES.join(', ')})`);
  const joined = modes.join(',');
  if (joined === 'Node,RBAC' || joined === 'RBAC' || joined === 'AlwaysAllow') return joined;
  throw new TypeError(
    `--authorization-mode: "${joined}" is not a chain kubemu builds; give Node,RBAC (the default), RBAC or AlwaysAllow`,
  );
}

/** upstream's static node rules: the `system:node` ClusterRole of the bootstrap policy (bootstrappolicy.NodeRules) */
function nodeRules(): PolicyRule[] {
  const role = bootstrapPolicy().find(
    (o) => o.resource === 'clusterroles' && o.object.metadata?.name === 'system:node',
  );
  return ((role?.object as { rules?: PolicyRule[] } | undefined)?.rules ?? []).map((r) => ({ ...r }));
}

/**
 * The authorizer of a running apiserver. `policyChecks` go to the registry before it exists (they read the
 * authorizer lazily); `start` runs once the registry is up: bootstrap policy, then the policy cache's first sync.
 */
export class ApiAuthorization {
  private cache: RbacPolicyCache | undefined;
  private resolver: RuleResolver | undefined;
  private chain: Authorizer;
  readonly policyChecks: readonly AdmissionPlugin[];

  constructor(readonly mode: AuthorizationMode) {
    // until the policy is loaded only system:masters is allowed (the apiserver's own bootstrap writes)
    this.chain = mode !== 'AlwaysAllow' ? privilegedGroups('system:masters') : alwaysAllow;
    this.policyChecks =
      mode !== 'AlwaysAllow'
        ? [rbacEscalationCheck({ authorizer: () => this.chain, resolver: () => this.resolver! })]
        : [];
  }

  get authorizer(): Authorizer {
    return this.chain;
  }

  /** `graph`: the Node authorizer's (mode Node,RBAC) */
  async start(api: ApiHandler, log: Logger, graph?: NodeGraph): Promise<void> {
    if (this.mode === 'AlwaysAllow') return;
    const started = performance.now();
    await ensureBootstrapPolicy(api, log);
    const bootstrapped = performance.now();
    this.cache = new RbacPolicyCache(api, log.child({ module: 'rbac' }));
    await this.cache.start();
    log.info(
      {
        bootstrapMs: Math.round(bootstrapped - started),
        cacheSyncMs: Math.round(performance.now() - bootstrapped),
      },
      'RBAC bootstrap policy ensured and authorizer synced',
    );
    this.resolver = new RuleResolver(this.cache);
    this.chain = unionAuthorizer([
      privilegedGroups('system:masters'),
      // system:nodes' reads of their own pods' objects (kube-apiserver --authorization-mode=Node,RBAC)
      ...(this.mode === 'Node,RBAC' && graph ? [new NodeAuthorizer(graph, nodeRules())] : []),
      new RbacAuthorizer(this.resolver),
    ]);
  }

  stop(): void {
    this.cache?.stop();
  }
}
