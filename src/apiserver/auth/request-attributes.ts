// What an HTTP request asks to do, in the authorizer's terms (upstream's RequestInfoFactory and
// authorizer.AttributesRecord), and upstream's 403 for a refusal (endpoints/handlers/responsewriters Forbidden).
import { ApiError } from '../../api/errors.js';
import { isWatchQuery } from '../../api/query-params.js';
import type { UserInfo } from '../../api/request.js';
import { parseResourcePath, type ResourcePath } from '../rest/parse.js';
import type { NonResourceAttributes, ResourceAttributes } from './authorizer.js';

export interface RequestAttributes {
  resource?: ResourceAttributes;
  nonResource?: NonResourceAttributes;
}

/** /api/v1/namespaces/ns/pods/name/proxy/any/path: the proxied path is no part of what is authorized */
function resourcePathOf(pathname: string): ResourcePath | undefined {
  const direct = parseResourcePath(pathname);
  if (direct) return direct;
  const segs = pathname.split('/');
  const proxy = segs.indexOf('proxy');
  return proxy > 0 ? parseResourcePath(segs.slice(0, proxy + 1).join('/')) : undefined;
}

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
};

/**
 * The object a list's or watch's field selector names exactly (`metadata.name=NAME` or `==`, alone or among other
 * terms), when NAME is a valid path segment: upstream's RequestInfoFactory then authorizes the request as that
 * object (`fields.Selector.RequiresExactMatch("metadata.name")`), which is how the Node authorizer lets a kubelet
 * watch the one ConfigMap or Secret its pod mounts. Values may escape `\`, `,` and `=` with a backslash.
 */
export function selectedName(fieldSelector: string | undefined): string | undefined {
  if (!fieldSelector) return undefined;
  for (const term of splitUnescaped(fieldSelector, ',')) {
    const m = /^\s*metadata\.name\s*==?(.*)$/.exec(term);
    if (!m) continue;
    const name = m[1].trim().replace(/\\(.)/g, '$1');
    return name !== '' && name !== '.' && name !== '..' && !/[/%]/.test(name) ? name : undefined;
  }
  return undefined;
}

/**
 * The name a request is authorized as: its own, or for a list or watch the object its field selector names (see
 * selectedName). Both faces, HTTP and the components' WebSocket, ask this.
 */
export function authorizedName(
  verb: string,
  name: string | undefined,
  fieldSelector: string | undefined,
): string | undefined {
  if (name !== undefined) return name;
  return verb === 'list' || verb === 'watch' ? selectedName(fieldSelector) : undefined;
}

function splitUnescaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** The resource or non-resource attributes of `method url`, as upstream's RequestInfo gives them. */
export function requestAttributes(method: string, url: URL): RequestAttributes {
  const path = resourcePathOf(url.pathname);
  if (!path) return { nonResource: { path: url.pathname, verb: method.toLowerCase() } };
  let verb: string;
  let name = path.name;
  if (method === 'GET' || method === 'HEAD') {
    verb = isWatchQuery(url.searchParams) || path.watchPath ? 'watch' : name ? 'get' : 'list';
  } else if (method === 'DELETE') verb = name ? 'delete' : 'deletecollection';
  else verb = METHOD_VERBS[method] ?? method.toLowerCase();
  // a list or watch of one object by field selector is authorized as that object, as upstream does
  name = authorizedName(verb, name, url.searchParams.get('fieldSelector') ?? undefined);
  let namespace = path.namespace;
  // GET /api/v1/namespaces/foo is namespace foo's own request
  if (path.group === '' && path.resource === 'namespaces' && path.name) namespace = path.name;
  return {
    resource: {
      verb,
      group: path.group,
      version: path.version,
      resource: path.resource,
      ...(path.subresource ? { subresource: path.subresource } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(name !== undefined ? { name } : {}),
    },
  };
}

/** forbiddenMessage: `User "x" cannot list resource "pods" in API group "" in the namespace "default"` */
export function forbiddenMessage(user: UserInfo, attrs: RequestAttributes): string {
  const who = JSON.stringify(user.username);
  const r = attrs.resource;
  if (!r)
    return `User ${who} cannot ${attrs.nonResource?.verb ?? ''} path ${JSON.stringify(attrs.nonResource?.path ?? '')}`;
  const resource = r.subresource ? `${r.resource ?? ''}/${r.subresource}` : (r.resource ?? '');
  const where = r.namespace ? `in the namespace ${JSON.stringify(r.namespace)}` : 'at the cluster scope';
  return `User ${who} cannot ${r.verb ?? ''} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(
    r.group ?? '',
  )} ${where}`;
}

/** responsewriters.Forbidden: apierrors.NewForbidden(group/resource, name, forbiddenMessage[: reason]) */
export function forbiddenError(user: UserInfo, attrs: RequestAttributes, reason?: string): ApiError {
  const msg = forbiddenMessage(user, attrs) + (reason ? `: ${reason}` : '');
  const r = attrs.resource;
  const group = r?.group ?? '';
  const resource = r?.resource ?? '';
  const name = r?.name ?? '';
  const qualified = resource ? (group ? `${resource}.${group}` : resource) : '';
  const message = !qualified
    ? `forbidden: ${msg}`
    : name
      ? `${qualified} ${JSON.stringify(name)} is forbidden: ${msg}`
      : `${qualified} is forbidden: ${msg}`;
  return new ApiError('Forbidden', message, {
    ...(name ? { name } : {}),
    ...(group ? { group } : {}),
    ...(resource ? { kind: resource } : {}),
  });
}
