// The apiserver's authorizer chain (kube-apiserver --authorization-mode): system:masters first (always allowed, as
// upstream's privileged-group authorizer), then the Node authorizer's slot, then RBAC. AlwaysAllow is upstream's
// mode of the same name (every authenticated request allowed; the benchmark's baseline).
import type { ApiHandler } from '../../../api/request.js';
import type { Logger } from '../../../util/logger.js';
import type { AdmissionPlugin } from '../../admission/interface.js';
import { alwaysAllow, type Authorizer } from '../authorizer.js';
import { ensureBootstrapPolicy } from './bootstrap.js';
import { rbacEscalationCheck } from './escalation.js';
import { RbacPolicyCache } from './policy-cache.js';
import { privilegedGroups, RbacAuthorizer, unionAuthorizer } from './rbac-authorizer.js';
import { RuleResolver } from './resolver.js';

export * from './bootstrap.js';
export * from './rules.js';
export { RbacAuthorizer, privilegedGroups, unionAuthorizer } from './rbac-authorizer.js';
export { RuleResolver } from './resolver.js';
export { RbacPolicyCache } from './policy-cache.js';

export type AuthorizationMode = 'RBAC' | 'AlwaysAllow';
export const AUTHORIZATION_MODES: readonly AuthorizationMode[] = ['RBAC', 'AlwaysAllow'];

/** `--authorization-mode` (comma-separated, as upstream); Node is not built yet and says so */
export function parseAuthorizationMode(flag: string | undefined): AuthorizationMode {
  const modes = (flag ?? 'RBAC')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
  if (modes.includes('Node'))
    throw new TypeError(
      '--authorization-mode: the Node authorizer is not built yet in kubemu; use RBAC (nodes are in system:masters until it is)',
    );
  for (const m of modes)
    if (!AUTHORIZATION_MODES.includes(m as AuthorizationMode))
      throw new TypeError(
        `--authorization-mode: unknown mode "${m}" (known: ${AUTHORIZATION_MODES.join(', ')})`,
      );
  if (modes.length !== 1) throw new TypeError('--authorization-mode: give one of RBAC or AlwaysAllow');
  return modes[0] as AuthorizationMode;
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
    this.chain = mode === 'RBAC' ? privilegedGroups('system:masters') : alwaysAllow;
    this.policyChecks =
      mode === 'RBAC'
        ? [rbacEscalationCheck({ authorizer: () => this.chain, resolver: () => this.resolver! })]
        : [];
  }

  get authorizer(): Authorizer {
    return this.chain;
  }

  async start(api: ApiHandler, log: Logger): Promise<void> {
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
      // the Node authorizer (system:nodes' reads of their own pods' objects) goes here when it is built
      new RbacAuthorizer(this.resolver),
    ]);
  }

  stop(): void {
    this.cache?.stop();
  }
}
