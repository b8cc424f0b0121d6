// PodSecurity admission (k8s.io/pod-security-admission, built into the apiserver): the namespace labels
// pod-security.kubernetes.io/{enforce,warn,audit}[-version] pick a level per mode; enforce refuses pods that
// violate it, warn answers with a Warning header; workload templates get warnings only.
import { errors, fe, type FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import { deepEqual } from '../../util/objects.js';
import {
  evaluatePod,
  forbiddenDetail,
  forbiddenReason,
  type Level,
  type PodSpecLike,
} from './pod-security-checks.js';
import {
  admissionForbidden,
  type AdmissionAttributes,
  type AdmissionPlugin,
  type AdmissionStore,
} from './interface.js';

const PREFIX = 'pod-security.kubernetes.io/';
const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];
const VERSION_RE = /^v1\.([0-9]|[1-9][0-9]*)$/;

interface LevelVersion {
  level: Level;
  version: string;
}

export interface NamespacePolicy {
  enforce: LevelVersion;
  warn: LevelVersion;
  audit: LevelVersion;
}

const str = (lv: LevelVersion): string => `${lv.level}:${lv.version}`;
const strictness = (l: Level): number => LEVELS.indexOf(l);

/** api.PolicyToEvaluate: the policy the labels ask for, and field errors for labels that are not valid */
export function policyFromLabels(labels: Record<string, string> | undefined): {
  policy: NamespacePolicy;
  errs: FieldError[];
} {
  const policy: NamespacePolicy = {
    enforce: { level: 'privileged', version: 'latest' },
    warn: { level: 'privileged', version: 'latest' },
    audit: { level: 'privileged', version: 'latest' },
  };
  const errs: FieldError[] = [];
  const l = labels ?? {};
  const path = (k: string): string => `metadata.labels[${PREFIX}${k}]`;
  const level = (mode: 'enforce' | 'warn' | 'audit'): boolean => {
    const v = l[`${PREFIX}${mode}`];
    if (v === undefined) return false;
    if ((LEVELS as string[]).includes(v)) {
      policy[mode].level = v as Level;
      return true;
    }
    errs.push(fe.invalid(path(mode), v, `must be one of ${LEVELS.join(', ')}`));
    // fail closed for enforce, open for warn and audit
    policy[mode].level = mode === 'enforce' ? 'restricted' : 'privileged';
    return false;
  };
  const version = (mode: 'enforce' | 'warn' | 'audit'): boolean => {
    const v = l[`${PREFIX}${mode}-version`];
    if (v === undefined) return false;
    if (v === 'latest' || VERSION_RE.test(v)) policy[mode].version = v;
    else errs.push(fe.invalid(path(`${mode}-version`), v, 'must be "latest" or "v1.x"'));
    return true;
  };
  const hasEnforce = level('enforce');
  version('enforce');
  level('audit');
  version('audit');
  const hasWarnLevel = `${PREFIX}warn` in l;
  level('warn');
  const hasWarnVersion = version('warn');
  // warn defaults to a stricter enforce level
  if (!hasWarnLevel && hasEnforce && strictness(policy.enforce.level) > strictness(policy.warn.level)) {
    policy.warn.level = policy.enforce.level;
    if (!hasWarnVersion) policy.warn.version = policy.enforce.version;
  }
  return { policy, errs };
}

/** where a workload kind keeps its pod template (PodSpecExtractor) */
function podTemplate(
  obj: KubeObject,
  resource: string,
): { metadata?: KubeObject['metadata']; spec?: PodSpecLike } | undefined {
  const spec = obj['spec'] as Record<string, unknown> | undefined;
  if (resource === 'podtemplates') return obj['template'] as { spec?: PodSpecLike } | undefined;
  if (resource === 'cronjobs') {
    const job = spec?.['jobTemplate'] as { spec?: { template?: { spec?: PodSpecLike } } } | undefined;
    return job?.spec?.template;
  }
  return spec?.['template'] as { spec?: PodSpecLike } | undefined;
}

const IGNORED_POD_SUBRESOURCES = new Set([
  'exec',
  'attach',
  'binding',
  'eviction',
  'log',
  'portforward',
  'proxy',
  'status',
]);

const WORKLOADS = new Set([
  '/replicationcontrollers',
  '/podtemplates',
  'apps/deployments',
  'apps/replicasets',
  'apps/statefulsets',
  'apps/daemonsets',
  'batch/jobs',
  'batch/cronjobs',
]);

async function namespacePolicy(attrs: AdmissionAttributes, store: AdmissionStore): Promise<NamespacePolicy> {
  const ns = await store.get('', 'namespaces', '', attrs.namespace);
  return policyFromLabels(ns?.metadata?.labels).policy;
}

function validateNamespace(attrs: AdmissionAttributes): void {
  const ns = attrs.object;
  if (!ns || attrs.subresource) return;
  const { errs } = policyFromLabels(ns.metadata?.labels);
  if (!errs.length) return;
  if (attrs.operation === 'UPDATE') {
    const old = policyFromLabels(attrs.oldObject?.metadata?.labels).errs;
    if (old.length && deepEqual(old, errs)) return;
  }
  throw errors.invalid(
    { group: '', resource: 'namespaces', kind: 'Namespace', kindName: 'Namespace', name: attrs.name },
    errs,
  );
}

