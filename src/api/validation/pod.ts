// Pod and PodSpec validation (upstream pkg/apis/core/validation: ValidatePodSpec, ValidatePodUpdate, …).
import type {
  Container,
  ContainerPort,
  EnvVar,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import { validateEphemeralContainers } from './ephemeral-containers.js';
import { validateLocalDescendingPath } from './paths.js';
import { compareQuantities, isNegativeQuantity, parseQuantity } from '../schema/quantity.js';
import {
  deepEqual,
  nameIsDNSSubdomain,
  validateAnnotations,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidIP,
  isValidPortName,
  isValidPortNum,
} from './names.js';

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const TERMINATION_MESSAGE_POLICIES = ['File', 'FallbackToLogsOnError'];
const TOLERATION_OPERATORS = ['Equal', 'Exists'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const STANDARD_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage', 'storage']);

export interface PodSpecOptions {
  /** a Pod rather than a template (templates may carry whitespace images for webhooks to fill in) */
  isPod: boolean;
}

export function validatePod(pod: Pod): FieldError[] {
  return [
    ...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain),
    ...validatePodSpec(pod.spec, 'spec', { isPod: true }),
  ];
}

export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: string): FieldError[] {
  if (!template) return [fe.required(path)];
  // upstream's ValidatePodTemplateSpec names the template's labels and annotations `<path>.labels` and
  // `<path>.annotations` (fldPath.Child("labels")), not `<path>.metadata.labels`
  const errs = [
    ...validateLabels(template.metadata?.labels, `${path}.labels`),
    ...validateAnnotations(template.metadata?.annotations, `${path}.annotations`),
    ...validatePodSpec(template.spec, `${path}.spec`, { isPod: false }),
  ];
  if ((template.spec?.ephemeralContainers?.length ?? 0) > 0)
    errs.push(
      fe.forbidden(`${path}.spec.ephemeralContainers`, 'ephemeral containers not allowed in pod template'),
    );
  return errs;
}

const PREEMPTION_POLICIES = ['PreemptLowerPriority', 'Never'];

/** ValidatePreemptionPolicy (core validation): of a pod's spec and of a PriorityClass */
export function validatePreemptionPolicy(policy: string, path: string): FieldError[] {
  if (policy === '') return [fe.required(path, '')];
  if (!PREEMPTION_POLICIES.includes(policy)) return [fe.notSupported(path, policy, PREEMPTION_POLICIES)];
  return [];
}

