// The apiserver's authorizer: who may do what. Today kubemu authorizes every authenticated request (upstream's
// AlwaysAllow mode); the review endpoints (`kubectl auth can-i`) answer from this one object, so they stay
// truthful when a stricter authorizer (RBAC) replaces it.
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

export interface Authorizer {
  authorize(
    user: UserInfo,
    attrs: { resource?: ResourceAttributes; nonResource?: NonResourceAttributes },
  ): Decision;
  /** what `user` may do in `namespace` (SelfSubjectRulesReview) */
  rulesFor(
    user: UserInfo,
    namespace: string,
  ): { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[]; incomplete: boolean };
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
