// Native sidecars (Kubernetes 1.29+): init containers with restartPolicy Always run beside the main containers.
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';

/** An init container with restartPolicy Always: a sidecar, started in init order and kept running. */
export function isRestartableInitContainer(c: Container): boolean {
  return c.restartPolicy === 'Always';
}

export function hasRestartableInitContainer(spec: PodSpec | undefined): boolean {
  return (spec?.initContainers ?? []).some(isRestartableInitContainer);
}