export function validatePodSpec(spec: PodSpec | undefined, path: string, opts: PodSpecOptions): FieldError[] {
  const errs: FieldError[] = [];
  if (!spec) return [fe.required(path)];
  const volumes = validateVolumes(spec.volumes ?? [], `${path}.volumes`, errs);
  if (!spec.containers || spec.containers.length === 0) errs.push(fe.required(`${path}.containers`));
  else validateContainers(spec.containers, `${path}.containers`, volumes, opts, errs, new Set(), false);
  if (spec.initContainers) {
    const containerNames = new Set((spec.containers ?? []).map((c) => c.name));
    validateContainers(
      spec.initContainers,
      `${path}.initContainers`,
      volumes,
      opts,
      errs,
      containerNames,
      true,
    );
  }
  validateEphemeralContainers(spec, `${path}.ephemeralContainers`, volumes, opts.isPod, errs);
  oneOf(spec.restartPolicy, RESTART_POLICIES, `${path}.restartPolicy`, errs);
  oneOf(spec.dnsPolicy, DNS_POLICIES, `${path}.dnsPolicy`, errs);
  if (spec.dnsPolicy === 'None' && !spec.dnsConfig) {
    errs.push(fe.required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  for (const [field, value] of [
    ['serviceAccountName', spec.serviceAccountName],
    ['nodeName', spec.nodeName],
    ['priorityClassName', spec.priorityClassName],
  ] as const) {
    if (value) for (const m of isDNS1123Subdomain(value)) errs.push(fe.invalid(`${path}.${field}`, value, m));
  }
  for (const [field, value] of [
    ['hostname', spec.hostname],
    ['subdomain', spec.subdomain],
  ] as const) {
    if (value) for (const m of isDNS1123Label(value)) errs.push(fe.invalid(`${path}.${field}`, value, m));
  }
  if (spec.preemptionPolicy !== undefined)
    errs.push(...validatePreemptionPolicy(spec.preemptionPolicy, `${path}.preemptionPolicy`));
  if (spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds < 1) {
    errs.push(
      fe.invalid(
        `${path}.activeDeadlineSeconds`,
        spec.activeDeadlineSeconds,
        'must be between 1 and 2147483647, inclusive',
      ),
    );
  }
  (spec.tolerations ?? []).forEach((t, i) => validateToleration(t, `${path}.tolerations[${i}]`, errs));
  return errs;
}

function oneOf(value: string | undefined, supported: string[], path: string, errs: FieldError[]): void {
  if (!value) errs.push(fe.required(path));
  else if (!supported.includes(value)) errs.push(fe.notSupported(path, value, supported));
}

const VOLUME_SOURCES_EXCLUDED = new Set(['name']);

function validateVolumes(volumes: Volume[], path: string, errs: FieldError[]): Set<string> {
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const p = `${path}[${i}]`;
    if (!v.name) errs.push(fe.required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(v.name)) errs.push(fe.invalid(`${p}.name`, v.name, m));
      if (names.has(v.name)) errs.push(fe.duplicate(`${p}.name`, v.name));
      names.add(v.name);
    }
    const sources = Object.keys(v).filter(
      (k) => !VOLUME_SOURCES_EXCLUDED.has(k) && (v as unknown as Record<string, unknown>)[k] !== undefined,
    );
    if (sources.length === 0) errs.push(fe.required(p, 'must specify a volume type'));
    for (const extra of sources.slice(1))
      errs.push(fe.forbidden(`${p}.${extra}`, 'may not specify more than 1 volume type'));
    if (v.secret && !v.secret.secretName) errs.push(fe.required(`${p}.secret.secretName`));
    if (v.configMap && !v.configMap.name) errs.push(fe.required(`${p}.configMap.name`));
    if (v.hostPath && !v.hostPath.path) errs.push(fe.required(`${p}.hostPath.path`));
    if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName)
      errs.push(fe.required(`${p}.persistentVolumeClaim.claimName`));
    for (const [src, mode] of [
      ['secret', v.secret?.defaultMode],
      ['configMap', v.configMap?.defaultMode],
      ['downwardAPI', v.downwardAPI?.defaultMode],
      ['projected', v.projected?.defaultMode],
    ] as const) {
      if (mode !== undefined && (mode < 0 || mode > 0o777)) {
        errs.push(
          fe.invalid(
            `${p}.${src}.defaultMode`,
            mode,
            'must be a number between 0 and 0777 (octal), both inclusive',
          ),
        );
      }
    }
    if (v.emptyDir?.sizeLimit !== undefined && isNegativeQuantity(v.emptyDir.sizeLimit)) {
      errs.push(
        fe.invalid(`${p}.emptyDir.sizeLimit`, v.emptyDir.sizeLimit, 'must be greater than or equal to 0'),
      );
    }
  });
  return names;
}

