// Ephemeral containers (`kubectl debug`): upstream's validateEphemeralContainers (part of every PodSpec's validation)
// and ValidatePodEphemeralContainersUpdate (the pods/ephemeralcontainers subresource: containers may be added,
// never changed or removed).
import type { EphemeralContainer, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import { deepEqual, nameIsDNSSubdomain, validateObjectMetaUpdate } from './meta.js';
import { validateContainers, validatePod } from './pod.js';

/**
 * upstream's allowedEphemeralContainerFields: what an ephemeral container may set. Lifecycle, probes, resources
 * and ports make a container part of the workload, which an ephemeral one must never be.
 */
const FORBIDDEN_FIELDS = [
  'ports',
  'resources',
  'resizePolicy',
  'livenessProbe',
  'readinessProbe',
  'startupProbe',
  'lifecycle',
] as const;

const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

function isSet(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

/** the ephemeral containers of a PodSpec, appended to `errs` */
export function validateEphemeralContainers(
  spec: PodSpec,
  path: string,
  volumes: Set<string>,
  isPod: boolean,
  errs: FieldError[],
): void {
  const list = spec.ephemeralContainers ?? [];
  if (list.length === 0) return;
  const others = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c.name));
  // the common container rules (name, image, env, mounts…), names unique across every kind of container
  validateContainers(list, path, volumes, { isPod }, errs, others, false);
  list.forEach((ec: EphemeralContainer, i) => {
    const p = `${path}[${i}]`;
    if (ec.targetContainerName && !others.has(ec.targetContainerName))
      errs.push({
        type: 'FieldValueNotFound',
        field: `${p}.targetContainerName`,
        value: ec.targetContainerName,
      });
    const fields = ec as unknown as Record<string, unknown>;
    for (const f of FORBIDDEN_FIELDS)
      if (isSet(fields[f])) errs.push(fe.forbidden(`${p}.${f}`, 'cannot be set for an Ephemeral Container'));
    (ec.volumeMounts ?? []).forEach((m, j) => {
      if (m.subPath)
        errs.push(
          fe.forbidden(`${p}.volumeMounts[${j}].subPath`, 'cannot be set for an Ephemeral Container'),
        );
      if (m.subPathExpr)
        errs.push(
          fe.forbidden(`${p}.volumeMounts[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'),
        );
    });
  });
}

/** ValidatePodCreate: a pod is created without ephemeral containers (they are added through the subresource) */
export function validatePodCreate(pod: Pod): FieldError[] {
  const errs = validatePod(pod);
  if ((pod.spec?.ephemeralContainers?.length ?? 0) > 0)
    errs.push(fe.forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  return errs;
}

/** ValidatePodEphemeralContainersUpdate: the new pod valid, existing ephemeral containers untouched */
export function validatePodEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(pod.metadata, old.metadata, true, nameIsDNSSubdomain),
    ...validatePod(pod).filter((e) => !e.field.startsWith('metadata.')),
  ];
  if (old.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined)
    return [fe.forbidden('', 'static pods do not support ephemeral containers')];
  const path = 'spec.ephemeralContainers';
  const next = new Map((pod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const o of old.spec?.ephemeralContainers ?? []) {
    const n = next.get(o.name);
    if (!n) errs.push(fe.forbidden(path, `existing ephemeral containers "${o.name}" may not be removed\n`));
    else if (!deepEqual(o, n))
      errs.push(fe.forbidden(path, `existing ephemeral containers "${o.name}" may not be changed\n`));
  }
  return errs;
}
