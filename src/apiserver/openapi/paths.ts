// The operations kubemu serves, per group-version, from the resource table: one PathItem per URL with upstream's
// operationIds, parameters (dryRun/fieldManager/fieldValidation on writes: kubectl's query-param verifier looks for
// fieldValidation on PATCH), x-kubernetes-action and x-kubernetes-group-version-kind. Rendered to v3 and v2 elsewhere.
import { servedResources, type ResourceInfo, type Subresource } from '../../api/resources.js';
import { servedCustomResources } from '../customresources/served.js';
import { META_PACKAGE, packageDir } from './names.js';
import { components, type GroupVersionKind } from './schemas.js';

export interface Parameter {
  name: string;
  in: 'path' | 'query';
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
}

export interface Body {
  component: string;
  contentTypes: string[];
  required: boolean;
}

export interface Response {
  code: string;
  description: string;
  /** the component returned; undefined for `401 Unauthorized` */
  component?: string;
  /** a plain-text response (pod logs) */
  text?: boolean;
}

export type Action =
  | 'get'
  | 'list'
  | 'watch'
  | 'watchlist'
  | 'post'
  | 'put'
  | 'patch'
  | 'delete'
  | 'deletecollection'
  | 'connect';

export interface Operation {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete' | 'head' | 'options';
  operationId: string;
  description: string;
  action: Action;
  gvk: GroupVersionKind;
  parameters: Parameter[];
  body?: Body;
  responses: Response[];
  produces: string[];
}

export interface PathItem {
  path: string;
  parameters: Parameter[];
  operations: Operation[];
}

const q = (name: string, type: Parameter['type'], description: string): Parameter => ({
  name,
  in: 'query',
  type,
  description,
});

const P = {
  pretty: q(
    'pretty',
    'string',
    "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
  ),
  dryRun: q(
    'dryRun',
    'string',
    'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed',
  ),
  fieldManager: q(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.',
  ),
  fieldManagerPatch: q(
    'fieldManager',
    'string',
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).',
  ),
  fieldValidation: q(
    'fieldValidation',
    'string',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.',
  ),
  force: q(
    'force',
    'boolean',
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
  ),
  gracePeriodSeconds: q(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.',
  ),
  orphanDependents: q(
    'orphanDependents',
    'boolean',
    'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.',
  ),
  propagationPolicy: q(
    'propagationPolicy',
    'string',
    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
  ),
  allowWatchBookmarks: q(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.',
  ),
  continue: q(
    'continue',
    'string',
    'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.',
  ),
  fieldSelector: q(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields. Defaults to everything.',
  ),
  labelSelector: q(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels. Defaults to everything.',
  ),
  limit: q(
    'limit',
    'integer',
    'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.',
  ),
  resourceVersion: q(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset',
  ),
  resourceVersionMatch: q(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset',
  ),
  sendInitialEvents: q(
    'sendInitialEvents',
    'boolean',
    '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection.',
  ),
  timeoutSeconds: q(
    'timeoutSeconds',
    'integer',
    'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.',
  ),
  watch: q(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.',
  ),
  namespace: {
    name: 'namespace',
    in: 'path',
    type: 'string',
    required: true,
    description: 'object name and auth scope, such as for teams and projects',
  } satisfies Parameter,
  name: (kind: string): Parameter => ({
    name: 'name',
    in: 'path',
    type: 'string',
    required: true,
    description: `name of the ${kind}`,
  }),
};

const LIST_PARAMS: Parameter[] = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const LOG_PARAMS: Parameter[] = [
  q(
    'container',
    'string',
    'The container for which to stream logs. Defaults to only container if there is one container in the pod.',
  ),
  q('follow', 'boolean', 'Follow the log stream of the pod. Defaults to false.'),
  q(
    'insecureSkipTLSVerifyBackend',
    'boolean',
    'insecureSkipTLSVerifyBackend indicates that the apiserver should not confirm the validity of the serving certificate of the backend it is connecting to.',
  ),
  q(
    'limitBytes',
    'integer',
    'If set, the number of bytes to read from the server before terminating the log output.',
  ),
  q('previous', 'boolean', 'Return previous terminated container logs. Defaults to false.'),
  q('sinceSeconds', 'integer', 'A relative time in seconds before the current time from which to show logs.'),
  q('tailLines', 'integer', 'If set, the number of lines from the end of the logs to show.'),
  q(
    'timestamps',
    'boolean',
    'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.',
  ),
];

