// The authorization step of every request, as upstream's WithImpersonation + WithAuthorization filters: the
// REST face (authorizeHttpRequest), the WebSocket face (authorizingHandler: each ApiRequest it carries) and
// upgraded connections (pods/exec, attach, portforward) all pass through it.
import type { IncomingMessage } from 'node:http';
import type { ApiHandler, ApiRequest, UserInfo } from '../../api/request.js';
import type { Authorizer } from './authorizer.js';
import { impersonate } from './impersonation.js';
import {
  authorizedName,
  forbiddenError,
  requestAttributes,
  type RequestAttributes,
} from './request-attributes.js';

/** Throws upstream's 403 unless `user` may do `attrs`. */
export function authorizeAttributes(authorizer: Authorizer, user: UserInfo, attrs: RequestAttributes): void {
  const d = authorizer.authorize(user, attrs);
  if (!d.allowed) throw forbiddenError(user, attrs, d.reason);
}

/** Impersonation, then authorization of the HTTP request; returns the user the request runs as. */
export function authorizeHttpRequest(
  authorizer: Authorizer,
  req: IncomingMessage,
  url: URL,
  user: UserInfo,
): UserInfo {
  const effective = impersonate(req, user, authorizer);
  authorizeAttributes(authorizer, effective, requestAttributes(req.method ?? 'GET', url));
  return effective;
}

function apiRequestAttributes(req: ApiRequest): RequestAttributes {
  // a list or watch of one object by field selector is that object's, as over HTTP
  const name = authorizedName(req.verb, req.name, req.options.fieldSelector);
  return {
    resource: {
      verb: req.verb,
      group: req.group,
      version: req.version,
      resource: req.resource,
      ...(req.subresource ? { subresource: req.subresource } : {}),
      ...(req.namespace !== undefined ? { namespace: req.namespace } : {}),
      ...(name !== undefined ? { name } : {}),
    },
  };
}

/** The registry as the WebSocket face sees it: each request authorized for its user first. */
export function authorizingHandler(api: ApiHandler, authorizer: () => Authorizer): ApiHandler {
  return {
    async handle(req) {
      authorizeAttributes(authorizer(), req.user, apiRequestAttributes(req));
      return api.handle(req);
    },
    async watch(req, sink) {
      authorizeAttributes(authorizer(), req.user, apiRequestAttributes({ ...req, verb: 'watch' }));
      return api.watch(req, sink);
    },
  };
}
