// Converting custom objects between a CRD's versions (upstream's apiextensions-apiserver
// pkg/apiserver/conversion: converter.go's nopConverter and webhook_converter.go). `conversion: None` (or no
// conversion) changes only apiVersion. `conversion: Webhook` POSTs a ConversionReview (v1, or v1beta1 when the
// CRD's conversionReviewVersions lists it first) with every object not yet in the desired version, in one call for a
// whole list, to the CRD's clientConfig (url or service, caBundle: ../admission/webhook/client.ts), and checks the
// answer as upstream does: the review's kind and uid (v1), result.status, the number of objects, each object's
// apiVersion, kind, name, namespace and uid; metadata is the original's but for labels and annotations (validated).
// The converted objects are then pruned and defaulted with the desired version's schema (upstream's
// schemaCoercingConverter and the read path's defaulting). Every failure is upstream's words, as a 500.
import { randomUUID } from 'node:crypto';
import { errors, fieldErrorString, type FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import { groupVersion } from '../../api/resources.js';
import { validateAnnotations, validateLabels } from '../../api/validation/meta.js';
import { deepCopy, isObject } from '../../util/objects.js';
import type { AdmissionStore } from '../admission/interface.js';
import { callWebhook, CallError, type ClientConfig } from '../admission/webhook/client.js';
import type { CustomResource } from './definition.js';
import { applyDefaults, prune } from './structural.js';

/** upstream's restclient has no per-call deadline for conversion; its transport gives up after 30 s */
const TIMEOUT_SECONDS = 30;

/** what a service-backed webhook needs to find its endpoints */
export type ServiceLookup = Pick<AdmissionStore, 'get' | 'list'>;

/** a string field of a webhook's answer, '' when it is missing or not a string */
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/** Go's %v of a GroupVersionKind: `example.com/v1, Kind=Widget` */
const gvkString = (apiVersion: unknown, kind: unknown): string =>
  `${typeof apiVersion === 'string' ? apiVersion : ''}, Kind=${typeof kind === 'string' ? kind : ''}`;

class ConversionError extends Error {}

/**
 * `objects` as a client of `version` sees them. `list` names the list kind when the objects are a list's items
 * (one review for all of them, upstream's messages about a list). Objects already in `version` are not sent.
 */
export async function convertObjects(
  cr: CustomResource,
  objects: readonly KubeObject[],
  version: string,
  lookup: ServiceLookup,
  list?: boolean,
): Promise<KubeObject[]> {
  const desired = groupVersion(cr.ri.group, version);
  const conversion = cr.crd.spec.conversion;
  const pending = objects.filter((o) => o.apiVersion !== desired);
  if (pending.length === 0) return [...objects];
  if (conversion?.strategy !== 'Webhook') return objects.map((o) => convertNone(cr, o, version));
  const inGvk = list
    ? gvkString(pending[0].apiVersion, cr.listKind)
    : gvkString(pending[0].apiVersion, pending[0].kind);
  let converted: unknown[];
  try {
    converted = await callConversionWebhook(cr, pending, desired, lookup);
  } catch (e) {
    if (e instanceof ConversionError)
      throw errors.internal(`conversion webhook for ${inGvk} failed: ${e.message}`);
    throw e;
  }
  if (converted.length !== pending.length) {
    throw errors.internal(
      `conversion webhook for ${inGvk} returned ${converted.length} objects, expected ${pending.length}`,
    );
  }
  const schema = cr.schema(version);
  const out: KubeObject[] = [];
  let index = 0;
  for (const original of objects) {
    if (original.apiVersion === desired) {
      out.push(original);
      continue;
    }
    const got = converted[index];
    const at = list ? `invalid converted object at index ${index + 1}` : 'invalid object at index 0';
    index++;
    if (!isObject(got)) {
      throw errors.internal(
        `conversion webhook for ${inGvk} returned ${at}: Object 'Kind' is missing in '${JSON.stringify(got)}'`,
      );
    }
    if (got['apiVersion'] !== desired) {
      throw errors.internal(
        `conversion webhook for ${inGvk} returned ${at}: invalid groupVersion (expected ${desired}, received ${str(got['apiVersion'])})`,
      );
    }
    if (got['kind'] !== original.kind) {
      throw errors.internal(
        `conversion webhook for ${inGvk} returned ${at}: invalid kind (expected ${String(original.kind)}, received ${str(got['kind'])})`,
      );
    }
    const obj = deepCopy(got) as KubeObject;
    const invalid = sameIdentity(original, obj);
    if (invalid) {
      const what = list ? `invalid converted object at index ${index}` : 'invalid object';
      throw errors.internal(`conversion webhook for ${inGvk} returned ${what}: ${invalid}`);
    }
    const metaError = restoreObjectMeta(original, obj);
    if (metaError) {
      const what = list ? `invalid metadata in object at index ${index}` : 'invalid metadata';
      throw errors.internal(`conversion webhook for ${inGvk} returned ${what}: ${metaError}`);
    }
    prune(obj, schema);
    applyDefaults(obj, schema);
    out.push(obj);
  }
  return out;
}

/**
 * upstream's nopConverter then schemaCoercingConverter: only apiVersion changes, then the desired version's schema
 * prunes and defaults (fields the other version has and this one has not are dropped, as upstream drops them)
 */
function convertNone(cr: CustomResource, obj: KubeObject, version: string): KubeObject {
  const desired = groupVersion(cr.ri.group, version);
  if (obj.apiVersion === desired) return obj;
  const from =
    typeof obj.apiVersion === 'string' ? obj.apiVersion.slice(obj.apiVersion.indexOf('/') + 1) : '';
  const schema = cr.schema(version);
  if (!schema || schema === cr.schema(from)) return { ...obj, apiVersion: desired };
  const out = deepCopy(obj);
  out.apiVersion = desired;
  prune(out, schema);
  applyDefaults(out, schema);
  return out;
}

async function callConversionWebhook(
  cr: CustomResource,
  objects: readonly KubeObject[],
  desiredAPIVersion: string,
  lookup: ServiceLookup,
): Promise<unknown[]> {
  const webhook = cr.crd.spec.conversion?.webhook;
  const reviewVersion = webhook?.conversionReviewVersions.find((v) => v === 'v1' || v === 'v1beta1');
  if (!webhook?.clientConfig || !reviewVersion)
    throw new ConversionError('no supported conversion review versions');
  const uid = randomUUID();
  const cc = webhook.clientConfig;
  const clientConfig: ClientConfig = {
    ...(cc.url ? { url: cc.url } : {}),
    ...(cc.service
      ? {
          service: {
            namespace: cc.service.namespace,
            name: cc.service.name,
            ...(cc.service.path ? { path: cc.service.path } : {}),
            port: cc.service.port ?? 443,
          },
        }
      : {}),
    ...(cc.caBundle ? { caBundle: cc.caBundle } : {}),
  };
  const apiVersion = `apiextensions.k8s.io/${reviewVersion}`;
  const review = {
    kind: 'ConversionReview',
    apiVersion,
    request: { uid, desiredAPIVersion, objects },
  };
  let answer: unknown;
  try {
    answer = await callWebhook(
      `conversion_webhook_for_${cr.crd.metadata?.name ?? ''}`,
      clientConfig,
      TIMEOUT_SECONDS,
      review,
      lookup as AdmissionStore,
    );
  } catch (e) {
    // upstream shows the rest client's error itself, without the admission plugins' "failed to call webhook"
    if (e instanceof CallError) throw new ConversionError(e.reason.replace(/^failed to call webhook: /, ''));
    throw e;
  }
  if (!isObject(answer)) throw new ConversionError('no response provided');
  if (
    reviewVersion === 'v1' &&
    (answer['apiVersion'] !== apiVersion || answer['kind'] !== 'ConversionReview')
  ) {
    throw new ConversionError(
      `expected webhook response of ${apiVersion}, Kind=ConversionReview, got ${gvkString(answer['apiVersion'], answer['kind'])}`,
    );
  }
  const response = answer['response'];
  if (!isObject(response)) throw new ConversionError('no response provided');
  // v1beta1 processing did not verify the uid upstream either
  if (reviewVersion === 'v1' && response['uid'] !== uid) {
    throw new ConversionError(`expected response.uid="${uid}", got "${str(response['uid'])}"`);
  }
  const result = isObject(response['result']) ? response['result'] : {};
  if (result['status'] !== 'Success') {
    const message = typeof result['message'] === 'string' ? result['message'] : '';
    throw new ConversionError(
      message || `response.result.status was '${str(result['status'])}', not 'Success'`,
    );
  }
  const converted = response['convertedObjects'];
  return Array.isArray(converted) ? (converted as unknown[]) : [];
}

/** upstream's validateConvertedObject: a webhook may not change what the object is */
function sameIdentity(original: KubeObject, converted: KubeObject): string | undefined {
  const a = original.metadata ?? {};
  const b = isObject(converted.metadata) ? converted.metadata : {};
  if (original.kind !== converted.kind)
    return `must have the same kind: ${original.kind} != ${converted.kind}`;
  if ((a.name ?? '') !== (b.name ?? '')) return `must have the same name: ${a.name ?? ''} != ${b.name ?? ''}`;
  if ((a.namespace ?? '') !== (b.namespace ?? ''))
    return `must have the same namespace: ${a.namespace ?? ''} != ${b.namespace ?? ''}`;
  if ((a.uid ?? '') !== (b.uid ?? '')) return `must have the same UID: ${a.uid ?? ''} != ${b.uid ?? ''}`;
  return undefined;
}

/** upstream's restoreObjectMeta: the original's metadata, with the converted object's labels and annotations */
function restoreObjectMeta(original: KubeObject, converted: KubeObject): string | undefined {
  const answered = converted.metadata as unknown;
  if (answered === undefined) return 'missing metadata in converted object';
  if (!isObject(answered)) return `invalid metadata of type ${typeof answered} in converted object`;
  const meta = deepCopy(original.metadata ?? {}) as Record<string, unknown>;
  for (const field of ['labels', 'annotations'] as const) {
    const value = answered[field];
    if (value === undefined || value === null) {
      delete meta[field];
      continue;
    }
    if (!isObject(value)) return `invalid metadata.${field} of type ${typeof value} in converted object`;
    for (const [k, v] of Object.entries(value))
      if (typeof v !== 'string')
        return `metadata.${field}[${k}] must be a string, but is ${typeof v} in converted object`;
    const map = value as Record<string, string>;
    const errs: FieldError[] =
      field === 'labels'
        ? validateLabels(map, 'metadata.labels')
        : validateAnnotations(map, 'metadata.annotation');
    // Go's utilerrors aggregate: one error as itself, several in brackets
    if (errs.length === 1) return fieldErrorString(errs[0]);
    if (errs.length > 1) return `[${errs.map(fieldErrorString).join(', ')}]`;
    meta[field] = map;
  }
  converted.metadata = meta;
  return undefined;
}
