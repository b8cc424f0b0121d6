// Label and field selectors with upstream's syntax and error messages (k8s.io/apimachinery labels/fields).
import { errors } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import {
  EVERYTHING,
  makeSelector,
  NOTHING,
  parseSelector,
  type LabelRequirement,
  type LabelSelector,
} from './label-selector.js';

export type { LabelRequirement, LabelSelector } from './label-selector.js';
export { EVERYTHING } from './label-selector.js';

/** labels.Parse for `?labelSelector=`: the selector, or a 400 BadRequest with upstream's message */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (!input) return EVERYTHING;
  const parsed = parseSelector(input);
  if (parsed instanceof Error) throw errors.badRequest(parsed.message);
  return parsed;
}

/**
 * metav1.LabelSelectorAsSelector: matchLabels as `=`, matchExpressions as in/notin/exists/!, sorted by key;
 * a nil selector selects nothing, an empty one everything, an unknown operator nothing.
 */
export function fromLabelSelector(
  sel:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined
    | null,
): LabelSelector {
  if (!sel) return NOTHING;
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {}))
    reqs.push({ key, op: '=', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const op = EXPRESSION_OPERATORS[e.operator];
    if (!op) return NOTHING;
    reqs.push({ key: e.key, op, values: op === 'exists' || op === '!' ? [] : [...(e.values ?? [])] });
  }
  return makeSelector(reqs);
}

const EXPRESSION_OPERATORS: Record<string, LabelRequirement['op'] | undefined> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  matches(obj: KubeObject): boolean;
}

/**
 * The field labels each kind's conversion function accepts (scheme.AddFieldLabelConversionFunc in
 * pkg/apis/core/v1, batch/v1, certificates/v1, events/v1 conversion.go) and its words for any other label.
 * Kinds without one get runtime.DefaultMetaV1FieldSelectorConversion: metadata.name and metadata.namespace.
 */
export interface FieldLabels {
  fields: string[];
  reject(label: string): string;
}
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
export const notSupported = (label: string): string => `field label not supported: ${label}`;
const DEFAULT_FIELD_LABELS: FieldLabels = {
  fields: COMMON_FIELDS,
  reject: (label) =>
    `${JSON.stringify(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
};
const FIELD_LABELS: Record<string, FieldLabels> = {
  pods: {
    fields: [
      ...COMMON_FIELDS,
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
    reject: notSupported,
  },
  // core/v1 Event's labels and events.k8s.io/v1's regarding.* (one storage serves both groups here)
  events: {
    fields: [
      ...COMMON_FIELDS,
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
      'regarding.kind',
      'regarding.name',
      'regarding.namespace',
      'regarding.uid',
    ],
    reject: notSupported,
  },
  // Node and Namespace accept no metadata.namespace: they are cluster-scoped
  nodes: { fields: ['metadata.name', 'spec.unschedulable'], reject: notSupported },
  namespaces: { fields: ['metadata.name', 'status.phase'], reject: notSupported },
  secrets: { fields: [...COMMON_FIELDS, 'type'], reject: notSupported },
  services: { fields: [...COMMON_FIELDS, 'spec.clusterIP', 'spec.type'], reject: notSupported },
  replicationcontrollers: { fields: [...COMMON_FIELDS, 'status.replicas'], reject: notSupported },
  certificatesigningrequests: { fields: ['metadata.name', 'spec.signerName'], reject: notSupported },
  jobs: {
    fields: [...COMMON_FIELDS, 'status.successful'],
    reject: (label) => `field label ${JSON.stringify(label)} not supported for Job`,
  },
};

/** selectable fields that are not the object's own path (upstream's XxxToSelectableFields) */
const COMPUTED_FIELDS: Record<string, (obj: KubeObject) => string> = {
  // JobToSelectableFields: status.successful is status.succeeded, 0 when unset
  'jobs/status.successful': (obj) =>
    String((obj['status'] as { succeeded?: number } | undefined)?.succeeded ?? 0),
  // ReplicationController's status.replicas is not omitempty: an unset count selects as 0
  'replicationcontrollers/status.replicas': (obj) =>
    String((obj['status'] as { replicas?: number } | undefined)?.replicas ?? 0),
};

function fieldValue(obj: KubeObject, path: string): string {
  if (path === 'source') {
    const src = (obj as { source?: { component?: string } }).source;
    return src?.component ?? '';
  }
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  if (typeof cur === 'string') return cur;
  if (typeof cur === 'number' || typeof cur === 'boolean') return String(cur);
  return JSON.stringify(cur);
}

/** fields.splitTerms: split on commas a backslash does not escape */
function splitFieldTerms(selector: string): string[] {
  if (selector === '') return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** fields.splitTerm: the first operator in the term (`!=` before `==` before `=`), nothing trimmed */
function splitFieldTerm(term: string): { lhs: string; op: '!=' | '==' | '='; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++)
    for (const op of ['!=', '==', '='] as const)
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
  return undefined;
}

/** fields.UnescapeValue: `\\`, `\,` and `\=` are the only escapes; a bare `,` or `=` is an error */
function unescapeFieldValue(s: string): string {
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c !== '\\' && c !== ',' && c !== '=')
        throw errors.badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
    } else if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=')
      // Go prints the rune with %v: its number
      throw errors.badRequest(`invalid field selector: unescaped character in value: ${c.codePointAt(0)!}`);
    else out += c;
  }
  if (inSlash) throw errors.badRequest('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** field labels upstream's conversion funcs rename (Pod: the old clients' spec.host) */
const FIELD_ALIASES: Record<string, Record<string, string>> = { pods: { 'spec.host': 'spec.nodeName' } };

/**
 * fields.ParseSelector, then the field label conversion the list handler applies: terms sorted, empty ones
 * skipped, field names and values taken literally (no trimming), values unescaped; a 400 in upstream's words.
 */
export function parseFieldSelector(
  input: string | undefined,
  resource: string,
  custom?: FieldLabels,
): FieldSelector {
  const reqs: FieldRequirement[] = [];
  const terms = splitFieldTerms(input ?? '').sort();
  const parsed: { lhs: string; op: '!=' | '==' | '='; value: string }[] = [];
  for (const part of terms) {
    if (part === '') continue;
    const t = splitFieldTerm(part);
    if (!t) throw errors.badRequest(`invalid selector: '${input ?? ''}'; can't understand '${part}'`);
    parsed.push({ lhs: t.lhs, op: t.op, value: unescapeFieldValue(t.rhs) });
  }
  const labels = custom ?? FIELD_LABELS[resource] ?? DEFAULT_FIELD_LABELS;
  for (const t of parsed) {
    const field = FIELD_ALIASES[resource]?.[t.lhs] ?? t.lhs;
    if (!labels.fields.includes(field)) throw errors.badRequest(labels.reject(t.lhs));
    reqs.push({ field, op: t.op === '!=' ? '!=' : '=', value: t.value });
  }
  return {
    requirements: reqs,
    matches(obj) {
      return reqs.every((r) => {
        const computed = COMPUTED_FIELDS[`${resource}/${r.field}`];
        const v = computed
          ? computed(obj)
          : r.field === 'metadata.name'
            ? (obj.metadata?.name ?? '')
            : r.field === 'metadata.namespace'
              ? (obj.metadata?.namespace ?? '')
              : fieldValue(obj, r.field);
        return r.op === '=' ? v === r.value : v !== r.value;
      });
    },
  };
}

/** Selector.String(), the form `Scale.status.selector` and `?labelSelector=` use: `app=web,tier in (a,b)` */
export function selectorString(sel: LabelSelector): string {
  return sel.string();
}
