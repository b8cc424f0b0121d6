// upstream's AdmissionRequest (admission/v1) built from the attributes: the `request` variable of CEL
// expressions and the `request` of an AdmissionReview sent to a webhook.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../../api/request.js';
import type { AdmissionAttributes } from '../interface.js';

export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource: { group: string; version: string; resource: string };
  subResource?: string;
  requestKind: { group: string; version: string; kind: string };
  requestResource: { group: string; version: string; resource: string };
  requestSubResource?: string;
  name?: string;
  namespace?: string;
  operation: string;
  userInfo: { username: string; uid?: string; groups: string[]; extra?: Record<string, string[]> };
  object: KubeObject | null;
  oldObject: KubeObject | null;
  dryRun: boolean;
  options: Record<string, unknown> | null;
}

const OPTIONS_KIND: Record<string, string> = {
  CREATE: 'CreateOptions',
  UPDATE: 'UpdateOptions',
  DELETE: 'DeleteOptions',
};

/** the operation's options as upstream sends them (CreateOptions/UpdateOptions/DeleteOptions) */
function optionsOf(a: AdmissionAttributes): Record<string, unknown> | null {
  const kind = OPTIONS_KIND[a.operation];
  if (!kind) return null;
  const o: Record<string, unknown> = { kind, apiVersion: 'meta.k8s.io/v1' };
  if (a.dryRun) o['dryRun'] = ['All'];
  if (a.operation !== 'DELETE' && a.options.fieldManager) o['fieldManager'] = a.options.fieldManager;
  if (a.operation === 'DELETE') {
    if (a.options.propagationPolicy) o['propagationPolicy'] = a.options.propagationPolicy;
    if (a.options.gracePeriodSeconds !== undefined) o['gracePeriodSeconds'] = a.options.gracePeriodSeconds;
  }
  return o;
}

export function admissionRequest(a: AdmissionAttributes, uid: string = randomUUID()): AdmissionRequest {
  const r: AdmissionRequest = {
    uid,
    kind: a.kind,
    resource: a.resource,
    requestKind: a.kind,
    requestResource: a.resource,
    operation: a.operation,
    userInfo: {
      username: a.user.username,
      ...(a.user.uid ? { uid: a.user.uid } : {}),
      groups: a.user.groups,
      ...(a.user.extra ? { extra: a.user.extra } : {}),
    },
    object: a.object ?? null,
    oldObject: a.oldObject ?? null,
    dryRun: a.dryRun,
    options: optionsOf(a),
  };
  if (a.subresource) {
    r.subResource = a.subresource;
    r.requestSubResource = a.subresource;
  }
  const name = a.name || a.object?.metadata?.name;
  if (name) r.name = name;
  if (a.namespace) r.namespace = a.namespace;
  return r;
}
