// A container's environment as upstream's kubelet builds it: envFrom, env (with valueFrom and $(VAR)), service links.
import type { ConfigMap, Container, EnvVar, Pod, Secret, Service } from 'kubernetes-types/core/v1.js';
import { parseQuantity, quantityValue } from '../api/schema/quantity.js';
import { expand, mappingFuncFor } from './expansion.js';

/** A container cannot be configured (missing ConfigMap/Secret/key): upstream's CreateContainerConfigError. */
export class ContainerConfigError extends Error {
  readonly reason = 'CreateContainerConfigError';
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

export interface EnvSources {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Services the kubelet knows (all namespaces; filtered here as upstream does). */
  services: readonly Service[];
  /** The node's allocatable, for resourceFieldRef limits a container does not set. */
  nodeAllocatable: Record<string, string>;
}

export interface PodAddresses {
  podIP: string;
  hostIP: string;
}

const isServiceIPSet = (s: Service): boolean =>
  !!s.spec?.clusterIP && s.spec.clusterIP !== 'None' && (s.spec.ports?.length ?? 0) > 0;

const envName = (s: string): string => s.replace(/-/g, '_').toUpperCase();

/** `<SVC>_SERVICE_HOST/_PORT[_<NAME>]` and docker-link `<SVC>_PORT[_<port>_<PROTO>[_PROTO|_PORT|_ADDR]]`. */
export function serviceEnvVars(services: readonly Service[]): Map<string, string> {
  const env = new Map<string, string>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const ip = svc.spec!.clusterIP!;
    const ports = svc.spec!.ports!;
    const prefix = envName(svc.metadata?.name ?? '');
    env.set(`${prefix}_SERVICE_HOST`, ip);
    env.set(`${prefix}_SERVICE_PORT`, String(ports[0].port));
    for (const p of ports) if (p.name) env.set(`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port));
    ports.forEach((p, i) => {
      const proto = p.protocol ?? 'TCP';
      const hostPort = ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
      const url = `${proto.toLowerCase()}://${hostPort}`;
      if (i === 0) env.set(`${prefix}_PORT`, url);
      const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      env.set(pp, url);
      env.set(`${pp}_PROTO`, proto.toLowerCase());
      env.set(`${pp}_PORT`, String(p.port));
      env.set(`${pp}_ADDR`, ip);
    });
  }
  return env;
}

/** The services whose variables a pod gets: its namespace's (with enableServiceLinks) plus default/kubernetes. */
export function serviceEnvFor(pod: Pod, services: readonly Service[]): Map<string, string> {
  const ns = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  const chosen = new Map<string, Service>();
  for (const s of services) {
    if (!isServiceIPSet(s)) continue;
    const name = s.metadata?.name ?? '';
    if (s.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, s);
    } else if (s.metadata?.namespace === ns && links) chosen.set(name, s);
  }
  // Sorted, so the environment is the same on every start.
  return serviceEnvVars(
    [...chosen.values()].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!)),
  );
}

