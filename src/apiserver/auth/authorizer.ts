// The apiserver's authorizer: who may do what. The apiserver chains system:masters, the Node authorizer's slot
// and RBAC (./rbac/); upstream's AlwaysAllow mode is kept for --authorization-mode=AlwaysAllow. The review
// endpoints (`kubectl auth can-i`) answer from the same object as the request filter.
import type { UserInfo } from '../../api/request.js';

export interface ResourceAttributes {
  namespace?: string;
  verb?: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface NonResourceAttributes {
  path?: string;
  verb?: string;
}

export interface Decision {
  allowed: boolean;
  denied?: boolean;
  reason?: string;
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** SelfSubjectRulesReview's status */
export interface RulesReview {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}

export interface Authorizer {
  authorize(
    user: UserInfo,
    attrs: { resource?: ResourceAttributes; nonResource?: NonResourceAttributes },
  ): Decision;
  /** what `user` may do in `namespace` (SelfSubjectRulesReview) */
  rulesFor(user: UserInfo, namespace: string): RulesReview;
}

/** upstream's alwaysAllowAuthorizer: every request is allowed, with no reason given */
export const alwaysAllow: Authorizer = {
  authorize: () => ({ allowed: true }),
  rulesFor: () => ({
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  }),
};