/** the query parameters of the streaming subresources (connect actions), as upstream documents them */
const CONNECT_PARAMS: Record<string, Parameter[]> = {
  PodExecOptions: [
    q(
      'command',
      'string',
      'Command is the remote command to execute. argv array. Not executed within a shell.',
    ),
    q(
      'container',
      'string',
      'Container in which to execute the command. Defaults to only container if there is only one container in the pod.',
    ),
    q('stderr', 'boolean', 'Redirect the standard error stream of the pod for this call.'),
    q('stdin', 'boolean', 'Redirect the standard input stream of the pod for this call. Defaults to false.'),
    q('stdout', 'boolean', 'Redirect the standard output stream of the pod for this call.'),
    q(
      'tty',
      'boolean',
      'TTY if true indicates that a tty will be allocated for the exec call. Defaults to false.',
    ),
  ],
  PodAttachOptions: [
    q(
      'container',
      'string',
      'The container in which to execute the command. Defaults to only container if there is only one container in the pod.',
    ),
    q(
      'stderr',
      'boolean',
      'Stderr if true indicates that stderr is to be redirected for the attach call. Defaults to true.',
    ),
    q(
      'stdin',
      'boolean',
      'Stdin if true, redirects the standard input stream of the pod for this call. Defaults to false.',
    ),
    q(
      'stdout',
      'boolean',
      'Stdout if true indicates that stdout is to be redirected for the attach call. Defaults to true.',
    ),
    q(
      'tty',
      'boolean',
      'TTY if true indicates that a tty will be allocated for the attach call. This is passed through the container runtime so the tty is allocated on the worker node by the container runtime. Defaults to false.',
    ),
  ],
  PodPortForwardOptions: [q('ports', 'integer', 'List of ports to forward Required when using WebSockets')],
};

const JSON_TYPES = ['application/json', 'application/yaml'];
const WATCH_TYPES = ['application/json', 'application/yaml', 'application/json;stream=watch'];
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];
/** custom resources take no strategic merge patch: kubectl reads this list to choose its patch type */
const CUSTOM_PATCH_TYPES = PATCH_TYPES.filter((t) => t !== 'application/strategic-merge-patch+json');
const STATUS = `${META_PACKAGE}.Status`;
const UNAUTHORIZED: Response = { code: '401', description: 'Unauthorized' };

const ok = (component: string): Response => ({ code: '200', description: 'OK', component });
const created = (component: string): Response => ({ code: '201', description: 'Created', component });
const accepted = (component: string): Response => ({ code: '202', description: 'Accepted', component });

