// A container's securityContext as upstream's kubelet applies it (pkg/kubelet/kuberuntime/security_context*.go and
// pkg/securitycontext): the container's fields over the pod's, runAsNonRoot checked before the container is made.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError } from './env.js';
import { isMapped, type IdMapping } from './runtime/id-map.js';

/** upstream's format.Pod: `name_namespace(uid)` */
const formatPod = (pod: Pod): string =>
  `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;

/** the effective runAsUser / runAsNonRoot: the container's, else the pod's (DetermineEffectiveSecurityContext) */
function effective(pod: Pod, c: Container): { runAsUser?: number; runAsNonRoot?: boolean } {
  const podCtx = pod.spec?.securityContext;
  const runAsUser = c.securityContext?.runAsUser ?? podCtx?.runAsUser;
  const runAsNonRoot = c.securityContext?.runAsNonRoot ?? podCtx?.runAsNonRoot;
  return {
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsNonRoot !== undefined ? { runAsNonRoot } : {}),
  };
}

/**
 * upstream's verifyRunAsNonRoot: with runAsNonRoot, a runAsUser of 0 or an image that runs as root (every built-in
 * image: they have no USER, so uid 0) is a CreateContainerConfigError with the kubelet's words.
 */
export function verifyRunAsNonRoot(pod: Pod, c: Container, imageUid = 0): void {
  const ctx = effective(pod, c);
  if (!ctx.runAsNonRoot) return;
  if (ctx.runAsUser !== undefined) {
    if (ctx.runAsUser === 0)
      throw new ContainerConfigError(
        `container's runAsUser breaks non-root policy (pod: ${JSON.stringify(formatPod(pod))}, container: ${c.name})`,
      );
    return;
  }
  if (imageUid === 0)
    throw new ContainerConfigError(
      `container has runAsNonRoot and image will run as root (pod: ${JSON.stringify(formatPod(pod))}, container: ${c.name})`,
    );
}

/** allowPrivilegeEscalation: false sets no_new_privs (upstream: only when it is set, and false) */
export const noNewPrivs = (c: Container): boolean => c.securityContext?.allowPrivilegeEscalation === false;

export const readOnlyRootFilesystem = (c: Container): boolean =>
  c.securityContext?.readOnlyRootFilesystem === true;

/**
 * The container's ids (runAsUser, runAsGroup, fsGroup, supplementalGroups) must exist in its user namespace: a
 * rootless kubelet without subordinate ids maps uid 0 only (id-map.ts), and a pod asking for another id is refused
 * here, with the reason, rather than run as somebody else or fail in setpriv.
 */
export function verifyIdsMapped(pod: Pod, c: Container, mapping: IdMapping): void {
  if (mapping.kind === 'host') return;
  const podCtx = pod.spec?.securityContext;
  const asked: [field: string, kind: 'uid' | 'gid', id: number | undefined][] = [
    ['runAsUser', 'uid', c.securityContext?.runAsUser ?? podCtx?.runAsUser],
    ['runAsGroup', 'gid', c.securityContext?.runAsGroup ?? podCtx?.runAsGroup],
    ['fsGroup', 'gid', podCtx?.fsGroup],
    ...(podCtx?.supplementalGroups ?? []).map(
      (g) => ['supplementalGroups', 'gid', g] as [string, 'gid', number],
    ),
  ];
  for (const [field, kind, id] of asked) {
    if (id === undefined || isMapped(mapping, kind, id)) continue;
    const ns =
      mapping.kind === 'single'
        ? mapping[kind] === 0
          ? `the kubelet runs as ${mapping.user}, and its containers' user namespace maps only ${kind} 0 (${mapping.why})`
          : `containers run only as the kubelet's ${kind} ${mapping[kind]} (${mapping.user}; ${mapping.why})`
        : `its containers' user namespace maps ${kind}s 0-${mapping.ids[kind].count} (0 is ${mapping.user}, ` +
          `1-${mapping.ids[kind].count} its subordinate ${kind}s ${mapping.ids[kind].start}-` +
          `${mapping.ids[kind].start + mapping.ids[kind].count - 1})`;
    throw new ContainerConfigError(
      `${field} ${id} is not mapped on this node: ${ns} (pod: ${JSON.stringify(formatPod(pod))}, container: ${c.name})`,
    );
  }
}
