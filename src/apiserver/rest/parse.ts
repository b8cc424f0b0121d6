// Turns an HTTP request line (method, path, query) into the parts of an ApiRequest, as upstream's
// RequestInfoFactory does: /api/v1/namespaces/{ns}/{resource}/{name}/{subresource}, /apis/{g}/{v}/...
import { errors } from '../../api/errors.js';
import type { FieldValidation, PropagationPolicy, RequestOptions } from '../../api/request.js';
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

function bool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  return v === '' || v === 'true' || v === '1';
}

function int(name: string, v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n))
    throw errors.badRequest(`invalid ${name}: ${v}: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return n;
}

const FIELD_VALIDATION: Record<string, FieldValidation> = {
  strict: 'Strict',
  warn: 'Warn',
  ignore: 'Ignore',
};

/** Query parameters (and a DeleteOptions body) into RequestOptions. */
export function parseOptions(q: URLSearchParams, deleteOptions?: Record<string, unknown>): RequestOptions {
  const o: RequestOptions = {};
  const set = <K extends keyof RequestOptions>(k: K, v: RequestOptions[K] | undefined): void => {
    if (v !== undefined) o[k] = v;
  };
  set('labelSelector', q.get('labelSelector') ?? undefined);
  set('fieldSelector', q.get('fieldSelector') ?? undefined);
  set('limit', int('limit', q.get('limit')));
  set('continue', q.get('continue') || undefined);
  set('resourceVersion', q.get('resourceVersion') ?? undefined);
  const rvm = q.get('resourceVersionMatch');
  if (rvm === 'Exact' || rvm === 'NotOlderThan') o.resourceVersionMatch = rvm;
  set('allowWatchBookmarks', bool(q.get('allowWatchBookmarks')));
  set('sendInitialEvents', bool(q.get('sendInitialEvents')));
  set('timeoutSeconds', int('timeoutSeconds', q.get('timeoutSeconds')));
  if (q.getAll('dryRun').includes('All')) o.dryRun = true;
  const fv = q.get('fieldValidation');
  if (fv !== null) {
    const mode = FIELD_VALIDATION[fv.toLowerCase()];
    if (!mode)
      throw errors.badRequest(`fieldValidation invalid value: ${fv}, must be one of Strict, Warn, Ignore`);
    o.fieldValidation = mode;
  }
  set('fieldManager', q.get('fieldManager') ?? undefined);
  set('force', bool(q.get('force')));
  const pp = q.get('propagationPolicy');
  if (pp !== null) o.propagationPolicy = pp as PropagationPolicy;
  set('orphanDependents', bool(q.get('orphanDependents')));
  set('gracePeriodSeconds', int('gracePeriodSeconds', q.get('gracePeriodSeconds')));
  set('container', q.get('container') ?? undefined);
  set('follow', bool(q.get('follow')));
  set('previous', bool(q.get('previous')));
  set('tailLines', int('tailLines', q.get('tailLines')));
  set('sinceSeconds', int('sinceSeconds', q.get('sinceSeconds')));
  set('timestamps', bool(q.get('timestamps')));
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
    if (d.dryRun?.includes('All')) o.dryRun = true;
  }
  if (o.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(o.propagationPolicy)) {
    throw errors.badRequest(
      `propagationPolicy: Unsupported value: "${o.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`,
    );
  }
  return o;
}
