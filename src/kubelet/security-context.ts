// A container's securityContext as upstream's kubelet applies it (pkg/kubelet/kuberuntime/security_context*.go and
// pkg/securitycontext): the container's fields over the pod's, runAsNonRoot checked before the container is made.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError } from './env.js';

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