/** `apps` → Apps, `networking.k8s.io` → Networking, core → Core; then the version: AppsV1 */
function groupVersionWord(group: string, version: string): string {
  const word = packageDir(group)
    .split(/[.-]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return `${word}${version.charAt(0).toUpperCase()}${version.slice(1)}`;
}

/** upstream's tag: `apps_v1`, `core_v1`, `networking_v1` */
export function tagOf(group: string, version: string): string {
  return `${packageDir(group).replace(/[.-]/g, '_')}_${version}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function resourcePaths(ri: ResourceInfo, version: string): PathItem[] {
  const comps = components();
  const gvk: GroupVersionKind = { group: ri.group, version, kind: ri.kind };
  const kindComponent = comps.componentOf(gvk);
  const listComponent = comps.componentOf({ ...gvk, kind: `${ri.kind}List` });
  const gvWord = groupVersionWord(ri.group, version);
  const root = ri.group ? `/apis/${ri.group}/${version}` : `/api/${version}`;
  const ns = ri.namespaced ? 'Namespaced' : '';
  const nsPrefix = ri.namespaced ? `${root}/namespaces/{namespace}` : root;
  const scopeParams = ri.namespaced ? [P.namespace] : [];
  const has = (verb: string) => (ri.verbs as string[]).includes(verb);
  const items: PathItem[] = [];
  const op = (
    o: Omit<Operation, 'gvk' | 'parameters'> & Partial<Pick<Operation, 'gvk' | 'parameters'>>,
  ): Operation => ({
    gvk,
    parameters: [],
    ...o,
  });
  const writeParams = [P.dryRun, P.fieldManager, P.fieldValidation];
  const patchParams = [P.dryRun, P.fieldManagerPatch, P.fieldValidation, P.force];
  const deleteParams = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];
  const deleteBody: Body = {
    component: `${META_PACKAGE}.DeleteOptions`,
    contentTypes: ['*/*'],
    required: false,
  };

  // the collection
  const collection: PathItem = {
    path: `${nsPrefix}/${ri.resource}`,
    parameters: [...scopeParams, P.pretty],
    operations: [],
  };
  if (has('list')) {
    collection.operations.push(
      op({
        method: 'get',
        operationId: `list${gvWord}${ns}${ri.kind}`,
        description: `list or watch objects of kind ${ri.kind}`,
        action: 'list',
        parameters: LIST_PARAMS,
        responses: [ok(listComponent), UNAUTHORIZED],
        produces: WATCH_TYPES,
      }),
    );
  }
  if (has('create')) {
    collection.operations.push(
      op({
        method: 'post',
        operationId: `create${gvWord}${ns}${ri.kind}`,
        description: `create ${/^[AEIOU]/.test(ri.kind) ? 'an' : 'a'} ${ri.kind}`,
        action: 'post',
        parameters: writeParams,
        body: { component: kindComponent, contentTypes: ['*/*'], required: true },
        responses: [ok(kindComponent), created(kindComponent), accepted(kindComponent), UNAUTHORIZED],
        produces: JSON_TYPES,
      }),
    );
  }
  if (has('deletecollection')) {
    collection.operations.push(
      op({
        method: 'delete',
        operationId: `delete${gvWord}Collection${ns}${ri.kind}`,
        description: `delete collection of ${ri.kind}`,
        action: 'deletecollection',
        parameters: [
          ...deleteParams,
          ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks'),
        ],
        body: deleteBody,
        responses: [ok(STATUS), UNAUTHORIZED],
        produces: JSON_TYPES,
      }),
    );
  }
  if (collection.operations.length) items.push(collection);

  // across namespaces
  if (ri.namespaced && has('list')) {
    items.push({
      path: `${root}/${ri.resource}`,
      parameters: [...LIST_PARAMS, P.pretty],
      operations: [
        op({
          method: 'get',
          operationId: `list${gvWord}${ri.kind}ForAllNamespaces`,
          description: `list or watch objects of kind ${ri.kind}`,
          action: 'list',
          responses: [ok(listComponent), UNAUTHORIZED],
          produces: WATCH_TYPES,
        }),
      ],
    });
  }

  // one object
  const itemPath = `${nsPrefix}/${ri.resource}/{name}`;
  const item: PathItem = {
    path: itemPath,
    parameters: [P.name(ri.kind), ...scopeParams, P.pretty],
    operations: [],
  };
  const itemOps = (
    sub: string,
    component: string,
    subGvk: GroupVersionKind,
    verbs: readonly string[],
  ): Operation[] => {
    const word = capitalize(sub);
    const what = sub ? `${sub} of the specified ${ri.kind}` : `the specified ${ri.kind}`;
    const ops: Operation[] = [];
    if (verbs.includes('get')) {
      ops.push(
        op({
          method: 'get',
          operationId: `read${gvWord}${ns}${ri.kind}${word}`,
          description: `read ${what}`,
          action: 'get',
          gvk: subGvk,
          responses: [ok(component), UNAUTHORIZED],
          produces: JSON_TYPES,
        }),
      );
    }
    if (verbs.includes('update')) {
      ops.push(
        op({
          method: 'put',
          operationId: `replace${gvWord}${ns}${ri.kind}${word}`,
          description: `replace ${what}`,
          action: 'put',
          gvk: subGvk,
          parameters: writeParams,
          body: { component, contentTypes: ['*/*'], required: true },
          responses: [ok(component), created(component), UNAUTHORIZED],
          produces: JSON_TYPES,
        }),
      );
    }
    if (verbs.includes('patch')) {
      ops.push(
        op({
          method: 'patch',
          operationId: `patch${gvWord}${ns}${ri.kind}${word}`,
          description: `partially update ${what}`,
          action: 'patch',
          gvk: subGvk,
          parameters: patchParams,
          body: {
            component: `${META_PACKAGE}.Patch`,
            contentTypes: servedCustomResources.find(ri.group, ri.resource)
              ? CUSTOM_PATCH_TYPES
              : PATCH_TYPES,
            required: true,
          },
          responses: [ok(component), created(component), UNAUTHORIZED],
          produces: JSON_TYPES,
        }),
      );
    }
    return ops;
  };
  item.operations.push(...itemOps('', kindComponent, gvk, ri.verbs));
  if (has('delete')) {
    item.operations.push(
      op({
        method: 'delete',
        operationId: `delete${gvWord}${ns}${ri.kind}`,
        description: `delete ${/^[AEIOU]/.test(ri.kind) ? 'an' : 'a'} ${ri.kind}`,
        action: 'delete',
        parameters: deleteParams,
        body: deleteBody,
        responses: [ok(kindComponent), accepted(kindComponent), UNAUTHORIZED],
        produces: JSON_TYPES,
      }),
    );
  }
  if (item.operations.length) items.push(item);

  for (const sub of ri.subresources) {
    const ctx = { itemPath, item, gvWord, ns, itemOps };
    if (PROXY_KINDS.has(sub.kind)) items.push(...proxyPaths(ri, version, sub, ctx));
    else items.push(subresourcePath(ri, version, sub, ctx));
  }

  // the deprecated watch paths kubectl no longer uses, kept because upstream documents them
  if (has('watch')) {
    const watchRoot = `${root}/watch`;
    const watchNs = ri.namespaced ? `${watchRoot}/namespaces/{namespace}` : watchRoot;
    const watchEvent = `${META_PACKAGE}.WatchEvent`;
    const watchOp = (operationId: string, action: Action, description: string): Operation =>
      op({
        method: 'get',
        operationId,
        description,
        action,
        responses: [ok(watchEvent), UNAUTHORIZED],
        produces: WATCH_TYPES,
      });
    items.push({
      path: `${watchNs}/${ri.resource}`,
      parameters: [...LIST_PARAMS, ...scopeParams, P.pretty],
      operations: [
        watchOp(
          `watch${gvWord}${ns}${ri.kind}List`,
          'watchlist',
          `watch individual changes to a list of ${ri.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        ),
      ],
    });
    items.push({
      path: `${watchNs}/${ri.resource}/{name}`,
      parameters: [...LIST_PARAMS, P.name(ri.kind), ...scopeParams, P.pretty],
      operations: [
        watchOp(
          `watch${gvWord}${ns}${ri.kind}`,
          'watch',
          `watch changes to an object of kind ${ri.kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        ),
      ],
    });
    if (ri.namespaced) {
      items.push({
        path: `${watchRoot}/${ri.resource}`,
        parameters: [...LIST_PARAMS, P.pretty],
        operations: [
          watchOp(
            `watch${gvWord}${ri.kind}ListForAllNamespaces`,
            'watchlist',
            `watch individual changes to a list of ${ri.kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
          ),
        ],
      });
    }
  }
  return items;
}

