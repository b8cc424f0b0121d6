// upstream's rbac/bootstrap-roles post-start hook (pkg/registry/rbac/rest/storage_rbac.go): the default roles and
// bindings (api/upstream/rbac-bootstrap/, upstream's own test data of its bootstrap policy) are created on every
// start, and reconciled (pkg/registry/rbac/reconciliation) when they carry
// `rbac.authorization.kubernetes.io/autoupdate: "true"`: missing rules, subjects, labels and annotations are added,
// nothing is removed; a binding whose roleRef changed is recreated. A user who sets the annotation to "false"
// keeps their edits.
import { readFileSync } from 'node:fs';
import type { AggregationRule, PolicyRule, RoleRef, Subject } from 'kubernetes-types/rbac/v1.js';
import { ApiError } from '../../../api/errors.js';
import type { ApiHandler, ApiRequest, KubeObject, UserInfo } from '../../../api/request.js';
import type { Logger } from '../../../util/logger.js';
import { yaml } from '../../../util/lazy-yaml.js';
import { covers } from './rules.js';
import { KUBEMU_POLICY } from './kubemu-policy.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const POLICY_DIR = new URL('../../../../api/upstream/rbac-bootstrap/', import.meta.url);
const FILES = [
  ['cluster-roles.yaml', 'clusterroles'],
  // the system:controller:* roles of the controller-manager's per-controller ServiceAccounts
  ['controller-roles.yaml', 'clusterroles'],
  ['cluster-role-bindings.yaml', 'clusterrolebindings'],
  ['controller-role-bindings.yaml', 'clusterrolebindings'],
  ['namespace-roles.yaml', 'roles'],
  ['namespace-role-bindings.yaml', 'rolebindings'],
] as const;
const SYSTEM: UserInfo = { username: 'system:apiserver', groups: ['system:masters'] };

export interface BootstrapObject extends KubeObject {
  rules?: PolicyRule[] | null;
  aggregationRule?: AggregationRule;
  roleRef?: RoleRef;
  subjects?: Subject[];
}

/**
 * The build's JSON copy of the policy (`npm run build` writes it beside this module's output from the YAML files,
 * scripts/rbac-policy-json.mjs): parsing the YAML cost the apiserver some 100–300 ms of CPU at every start, before it
 * listens. Absent when running from the sources (tests), where the YAML is read.
 */
export const COMPILED_POLICY = new URL('bootstrap-policy.json', import.meta.url);

/** The bootstrap policy, in upstream's order: cluster roles, cluster role bindings, roles, role bindings. */
export function bootstrapPolicy(): { resource: string; object: BootstrapObject }[] {
  let text: string | undefined;
  try {
    text = readFileSync(COMPILED_POLICY, 'utf8');
  } catch {
    return policyFromYaml();
  }
  return JSON.parse(text) as { resource: string; object: BootstrapObject }[];
}

