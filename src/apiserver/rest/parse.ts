// Turns an HTTP request line (method, path, query) into the parts of an ApiRequest, as upstream's
// RequestInfoFactory does: /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}, /apis/{g}/{v}/...
import { errors } from '../../api/errors.js';
import { decodeRequestQuery, validateDeleteOptions, type OptionsKind } from '../../api/query-params.js';
import type { PropagationPolicy, RequestOptions } from '../../api/request.js';
import { findResource, type Verb } from '../../api/resources.js';

export interface ResourcePath {
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** a `/watch/` legacy path */
  watchPath: boolean;
}

/** Returns undefined for paths that are not resource paths (discovery, /version, ...). */
export function parseResourcePath(pathname: string): ResourcePath | undefined {
  const segs = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api' && segs.length >= 3) {
    group = '';
    version = segs[1]!;
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 4) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, rest[2])?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length > 3) return undefined;
  const [resource, name, subresource] = rest;
  return {
    group,
    version,
    resource: resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
    watchPath,
  };
}

export function verbFor(method: string, path: ResourcePath, watch: boolean): Verb {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch || path.watchPath) return 'watch';
      return path.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return path.name ? 'delete' : 'deletecollection';
    default:
      throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
}

/** The options struct upstream's handler for this verb decodes its query into. */
function optionsKind(verb: Verb): OptionsKind {
  return verb === 'watch' ? 'list' : verb;
}

/**
 * Query parameters (and a DeleteOptions body) into RequestOptions, decoded as upstream's handler for the verb
 * decodes them (src/api/query-params.ts): a 400 with Go's error text on a malformed value.
 */
export function parseOptions(
  q: URLSearchParams,
  verb: Verb,
  deleteOptions?: Record<string, unknown>,
  patchType?: string,
): RequestOptions {
  const o: RequestOptions = decodeRequestQuery(q, optionsKind(verb), patchType).options;
  if (verb !== 'delete' && verb !== 'deletecollection') return o;
  let dryRun = q.getAll('dryRun');
  if (deleteOptions) {
    const d = deleteOptions as {
      propagationPolicy?: PropagationPolicy;
      orphanDependents?: boolean;
      gracePeriodSeconds?: number;
      preconditions?: { uid?: string; resourceVersion?: string };
      dryRun?: string[];
    };
    if (d.propagationPolicy) o.propagationPolicy = d.propagationPolicy;
    if (typeof d.orphanDependents === 'boolean') o.orphanDependents = d.orphanDependents;
    if (typeof d.gracePeriodSeconds === 'number') o.gracePeriodSeconds = d.gracePeriodSeconds;
    if (d.preconditions) o.preconditions = d.preconditions;
    if (Array.isArray(d.dryRun)) {
      dryRun = d.dryRun;
      if (d.dryRun.includes('All')) o.dryRun = true;
      else delete o.dryRun;
    }
  }
  validateDeleteOptions(o, dryRun);
  return o;
}