interface ItemContext {
  itemPath: string;
  item: PathItem;
  gvWord: string;
  ns: string;
  itemOps(sub: string, component: string, gvk: GroupVersionKind, verbs: readonly string[]): Operation[];
}

const PROXY_KINDS = new Set(['PodProxyOptions', 'ServiceProxyOptions', 'NodeProxyOptions']);
const PROXY_PATH_DOC: Record<string, string> = {
  Pod: 'Path is the URL path to use for the current proxy request to pod.',
  Node: 'Path is the URL path to use for the current proxy request to node.',
  Service:
    'Path is the part of URLs that include service endpoints, suffixes, and parameters to use for the current proxy request to service. For example, the whole request URL is http://localhost/api/v1/namespaces/kube-system/services/elasticsearch-logging/_search?q=user:kimchy. Path is _search?q=user:kimchy.',
};
const PROXY_METHODS = ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'] as const;

/**
 * pods/proxy, services/proxy: any HTTP method relayed, to the object's root (`…/proxy`, the path in the query) or to
 * a path below it (`…/proxy/{path}`), documented as upstream's connect operations.
 */
function proxyPaths(ri: ResourceInfo, version: string, sub: Subresource, ctx: ItemContext): PathItem[] {
  const pathQuery = q('path', 'string', PROXY_PATH_DOC[ri.kind] ?? PROXY_PATH_DOC['Pod']);
  const base = ctx.item.parameters
    .filter((p) => p.name !== 'pretty')
    .map((p) => (p.name === 'name' ? P.name(sub.kind) : p));
  const gvk = { group: ri.group, version, kind: sub.kind };
  const item = (suffix: string, parameters: Parameter[], idSuffix: string): PathItem => ({
    path: `${ctx.itemPath}/${sub.name}${suffix}`,
    parameters,
    operations: PROXY_METHODS.map((method) => ({
      method,
      operationId: `connect${ctx.gvWord}${capitalize(method)}${ctx.ns}${ri.kind}Proxy${idSuffix}`,
      description: `connect ${method.toUpperCase()} requests to proxy of ${ri.kind}`,
      action: 'connect' as const,
      gvk,
      parameters: [],
      responses: [{ code: '200', description: 'OK', text: true }, UNAUTHORIZED],
      produces: ['*/*'],
    })),
  });
  const pathParam: Parameter = {
    name: 'path',
    in: 'path',
    type: 'string',
    required: true,
    description: 'path to the resource',
  };
  return [item('', [...base, pathQuery], ''), item('/{path}', [...base, pathParam, pathQuery], 'WithPath')];
}

