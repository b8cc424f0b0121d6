// ServiceAccount admission (plugin/pkg/admission/serviceaccount): a pod without serviceAccountName runs as
// `default`, and a pod is refused while its ServiceAccount does not exist. The `default` ServiceAccount is
// created by the controller-manager's serviceaccount controller, so a pod in a namespace made a moment ago
// waits for it a little: upstream looks it up 10 times 100-200 ms apart; kubemu waits up to 30 × 150 ms, as its
// processes share a few cores and the controller may answer later than upstream's.
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import type { Container, PodSpec, Volume } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/request.js';
import { admissionForbidden, isCore, type AdmissionPlugin, type AdmissionStore } from './interface.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

export interface ServiceAccountPluginOptions {
  /** lookups of the default ServiceAccount before giving up (upstream 10; default 30) */
  defaultAttempts?: number;
  /** pause between them, ms (upstream 100-200) */
  retryIntervalMs?: number;
}

async function lookup(
  store: AdmissionStore,
  namespace: string,
  name: string,
  attempts: number,
  intervalMs: number,
): Promise<KubeObject | undefined> {
  const tries = name === DEFAULT_SERVICE_ACCOUNT ? attempts : 1;
  for (let i = 0; i < tries; i++) {
    if (i > 0) await sleep(intervalMs);
    const sa = await store.get('', 'serviceaccounts', namespace, name);
    if (sa) return sa;
  }
  return undefined;
}

/** where containers find their ServiceAccount's token, CA and namespace */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** upstream's projected volume name prefix; the ConfigMap the root-ca-cert-publisher puts in every namespace */
const VOLUME_PREFIX = 'kube-api-access-';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** what the plugin asks of the kubelet: 3607 s, which the apiserver extends (../registry/subresources/token.ts) */
const TOKEN_EXPIRATION_SECONDS = 3607;

/** names.SimpleNameGenerator: five characters from upstream's alphabet (no vowels, no look-alike digits) */
function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** upstream's TokenVolumeSource: token, the root CA, the namespace */
function tokenVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
}

/**
 * upstream's mountServiceAccountToken: a `kube-api-access-xxxxx` projected volume mounted read-only at the
 * well-known path in every container and init container that does not mount something there already.
 */
function mountServiceAccountToken(spec: PodSpec): void {
  const containers: Container[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  const needs = containers.filter(
    (c) => !(c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH),
  );
  if (needs.length === 0) return;
  const existing = (spec.volumes ?? []).find((v) => v.name.startsWith(VOLUME_PREFIX) && v.projected);
  let name = existing?.name;
  if (!name) {
    const taken = new Set((spec.volumes ?? []).map((v) => v.name));
    do name = VOLUME_PREFIX + randomSuffix();
    while (taken.has(name));
    (spec.volumes ??= []).push(tokenVolume(name));
  }
  for (const c of needs)
    (c.volumeMounts ??= []).push({ name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH });
}

export function serviceAccountPlugin(opts: ServiceAccountPluginOptions = {}): AdmissionPlugin {
  const attempts = opts.defaultAttempts ?? 30;
  const interval = opts.retryIntervalMs ?? 150;
  return {
    name: 'ServiceAccount',
    async admit(attrs, store) {
      if (attrs.operation !== 'CREATE' || !isCore(attrs, 'pods') || !attrs.object) return;
      const pod = attrs.object;
      const spec = (pod['spec'] ??= {}) as { serviceAccountName?: string; serviceAccount?: string };
      if (pod.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
        if (spec.serviceAccountName)
          throw admissionForbidden(attrs, 'a mirror pod may not reference service accounts');
        return;
      }
      if (!spec.serviceAccountName) spec.serviceAccountName = DEFAULT_SERVICE_ACCOUNT;
      // the deprecated alias follows (the internal form keeps both)
      spec.serviceAccount = spec.serviceAccountName;
      const sa = await lookup(store, attrs.namespace, spec.serviceAccountName, attempts, interval);
      if (!sa) {
        throw admissionForbidden(
          attrs,
          `error looking up service account ${attrs.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
        );
      }
      const automount =
        (spec as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ??
        (sa as { automountServiceAccountToken?: boolean }).automountServiceAccountToken ??
        true;
      if (automount) mountServiceAccountToken(spec as PodSpec);
      const pullSecrets = (sa as { imagePullSecrets?: { name: string }[] }).imagePullSecrets;
      const podSpec = spec as { imagePullSecrets?: { name: string }[] };
      if (!podSpec.imagePullSecrets?.length && pullSecrets?.length)
        podSpec.imagePullSecrets = pullSecrets.map((s) => ({ name: s.name }));
    },
  };
}