/** The policy as read from upstream's YAML files (what the build's JSON copy holds). */
export function policyFromYaml(): { resource: string; object: BootstrapObject }[] {
  const out: { resource: string; object: BootstrapObject }[] = [];
  for (const [file, resource] of FILES) {
    const list = yaml().parse(readFileSync(new URL(file, POLICY_DIR), 'utf8')) as {
      items: BootstrapObject[];
    };
    for (const item of list.items) {
      const object: BootstrapObject = { ...item, metadata: { ...item.metadata } };
      delete object.metadata!.creationTimestamp;
      out.push({ resource, object });
    }
  }
  for (const { resource, object } of KUBEMU_POLICY)
    if (!out.some((o) => o.resource === resource && o.object.metadata?.name === object.metadata?.name))
      out.push({ resource, object: { ...object, metadata: { ...object.metadata } } });
  return out;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The reconciled object, or undefined when `existing` needs no change. */
export function reconcile(
  resource: string,
  existing: BootstrapObject,
  expected: BootstrapObject,
): BootstrapObject | undefined {
  const next: BootstrapObject = structuredClone(existing);
  const meta = (next.metadata ??= {});
  meta.labels = { ...(expected.metadata?.labels ?? {}), ...(meta.labels ?? {}) };
  meta.annotations = { ...(expected.metadata?.annotations ?? {}), ...(meta.annotations ?? {}) };
  if (resource === 'clusterroles' || resource === 'roles') {
    const have = next.rules ?? [];
    // an aggregated role's rules are the aggregation controller's: only its selectors are reconciled
    if (expected.aggregationRule) {
      const selectors = [...(next.aggregationRule?.clusterRoleSelectors ?? [])];
      for (const s of expected.aggregationRule.clusterRoleSelectors ?? [])
        if (!selectors.some((x) => sameJson(x, s))) selectors.push(s);
      next.aggregationRule = { clusterRoleSelectors: selectors };
    } else if (covers(have, expected.rules ?? []).length > 0) {
      const missing = (expected.rules ?? []).filter((r) => covers(have, [r]).length > 0);
      next.rules = [...have, ...missing];
    }
  } else {
    const subjects = [...(next.subjects ?? [])];
    for (const s of expected.subjects ?? []) if (!subjects.some((x) => sameJson(x, s))) subjects.push(s);
    if (subjects.length) next.subjects = subjects;
  }
  return sameJson(next, existing) ? undefined : next;
}

/**
 * Creates or reconciles one bootstrap object; true when it wrote something. Another apiserver on the same etcd (an HA
 * control plane) may write it meanwhile: read it again and retry, as upstream's ensureRBACPolicy does (RetryOnConflict).
 */
async function ensureOne(
  api: ApiHandler,
  log: Logger,
  resource: string,
  object: BootstrapObject,
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureOnce(api, log, resource, object);
    } catch (e) {
      const raced = e instanceof ApiError && (e.reason === 'Conflict' || e.reason === 'AlreadyExists');
      if (!raced || attempt >= 5) throw e;
    }
  }
}

async function ensureOnce(
  api: ApiHandler,
  log: Logger,
  resource: string,
  object: BootstrapObject,
): Promise<boolean> {
  const namespace = object.metadata?.namespace;
  const base: Omit<ApiRequest, 'verb'> = {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    resource,
    ...(namespace ? { namespace } : {}),
    options: {},
    user: SYSTEM,
  };
  const name = object.metadata!.name!;
  let existing: BootstrapObject | undefined;
  try {
    existing = (await api.handle({ ...base, verb: 'get', name })).body as BootstrapObject;
  } catch (e) {
    if (!(e instanceof ApiError && e.reason === 'NotFound')) throw e;
  }
  const body = { ...object, ...(object.rules === null ? { rules: undefined } : {}) };
  if (!existing) {
    await api.handle({ ...base, verb: 'create', body });
    return true;
  }
  if (existing.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') return false;
  if (existing.roleRef && object.roleRef && !sameJson(existing.roleRef, object.roleRef)) {
    // roleRef is immutable: upstream deletes and recreates the binding
    await api.handle({ ...base, verb: 'delete', name });
    await api.handle({ ...base, verb: 'create', body });
    log.info({ resource, name }, 'recreated bootstrap binding with its roleRef');
    return true;
  }
  const next = reconcile(resource, existing, object);
  if (!next) return false;
  await api.handle({ ...base, verb: 'update', name, body: next });
  log.info({ resource, name }, 'reconciled bootstrap RBAC object');
  return true;
}

/**
 * Creates or reconciles every bootstrap object through `api` (the registry, as the system). All at once: the
 * storage commits concurrent writes together, so a first start costs a few commits, not one per object.
 */
export async function ensureBootstrapPolicy(api: ApiHandler, log: Logger): Promise<void> {
  await Promise.all(bootstrapPolicy().map(({ resource, object }) => ensureOne(api, log, resource, object)));
}
