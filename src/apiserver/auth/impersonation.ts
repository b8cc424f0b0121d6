// Impersonation (k8s.io/apiserver/pkg/endpoints/filters/impersonation.go): `kubectl --as USER --as-group G`
// sends Impersonate-User / Impersonate-Group / Impersonate-Uid / Impersonate-Extra-* headers; the caller must be
// allowed the `impersonate` verb on each users / groups / serviceaccounts / uids / userextras it names, and the
// request then runs as that user.
import type { IncomingMessage } from 'node:http';
import { errors } from '../../api/errors.js';
import type { UserInfo } from '../../api/request.js';
import type { Authorizer, ResourceAttributes } from './authorizer.js';
import { AUTHENTICATED_GROUP } from './authenticator.js';
import { forbiddenError } from './request-attributes.js';

export const ANONYMOUS_USER = 'system:anonymous';
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';
const SA_PREFIX = 'system:serviceaccount:';
const EXTRA_PREFIX = 'impersonate-extra-';

function values(req: IncomingMessage, name: string): string[] {
  const v = req.headersDistinct[name];
  return v ? v.map((s) => s.trim()).filter((s) => s !== '') : [];
}

/** whether the request carries any Impersonate-* header */
export function wantsImpersonation(req: IncomingMessage): boolean {
  for (const h of Object.keys(req.headers)) if (h.startsWith('impersonate-')) return true;
  return false;
}

/**
 * The user the request runs as: `requestor` itself when it impersonates no one, else the impersonated user once
 * every impersonation is authorized. Throws upstream's 400 for malformed headers and its 403 for a refusal.
 */
export function impersonate(req: IncomingMessage, requestor: UserInfo, authorizer: Authorizer): UserInfo {
  if (!wantsImpersonation(req)) return requestor;
  const users = values(req, 'impersonate-user');
  const groups = values(req, 'impersonate-group');
  const uids = values(req, 'impersonate-uid');
  const extras: [string, string][] = [];
  for (const h of Object.keys(req.headers))
    if (h.startsWith(EXTRA_PREFIX))
      for (const v of values(req, h)) extras.push([decodeURIComponent(h.slice(EXTRA_PREFIX.length)), v]);
  if (users.length === 0) {
    const asked = [
      ...groups.map((g) => `{Impersonate-Group ${g}}`),
      ...uids.map((u) => `{Impersonate-Uid ${u}}`),
      ...extras.map(([k, v]) => `{Impersonate-Extra-${k} ${v}}`),
    ];
    throw errors.badRequest(`requested [${asked.join(' ')}] without impersonating a user`);
  }
  if (users.length > 1) throw errors.badRequest('only one Impersonate-User header may be given');
  if (uids.length > 1) throw errors.badRequest('only one Impersonate-Uid header may be given');

  const check = (attrs: ResourceAttributes): void => {
    const a = { resource: { verb: 'impersonate', ...attrs } };
    const d = authorizer.authorize(requestor, a);
    if (!d.allowed) throw forbiddenError(requestor, a, d.reason);
  };
  const name = users[0];
  let username = name;
  let impersonatedGroups: string[] = [];
  if (name.startsWith(SA_PREFIX) && name.slice(SA_PREFIX.length).split(':').length === 2) {
    const [namespace, sa] = name.slice(SA_PREFIX.length).split(':');
    check({ group: '', version: 'v1', resource: 'serviceaccounts', namespace, name: sa });
    if (groups.length === 0)
      impersonatedGroups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`];
  } else {
    check({ group: '', version: 'v1', resource: 'users', name });
    username = name;
  }
  for (const g of groups) {
    check({ group: '', version: 'v1', resource: 'groups', name: g });
    impersonatedGroups.push(g);
  }
  for (const [key, value] of extras)
    check({
      group: 'authentication.k8s.io',
      version: 'v1',
      resource: 'userextras',
      subresource: key,
      name: value,
    });
  let uid: string | undefined;
  if (uids.length === 1) {
    check({ group: 'authentication.k8s.io', version: 'v1', resource: 'uids', name: uids[0] });
    uid = uids[0];
  }
  const always = username === ANONYMOUS_USER ? UNAUTHENTICATED_GROUP : AUTHENTICATED_GROUP;
  if (!impersonatedGroups.includes(always)) impersonatedGroups.push(always);
  return { username, groups: impersonatedGroups, ...(uid ? { uid } : {}) };
}