async function warnExistingPods(attrs: AdmissionAttributes, store: AdmissionStore): Promise<void> {
  if (attrs.operation !== 'UPDATE' || !attrs.object || !attrs.oldObject) return;
  const next = policyFromLabels(attrs.object.metadata?.labels).policy.enforce;
  const prev = policyFromLabels(attrs.oldObject.metadata?.labels).policy.enforce;
  if (str(next) === str(prev) || next.level === 'privileged') return;
  if (next.version === prev.version && strictness(next.level) <= strictness(prev.level)) return;
  const pods = await store.list('', 'pods', attrs.name);
  // one warning per distinct set of reasons, naming the first pod (by name) and how many others share it
  const byReason = new Map<string, { name: string; count: number }>();
  for (const pod of pods) {
    const results = evaluatePod(next.level, pod.metadata ?? {}, pod['spec'] ?? {}, next.version);
    if (!results.length) continue;
    const reason = forbiddenReason(results);
    const name = pod.metadata?.name ?? '';
    const c = byReason.get(reason);
    if (!c) byReason.set(reason, { name, count: 1 });
    else {
      c.count++;
      if (name < c.name) c.name = name;
    }
  }
  if (!byReason.size) return;
  attrs.warnings.push(
    `existing pods in namespace "${attrs.name}" violate the new PodSecurity enforce level "${str(next)}"`,
  );
  const podWarnings = [...byReason].map(([reason, { name, count }]) =>
    count === 1
      ? `${name}: ${reason}`
      : count === 2
        ? `${name} (and 1 other pod): ${reason}`
        : `${name} (and ${count - 1} other pods): ${reason}`,
  );
  attrs.warnings.push(...podWarnings.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
}

interface ContainerImage {
  name?: string;
  image?: string;
}
const SECCOMP_POD = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER = 'container.seccomp.security.alpha.kubernetes.io/';

/** upstream's isSignificantPodUpdate: the pod fields an update may change that the checks read */
export function isSignificantPodUpdate(pod: KubeObject, old: KubeObject): boolean {
  const ann = pod.metadata?.annotations ?? {};
  const oldAnn = old.metadata?.annotations ?? {};
  if (ann[SECCOMP_POD] !== oldAnn[SECCOMP_POD]) return true;
  const spec = (pod['spec'] ?? {}) as Record<string, ContainerImage[] | undefined>;
  const oldSpec = (old['spec'] ?? {}) as Record<string, ContainerImage[] | undefined>;
  const significant = (c: ContainerImage, o: ContainerImage): boolean =>
    c.image !== o.image || ann[SECCOMP_CONTAINER + c.name] !== oldAnn[SECCOMP_CONTAINER + c.name];
  for (const field of ['containers', 'initContainers']) {
    const now = spec[field] ?? [];
    const before = oldSpec[field] ?? [];
    if (now.length !== before.length) return true;
    if (now.some((c, i) => significant(c, before[i]))) return true;
  }
  for (const c of spec['ephemeralContainers'] ?? []) {
    const o = (oldSpec['ephemeralContainers'] ?? []).find((x) => x.name === c.name);
    if (!o || significant(c, o)) return true;
  }
  return false;
}

export const podSecurityPlugin: AdmissionPlugin = {
  name: 'PodSecurity',
  async validate(attrs, store) {
    if (attrs.operation === 'DELETE' || !attrs.object) return;
    if (attrs.resource.group === '' && attrs.resource.resource === 'namespaces') {
      validateNamespace(attrs);
      await warnExistingPods(attrs, store);
      return;
    }
    const isPod = attrs.resource.group === '' && attrs.resource.resource === 'pods';
    const isWorkload = WORKLOADS.has(`${attrs.resource.group}/${attrs.resource.resource}`);
    if (!isPod && !isWorkload) return;
    // upstream's ignoredPodSubresources; any other pod subresource (ephemeralcontainers, resize) is evaluated
    if (attrs.subresource && !(isPod && !IGNORED_POD_SUBRESOURCES.has(attrs.subresource))) return;
    let meta: KubeObject['metadata'];
    let spec: PodSpecLike | undefined;
    if (isPod) {
      meta = attrs.object.metadata;
      spec = attrs.object['spec'] as PodSpecLike | undefined;
      // upstream's isSignificantPodUpdate: only images, seccomp annotations and added ephemeral containers count
      if (
        attrs.operation === 'UPDATE' &&
        attrs.oldObject &&
        !isSignificantPodUpdate(attrs.object, attrs.oldObject)
      )
        return;
    } else {
      const template = podTemplate(attrs.object, attrs.resource.resource);
      if (!template) return;
      meta = template.metadata;
      spec = template.spec;
    }
    const policy = await namespacePolicy(attrs, store);
    const podMeta = { annotations: meta?.annotations ?? {} };
    const podSpec = spec ?? {};
    if (isPod) {
      const enforced = evaluatePod(policy.enforce.level, podMeta, podSpec, policy.enforce.version);
      if (enforced.length)
        throw admissionForbidden(
          attrs,
          `violates PodSecurity "${str(policy.enforce)}": ${forbiddenDetail(enforced)}`,
        );
    }
    const warned = evaluatePod(policy.warn.level, podMeta, podSpec, policy.warn.version);
    if (warned.length)
      attrs.warnings.push(`would violate PodSecurity "${str(policy.warn)}": ${forbiddenDetail(warned)}`);
  },
};