function subresourcePath(ri: ResourceInfo, version: string, sub: Subresource, ctx: ItemContext): PathItem {
  const comps = components();
  const path: PathItem = {
    path: `${ctx.itemPath}/${sub.name}`,
    parameters: ctx.item.parameters,
    operations: [],
  };
  const subGvk: GroupVersionKind =
    sub.kind && sub.kind !== ri.kind
      ? { group: sub.group ?? ri.group, version: sub.version ?? version, kind: sub.kind }
      : { group: ri.group, version, kind: ri.kind };
  const connectParams = CONNECT_PARAMS[sub.kind];
  if (connectParams) {
    // exec, attach, portforward: upgraded connections, GET and POST alike
    path.parameters = [...connectParams, ...ctx.item.parameters.filter((p) => p.name !== 'pretty')];
    for (const method of ['get', 'post'] as const)
      path.operations.push({
        method,
        operationId: `connect${ctx.gvWord}${capitalize(method)}${ctx.ns}${ri.kind}${capitalize(sub.name)}`,
        description: `connect ${method.toUpperCase()} requests to ${sub.name} of ${ri.kind}`,
        action: 'connect',
        gvk: subGvk,
        parameters: [],
        responses: [{ code: '200', description: 'OK', text: true }, UNAUTHORIZED],
        produces: ['*/*'],
      });
    return path;
  }
  const component = comps.componentOf(subGvk);
  const word = capitalize(sub.name);
  if (sub.name === 'log') {
    path.parameters = [...LOG_PARAMS, ...ctx.item.parameters];
    path.operations.push({
      method: 'get',
      operationId: `read${ctx.gvWord}${ctx.ns}${ri.kind}Log`,
      description: `read log of the specified ${ri.kind}`,
      action: 'get',
      gvk: { group: ri.group, version, kind: ri.kind },
      parameters: [],
      responses: [{ code: '200', description: 'OK', text: true }, UNAUTHORIZED],
      produces: ['text/plain', 'application/json', 'application/yaml'],
    });
    return path;
  }
  if (sub.verbs.includes('create')) {
    // binding, eviction: POST a different kind to the object
    path.operations.push({
      method: 'post',
      operationId: `create${ctx.gvWord}${ctx.ns}${ri.kind}${word}`,
      description: `create ${sub.name} of ${/^[AEIOU]/.test(ri.kind) ? 'an' : 'a'} ${ri.kind}`,
      action: 'post',
      gvk: subGvk,
      parameters: [P.dryRun, P.fieldManager, P.fieldValidation],
      body: { component, contentTypes: ['*/*'], required: true },
      responses: [ok(component), created(component), accepted(component), UNAUTHORIZED],
      produces: JSON_TYPES,
    });
  }
  path.operations.push(...ctx.itemOps(sub.name, component, subGvk, sub.verbs));
  return path;
}

/** `api/v1`, `apis/apps/v1`: the keys of /openapi/v3 */
export function servedGroupVersionPaths(): string[] {
  const gvs: string[] = [];
  for (const ri of servedResources()) {
    for (const version of ri.versions) {
      const key = ri.group ? `apis/${ri.group}/${version}` : `api/${version}`;
      if (!gvs.includes(key)) gvs.push(key);
    }
  }
  return gvs;
}

/** every path of one group-version (`apis/apps/v1`), or of all of them */
export function pathItems(gvPath?: string): PathItem[] {
  const items: PathItem[] = [];
  for (const ri of servedResources()) {
    for (const version of ri.versions) {
      const key = ri.group ? `apis/${ri.group}/${version}` : `api/${version}`;
      if (gvPath === undefined || key === gvPath) items.push(...resourcePaths(ri, version));
    }
  }
  return items.sort((a, b) => a.path.localeCompare(b.path));
}