const ENV_NAME_RE = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function decodeSecret(secret: Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

function configMapData(cm: ConfigMap): Record<string, string> {
  const out: Record<string, string> = { ...cm.data };
  for (const [k, v] of Object.entries(cm.binaryData ?? {}))
    out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

/** `metadata.labels` as the downward API formats a whole map: sorted `key="value"` lines. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

/** The value of a downward-API fieldRef path, or an error message. */
export function fieldRefValue(pod: Pod, fieldPath: string, addrs: PodAddresses): string {
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(fieldPath);
  if (m) {
    const map = m[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[m[2]] ?? '';
  }
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return addrs.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return addrs.podIP;
    default:
      throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** resourceFieldRef: the container's request/limit (a limit defaults to the node's allocatable), ceil(value/divisor). */
export function resourceFieldValue(
  container: Container,
  resource: string,
  divisor: string | undefined,
  nodeAllocatable: Record<string, string>,
): string {
  const [kind, name] = resource.split(/\.(.*)/s) as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || !name)
    throw new ContainerConfigError(`unsupported container resource : ${resource}`);
  const set = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  let raw = set?.[name] as string | number | undefined;
  if (raw === undefined && kind === 'limits') raw = nodeAllocatable[name];
  const value = raw === undefined ? 0 : quantityValue(parseQuantity(String(raw))!);
  const div = quantityValue(parseQuantity(divisor ?? '1') ?? parseQuantity('1')!);
  return String(Math.ceil(value / (div || 1)));
}

/**
 * The container's env as upstream's makeEnvironmentVariables: envFrom first (prefix, invalid names skipped),
 * then env in order (values expanded against what came before and the service variables), then the service
 * variables the pod did not set itself.
 */
export async function makeEnvironment(
  pod: Pod,
  container: Container,
  addrs: PodAddresses,
  sources: EnvSources,
): Promise<Map<string, string>> {
  const ns = pod.metadata?.namespace ?? 'default';
  const serviceEnv = serviceEnvFor(pod, sources.services);
  const env = new Map<string, string>();
  const cmCache = new Map<string, ConfigMap | undefined>();
  const secretCache = new Map<string, Secret | undefined>();
  const getCm = async (name: string): Promise<ConfigMap | undefined> => {
    if (!cmCache.has(name)) cmCache.set(name, await sources.configMap(ns, name));
    return cmCache.get(name);
  };
  const getSecret = async (name: string): Promise<Secret | undefined> => {
    if (!secretCache.has(name)) secretCache.set(name, await sources.secret(ns, name));
    return secretCache.get(name);
  };

  for (const from of container.envFrom ?? []) {
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      const cm = await getCm(from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      data = configMapData(cm);
    } else if (from.secretRef) {
      const secret = await getSecret(from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      data = decodeSecret(secret);
    }
    for (const [k, v] of Object.entries(data ?? {})) {
      const name = `${from.prefix ?? ''}${k}`;
      if (ENV_NAME_RE.test(name)) env.set(name, v);
    }
  }

  for (const e of container.env ?? []) {
    const value = await envVarValue(e);
    if (value !== undefined) env.set(e.name, value);
  }

  async function envVarValue(e: EnvVar): Promise<string | undefined> {
    if (!e.valueFrom) return expand(e.value ?? '', mappingFuncFor(env, serviceEnv));
    const vf = e.valueFrom;
    if (vf.fieldRef) return fieldRefValue(pod, vf.fieldRef.fieldPath, addrs);
    if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName
        ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find(
            (c) => c.name === vf.resourceFieldRef!.containerName,
          )
        : container;
      if (!target) throw new ContainerConfigError(`container ${vf.resourceFieldRef.containerName} not found`);
      return resourceFieldValue(
        target,
        vf.resourceFieldRef.resource,
        vf.resourceFieldRef.divisor,
        sources.nodeAllocatable,
      );
    }
    if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = await getCm(ref.name ?? '');
      if (!cm) {
        if (ref.optional) return undefined;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      const v = configMapData(cm)[ref.key];
      if (v === undefined) {
        if (ref.optional) return undefined;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
      return v;
    }
    if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const secret = await getSecret(ref.name ?? '');
      if (!secret) {
        if (ref.optional) return undefined;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      const v = decodeSecret(secret)[ref.key];
      if (v === undefined) {
        if (ref.optional) return undefined;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      return v;
    }
    return undefined;
  }

  for (const [k, v] of serviceEnv) if (!env.has(k)) env.set(k, v);
  return env;
}

/** command and args with `$(VAR)` expanded against the container's final environment. */
export function expandCommandAndArgs(
  container: Container,
  env: ReadonlyMap<string, string>,
): { command?: string[]; args?: string[] } {
  const mapping = mappingFuncFor(env);
  return {
    ...(container.command ? { command: container.command.map((c) => expand(c, mapping)) } : {}),
    ...(container.args ? { args: container.args.map((a) => expand(a, mapping)) } : {}),
  };
}