export function validateContainers(
  containers: Container[],
  path: string,
  volumes: Set<string>,
  opts: PodSpecOptions,
  errs: FieldError[],
  takenNames: Set<string>,
  init: boolean,
): void {
  const names = new Set<string>(takenNames);
  containers.forEach((c, i) => {
    const p = `${path}[${i}]`;
    validateContainerRestartPolicy(c, p, init, errs);
    if (!c.name) errs.push(fe.required(`${p}.name`));
    else {
      for (const m of isDNS1123Label(c.name)) errs.push(fe.invalid(`${p}.name`, c.name, m));
      if (names.has(c.name)) errs.push(fe.duplicate(`${p}.name`, c.name));
      names.add(c.name);
    }
    const image = c.image ?? '';
    if (image.length === 0) errs.push(fe.required(`${p}.image`));
    // templates may carry " " as a token for webhooks to replace (upstream keeps that working)
    if (opts.isPod && image.length !== image.trim().length)
      errs.push(fe.invalid(`${p}.image`, image, 'must not have leading or trailing whitespace'));
    oneOf(c.imagePullPolicy, PULL_POLICIES, `${p}.imagePullPolicy`, errs);
    oneOf(c.terminationMessagePolicy, TERMINATION_MESSAGE_POLICIES, `${p}.terminationMessagePolicy`, errs);
    validateContainerPorts(c.ports ?? [], `${p}.ports`, errs);
    validateEnv(c.env ?? [], `${p}.env`, errs);
    const mountPaths = new Set<string>();
    (c.volumeMounts ?? []).forEach((m, j) => {
      const mp = `${p}.volumeMounts[${j}]`;
      if (!m.name) errs.push(fe.required(`${mp}.name`));
      else if (!volumes.has(m.name))
        errs.push({ type: 'FieldValueNotFound', field: `${mp}.name`, value: m.name });
      if (!m.mountPath) errs.push(fe.required(`${mp}.mountPath`));
      else if (mountPaths.has(m.mountPath))
        errs.push(fe.invalid(`${mp}.mountPath`, m.mountPath, 'must be unique'));
      if (m.mountPath) mountPaths.add(m.mountPath);
      if (m.subPath) errs.push(...validateLocalDescendingPath(m.subPath, `${mp}.subPath`));
      if (m.subPathExpr) {
        if (m.subPath)
          errs.push(
            fe.invalid(`${mp}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'),
          );
        errs.push(...validateLocalDescendingPath(m.subPathExpr, `${mp}.subPathExpr`));
      }
    });
    if (c.livenessProbe) {
      validateProbe(c.livenessProbe, `${p}.livenessProbe`, errs);
      if (c.livenessProbe.successThreshold !== undefined && c.livenessProbe.successThreshold !== 1) {
        errs.push(
          fe.invalid(`${p}.livenessProbe.successThreshold`, c.livenessProbe.successThreshold, 'must be 1'),
        );
      }
    }
    if (c.readinessProbe) validateProbe(c.readinessProbe, `${p}.readinessProbe`, errs);
    if (c.startupProbe) {
      validateProbe(c.startupProbe, `${p}.startupProbe`, errs);
      if (c.startupProbe.successThreshold !== undefined && c.startupProbe.successThreshold !== 1) {
        errs.push(
          fe.invalid(`${p}.startupProbe.successThreshold`, c.startupProbe.successThreshold, 'must be 1'),
        );
      }
    }
    if (c.resources) validateResources(c.resources, `${p}.resources`, errs);
  });
}

/**
 * upstream's rules for a container's own restartPolicy (native sidecars): only init containers may set it, only to
 * Always; init containers without it run to completion, so lifecycle hooks and probes make no sense on them.
 */
function validateContainerRestartPolicy(c: Container, p: string, init: boolean, errs: FieldError[]): void {
  if (!init) {
    if (c.restartPolicy !== undefined)
      errs.push(fe.forbidden(`${p}.restartPolicy`, 'may not be set for non-init containers'));
    return;
  }
  if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always')
    errs.push(fe.notSupported(`${p}.restartPolicy`, c.restartPolicy, ['Always']));
  if (c.restartPolicy === 'Always') return;
  for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe'] as const)
    if (c[field] !== undefined)
      errs.push(
        fe.forbidden(`${p}.${field}`, 'may not be set for init containers without restartPolicy=Always'),
      );
}

function validateContainerPorts(ports: ContainerPort[], path: string, errs: FieldError[]): void {
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = `${path}[${i}]`;
    if (port.name) {
      for (const m of isValidPortName(port.name)) errs.push(fe.invalid(`${p}.name`, port.name, m));
      if (names.has(port.name)) errs.push(fe.duplicate(`${p}.name`, port.name));
      names.add(port.name);
    }
    if (!port.containerPort) errs.push(fe.required(`${p}.containerPort`));
    else
      for (const m of isValidPortNum(port.containerPort))
        errs.push(fe.invalid(`${p}.containerPort`, port.containerPort, m));
    if (port.hostPort)
      for (const m of isValidPortNum(port.hostPort)) errs.push(fe.invalid(`${p}.hostPort`, port.hostPort, m));
    oneOf(port.protocol, PROTOCOLS, `${p}.protocol`, errs);
    if (port.hostIP)
      for (const m of isValidIP(port.hostIP)) errs.push(fe.invalid(`${p}.hostIP`, port.hostIP, m));
  });
}

function validateEnv(env: EnvVar[], path: string, errs: FieldError[]): void {
  env.forEach((e, i) => {
    const p = `${path}[${i}]`;
    if (!e.name) errs.push(fe.required(`${p}.name`));
    else for (const m of isEnvVarName(e.name)) errs.push(fe.invalid(`${p}.name`, e.name, m));
    if (e.valueFrom) {
      const sources = Object.values(e.valueFrom).filter((v) => v !== undefined).length;
      if (sources === 0)
        errs.push(
          fe.invalid(
            `${p}.valueFrom`,
            '',
            'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`',
          ),
        );
      else if (sources > 1)
        errs.push(fe.invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
      if (e.value)
        errs.push(fe.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      const fieldRef = e.valueFrom.fieldRef;
      if (fieldRef && !fieldRef.fieldPath) errs.push(fe.required(`${p}.valueFrom.fieldRef.fieldPath`));
      const cm = e.valueFrom.configMapKeyRef;
      if (cm && !cm.key) errs.push(fe.required(`${p}.valueFrom.configMapKeyRef.key`));
      const secret = e.valueFrom.secretKeyRef;
      if (secret && !secret.key) errs.push(fe.required(`${p}.valueFrom.secretKeyRef.key`));
    }
  });
}

/** a probe's or lifecycle handler's port: number in range, or an IANA_SVC_NAME */
export function validatePortNumOrName(
  port: number | string | undefined,
  path: string,
  errs: FieldError[],
): void {
  if (typeof port === 'number') for (const m of isValidPortNum(port)) errs.push(fe.invalid(path, port, m));
  else if (typeof port === 'string')
    for (const m of isValidPortName(port)) errs.push(fe.invalid(path, port, m));
  else errs.push(fe.required(path));
}

function validateProbe(probe: Probe, path: string, errs: FieldError[]): void {
  const handlers = (['exec', 'httpGet', 'tcpSocket', 'grpc'] as const).filter((h) => probe[h] !== undefined);
  if (handlers.length === 0) errs.push(fe.required(path, 'must specify a handler type'));
  for (const extra of handlers.slice(1))
    errs.push(fe.forbidden(`${path}.${extra}`, 'may not specify more than 1 handler type'));
  if (probe.exec && (!probe.exec.command || probe.exec.command.length === 0))
    errs.push(fe.required(`${path}.exec.command`));
  if (probe.httpGet) {
    validatePortNumOrName(probe.httpGet.port, `${path}.httpGet.port`, errs);
    const scheme = probe.httpGet.scheme;
    if (scheme !== undefined && scheme !== 'HTTP' && scheme !== 'HTTPS')
      errs.push(fe.notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']));
  }
  if (probe.tcpSocket) validatePortNumOrName(probe.tcpSocket.port, `${path}.tcpSocket.port`, errs);
  if (probe.grpc)
    for (const m of isValidPortNum(probe.grpc.port))
      errs.push(fe.invalid(`${path}.grpc.port`, probe.grpc.port, m));
  for (const f of [
    'initialDelaySeconds',
    'timeoutSeconds',
    'periodSeconds',
    'successThreshold',
    'failureThreshold',
  ] as const) {
    const v = probe[f];
    if (v !== undefined && v < 0)
      errs.push(fe.invalid(`${path}.${f}`, v, 'must be greater than or equal to 0'));
  }
  if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds <= 0) {
    errs.push(
      fe.invalid(
        `${path}.terminationGracePeriodSeconds`,
        probe.terminationGracePeriodSeconds,
        'must be greater than 0',
      ),
    );
  }
}

function validateResourceName(name: string, path: string, errs: FieldError[]): boolean {
  const problems = isQualifiedName(name);
  for (const m of problems) errs.push(fe.invalid(path, name, m));
  if (problems.length > 0) return false;
  if (!name.includes('/') && !STANDARD_RESOURCES.has(name) && !name.startsWith('hugepages-')) {
    errs.push(fe.invalid(path, name, 'must be a standard resource type or fully qualified'));
    return false;
  }
  return true;
}

/** upstream's ValidateResourceRequirements (container resources; also a RuntimeClass's overhead as limits) */
export function validateResources(r: ResourceRequirements, path: string, errs: FieldError[]): void {
  for (const kind of ['limits', 'requests'] as const) {
    for (const [name, q] of Object.entries(r[kind] ?? {})) {
      const p = `${path}.${kind}[${name}]`;
      if (!validateResourceName(name, p, errs)) continue;
      if (isNegativeQuantity(q)) errs.push(fe.invalid(p, q, 'must be greater than or equal to 0'));
      if (
        name.startsWith('hugepages-') ||
        name === 'ephemeral-storage' ||
        name === 'memory' ||
        name === 'cpu'
      ) {
        if (parseQuantity(q) === undefined) errs.push(fe.invalid(p, q, 'must be a valid quantity'));
      }
    }
  }
  for (const [name, request] of Object.entries(r.requests ?? {})) {
    const limit = r.limits?.[name];
    if (limit !== undefined && compareQuantities(request, limit) > 0) {
      errs.push(
        fe.invalid(
          `${path}.requests[${name}]`,
          request,
          `must be less than or equal to ${name} limit of ${limit}`,
        ),
      );
    }
  }
}

/** upstream's ValidateTolerations, one toleration */
export function validateToleration(t: Toleration, path: string, errs: FieldError[]): void {
  if (t.key) for (const m of isQualifiedName(t.key)) errs.push(fe.invalid(`${path}.key`, t.key, m));
  if (!t.key && t.operator !== 'Exists') {
    errs.push(
      fe.invalid(
        `${path}.operator`,
        t.operator ?? '',
        'operator must be Exists when `key` is empty, which means "match all values and all keys"',
      ),
    );
  }
  if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
    errs.push(
      fe.invalid(
        `${path}.effect`,
        t.effect ?? '',
        "effect must be 'NoExecute' when `tolerationSeconds` is set",
      ),
    );
  }
  if (t.operator !== undefined && t.operator !== '') {
    if (!TOLERATION_OPERATORS.includes(t.operator))
      errs.push(fe.notSupported(`${path}.operator`, t.operator, TOLERATION_OPERATORS));
    else if (t.operator === 'Exists' && t.value)
      errs.push(fe.invalid(`${path}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
  }
  if (t.effect && !TAINT_EFFECTS.includes(t.effect))
    errs.push(fe.notSupported(`${path}.effect`, t.effect, TAINT_EFFECTS));
}

const POD_UPDATE_FORBIDDEN =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate: a pod's spec is immutable but for images, activeDeadlineSeconds and added tolerations */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata, true, nameIsDNSSubdomain);
  const spec = pod.spec;
  const oldSpec = old.spec;
  if (!spec || !oldSpec) return errs;
  if ((spec.containers?.length ?? 0) !== (oldSpec.containers?.length ?? 0)) {
    errs.push(fe.forbidden('spec.containers', 'pod updates may not add or remove containers'));
    return errs;
  }
  spec.containers.forEach((c, i) => {
    if (!c.image) errs.push(fe.required(`spec.containers[${i}].image`));
  });
  const newDeadline = spec.activeDeadlineSeconds;
  const oldDeadline = oldSpec.activeDeadlineSeconds;
  if (newDeadline !== undefined) {
    if (newDeadline < 0)
      errs.push(
        fe.invalid('spec.activeDeadlineSeconds', newDeadline, 'must be between 0 and 2147483647, inclusive'),
      );
    else if (oldDeadline !== undefined && oldDeadline < newDeadline) {
      errs.push(
        fe.invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value'),
      );
    }
  } else if (oldDeadline !== undefined) {
    errs.push(
      fe.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value'),
    );
  }
  for (const [i, ot] of (oldSpec.tolerations ?? []).entries()) {
    const kept = (spec.tolerations ?? []).some((t) =>
      deepEqual({ ...t, tolerationSeconds: undefined }, { ...ot, tolerationSeconds: undefined }),
    );
    if (!kept)
      errs.push(
        fe.forbidden(
          `spec.tolerations[${i}]`,
          'existing toleration can not be modified except its tolerationSeconds',
        ),
      );
  }
  // compare the spec with the mutable fields taken from the old spec
  const munged: PodSpec = {
    ...spec,
    containers: spec.containers.map((c, i) => ({ ...c, image: oldSpec.containers[i]?.image ?? c.image })),
    activeDeadlineSeconds: oldSpec.activeDeadlineSeconds,
    tolerations: oldSpec.tolerations,
  };
  if (spec.initContainers) {
    munged.initContainers = spec.initContainers.map((c, i) => ({
      ...c,
      image: oldSpec.initContainers?.[i]?.image ?? c.image,
    }));
  }
  if ((oldSpec.terminationGracePeriodSeconds ?? 0) < 0 && spec.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  // scheduling gates may only be removed
  if (
    (spec.schedulingGates ?? []).every((g) => (oldSpec.schedulingGates ?? []).some((o) => o.name === g.name))
  ) {
    munged.schedulingGates = oldSpec.schedulingGates;
  }
  if (!deepEqual(munged, oldSpec)) errs.push(fe.forbidden('spec', POD_UPDATE_FORBIDDEN));
  return errs;
}

/** ValidatePodStatusUpdate: metadata rules, and addresses that parse */
export function validatePodStatusUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata, true, nameIsDNSSubdomain);
  const status = pod.status;
  if (!status) return errs;
  (status.podIPs ?? []).forEach((ip, i) => {
    for (const m of isValidIP(ip.ip ?? '')) errs.push(fe.invalid(`status.podIPs[${i}].ip`, ip.ip, m));
  });
  if (status.hostIP)
    for (const m of isValidIP(status.hostIP)) errs.push(fe.invalid('status.hostIP', status.hostIP, m));
  for (const list of ['containerStatuses', 'initContainerStatuses'] as const) {
    (status[list] ?? []).forEach((cs, i) => {
      if (cs.restartCount < 0)
        errs.push(
          fe.invalid(
            `status.${list}[${i}].restartCount`,
            cs.restartCount,
            'must be greater than or equal to 0',
          ),
        );
    });
  }
  return errs;
}
