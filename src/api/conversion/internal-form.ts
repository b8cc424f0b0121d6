// What upstream's conversion from a served version to the internal one folds into a written object, applied
// to every incoming body (create, update, every patch type, apply) before validation: a Secret's `stringData`
// is merged into `data` and never stored (Convert_v1_Secret_To_core_Secret), and a pod spec's deprecated
// `serviceAccount` is an alias of `serviceAccountName` (Convert_v1_PodSpec_To_core_PodSpec and back).
import type { KubeObject } from '../request.js';
import { isObject } from '../../util/objects.js';

interface Gk {
  group: string;
  kind: string;
}

/** The served kinds whose spec.template.spec is a PodSpec. */
const POD_TEMPLATE_KINDS = new Set(['apps/Deployment', 'apps/ReplicaSet']);

/** Fold `obj` (in its served-version JSON form) into what upstream would store. Mutates `obj`. */
export function toInternalForm(gk: Gk, obj: KubeObject): void {
  if (gk.group === '' && gk.kind === 'Secret') mergeStringData(obj);
  else if (gk.group === '' && gk.kind === 'Pod') aliasServiceAccount(obj['spec']);
  else if (POD_TEMPLATE_KINDS.has(`${gk.group}/${gk.kind}`)) {
    const template = (obj['spec'] as { template?: unknown } | undefined)?.template;
    if (isObject(template)) aliasServiceAccount(template['spec']);
  }
}

/** `stringData` overwrites the same keys of `data` (base64 in the JSON form), then is dropped. */
export function mergeStringData(secret: KubeObject): void {
  const stringData = secret['stringData'];
  delete secret['stringData'];
  if (!isObject(stringData) || Object.keys(stringData).length === 0) return;
  const data = isObject(secret['data']) ? secret['data'] : {};
  for (const [key, value] of Object.entries(stringData)) {
    data[key] = Buffer.from(typeof value === 'string' ? value : '', 'utf8').toString('base64');
  }
  secret['data'] = data;
}

/**
 * `serviceAccountName` wins when both are given; the deprecated `serviceAccount` names it when it is empty;
 * the stored form carries both (the output conversion sets serviceAccount from serviceAccountName).
 */
export function aliasServiceAccount(spec: unknown): void {
  if (!isObject(spec)) return;
  const name = spec['serviceAccountName'];
  const deprecated = spec['serviceAccount'];
  const effective =
    typeof name === 'string' && name !== '' ? name : typeof deprecated === 'string' ? deprecated : '';
  if (effective) {
    spec['serviceAccountName'] = effective;
    spec['serviceAccount'] = effective;
  } else {
    delete spec['serviceAccountName'];
    delete spec['serviceAccount'];
  }
}
