// What the mutating and validating webhook plugins share (upstream's webhook/generic and webhook/request): which
// webhooks a request calls (rules, namespaceSelector, objectSelector, matchConditions), the AdmissionReview sent,
// the response checked, and upstream's statuses for a refusal and for a failed call.
import { randomUUID } from 'node:crypto';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { ApiError, REASON_CODES, type StatusReason } from '../../../api/errors.js';
import type { KubeObject } from '../../../api/request.js';
import type { AdmissionAttributes, AdmissionStore } from '../interface.js';
import { activation, Budget, matchConditions, type MatchCondition } from '../policy/cel-admission.js';
import {
  isExemptConfigurationResource,
  namespaceSelectorMatches,
  objectSelectorMatches,
  ruleMatches,
  type RuleWithOperations,
} from '../policy/matching.js';
import { admissionRequest } from '../policy/request.js';
import { RUNTIME_CEL_COST_BUDGET } from '../../../api/cel/index.js';
import { CallError, callWebhook, type ClientConfig } from './client.js';

export interface Webhook {
  name: string;
  clientConfig: ClientConfig;
  rules?: RuleWithOperations[];
  failurePolicy?: 'Fail' | 'Ignore';
  matchPolicy?: string;
  namespaceSelector?: LabelSelector;
  objectSelector?: LabelSelector;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  matchConditions?: MatchCondition[];
  reinvocationPolicy?: 'Never' | 'IfNeeded';
}

export interface WebhookConfiguration extends KubeObject {
  webhooks?: Webhook[];
}

/** the webhooks of every configuration of this kind, configurations by name, webhooks in their order */
export async function webhooksOf(store: AdmissionStore, resource: string): Promise<Webhook[]> {
  const configs = (await store.list('admissionregistration.k8s.io', resource, '')) as WebhookConfiguration[];
  if (configs.length === 0) return [];
  configs.sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  return configs.flatMap((c) => c.webhooks ?? []);
}

/** upstream's generic ShouldCallHook; throws the failed-call error a matchCondition error makes under Fail */
export async function shouldCall(
  h: Webhook,
  a: AdmissionAttributes,
  store: AdmissionStore,
): Promise<boolean> {
  if (isExemptConfigurationResource(a)) return false;
  if (!(h.rules ?? []).some((r) => ruleMatches(r, a))) return false;
  if (!(await namespaceSelectorMatches(h.namespaceSelector, a, store))) return false;
  if (!objectSelectorMatches(h.objectSelector, a)) return false;
  if (h.matchConditions?.length) {
    const m = matchConditions(
      h.matchConditions,
      activation({ attributes: a }),
      new Budget(RUNTIME_CEL_COST_BUDGET),
    );
    if (m.error) {
      if (h.failurePolicy === 'Ignore') return false;
      throw internalError(new CallError(h.name, `failed to evaluate match conditions: ${m.error}`).message);
    }
    return m.matches;
  }
  return true;
}

/** upstream's NewDryRunUnsupportedErr, for a dry run to a webhook with side effects */
export function checkDryRun(h: Webhook, a: AdmissionAttributes): void {
  if (!a.dryRun) return;
  if (h.sideEffects !== 'None' && h.sideEffects !== 'NoneOnDryRun')
    throw new ApiError('BadRequest', `admission webhook "${h.name}" does not support dry run`);
}

export function internalError(message: string): ApiError {
  return new ApiError('InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

export interface AdmissionResponse {
  uid?: string;
  allowed?: boolean;
  status?: { code?: number; message?: string; reason?: string; details?: unknown };
  patch?: string;
  patchType?: string;
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

/** send the review, check the answer (upstream's VerifyAdmissionResponse); CallError for every failure of the call */
export async function review(
  h: Webhook,
  a: AdmissionAttributes,
  store: AdmissionStore,
): Promise<AdmissionResponse> {
  const versions = h.admissionReviewVersions ?? ['v1'];
  if (!versions.includes('v1') && !versions.includes('v1beta1'))
    throw new CallError(h.name, `webhook does not accept known AdmissionReview versions`);
  const apiVersion = versions.includes('v1') ? 'admission.k8s.io/v1' : 'admission.k8s.io/v1beta1';
  const uid = randomUUID();
  const body = await callWebhook(
    h.name,
    h.clientConfig,
    h.timeoutSeconds ?? 10,
    { apiVersion, kind: 'AdmissionReview', request: admissionRequest(a, uid) },
    store,
  );
  const r = body as { apiVersion?: string; kind?: string; response?: AdmissionResponse };
  const invalid = (why: string) => new CallError(h.name, `received invalid webhook response: ${why}`);
  if (apiVersion === 'admission.k8s.io/v1' && (r?.apiVersion !== apiVersion || r.kind !== 'AdmissionReview'))
    throw invalid(
      `expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${r?.apiVersion ?? ''}, Kind=${r?.kind ?? ''}`,
    );
  if (!r?.response) throw invalid('webhook response was absent');
  if (r.response.uid !== uid) throw invalid(`expected response.uid="${uid}", got "${r.response.uid ?? ''}"`);
  if (
    r.response.patch !== undefined &&
    r.response.patchType !== 'JSONPatch' &&
    apiVersion === 'admission.k8s.io/v1'
  )
    throw invalid(`webhook returned response.patch but not response.patchType`);
  return r.response;
}

/** upstream's webhookerrors.ToStatusErr: the webhook said no */
export function rejection(h: Webhook, a: AdmissionAttributes, status: AdmissionResponse['status']): ApiError {
  const code = status?.code || 403;
  let reason = status?.reason as StatusReason | undefined;
  if (!reason || !(reason in REASON_CODES) || REASON_CODES[reason] !== code)
    reason =
      (Object.keys(REASON_CODES) as StatusReason[]).find((r) => REASON_CODES[r] === code) ??
      (code === 500 ? 'InternalError' : 'Forbidden');
  const deniedBy = `admission webhook "${h.name}" denied the request`;
  const why = status?.message
    ? `${deniedBy}: ${status.message}`
    : status?.reason
      ? `${deniedBy}: ${status.reason}`
      : `${deniedBy} without explanation`;
  const name = a.name || a.object?.metadata?.name || 'Unknown';
  const { group, resource } = a.resource;
  if (code === 500)
    return new ApiError('InternalError', `Internal error occurred: ${why}`, { causes: [{ message: why }] });
  return new ApiError(reason, `${group ? `${resource}.${group}` : resource} "${name}" is forbidden: ${why}`, {
    name,
    kind: resource,
    ...(group ? { group } : {}),
  });
}

/** a response's warnings and audit annotations onto the attributes */
export function record(h: Webhook, a: AdmissionAttributes, r: AdmissionResponse): void {
  for (const w of r.warnings ?? []) a.warnings.push(w);
  for (const [k, v] of Object.entries(r.auditAnnotations ?? {}))
    (a.auditAnnotations ??= {})[`${h.name}/${k}`] = v;
}
