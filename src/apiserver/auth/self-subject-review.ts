// The SelfSubjectReview response (`kubectl auth whoami`): the server's view of the caller.
import type { SelfSubjectReview } from 'kubernetes-types/authentication/v1.js';
import type { UserInfo } from '../../api/request.js';

/**
 * The body of `POST /apis/authentication.k8s.io/v1/selfsubjectreviews` for `user`, shaped as upstream's:
 * a fresh object (creationTimestamp null) whose status.userInfo omits empty fields.
 */
export function selfSubjectReview(user: UserInfo): SelfSubjectReview {
  const userInfo: NonNullable<NonNullable<SelfSubjectReview['status']>['userInfo']> = {
    username: user.username,
  };
  if (user.uid) userInfo.uid = user.uid;
  if (user.groups.length > 0) userInfo.groups = [...user.groups];
  return {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
    // upstream serialises the unset timestamp as null; the generated type says string
    metadata: { creationTimestamp: null as unknown as string },
    status: { userInfo },
  };
}
