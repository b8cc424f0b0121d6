// Label and field selectors with upstream's syntax and error messages (k8s.io/apimachinery labels/fields).
import { errors } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';

export type LabelRequirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!' };

export interface LabelSelector {
  requirements: LabelRequirement[];
  matches(labels: Record<string, string> | undefined): boolean;
}

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function matchRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.op) {
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'in':
      return has && r.values.includes(labels[r.key]);
    case 'notin':
      return !has || !r.values.includes(labels[r.key]);
  }
}

function makeSelector(requirements: LabelRequirement[]): LabelSelector {
  return {
    requirements,
    matches(labels) {
      const l = labels ?? {};
      return requirements.every((r) => matchRequirement(r, l));
    },
  };
}

export const EVERYTHING: LabelSelector = makeSelector([]);

/** Split on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts;
}

function checkKey(key: string, whole: string): void {
  if (!LABEL_KEY.test(key) || key.length > 317) {
    throw errors.badRequest(
      `unable to parse requirement: invalid label key "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (in selector "${whole}")`,
    );
  }
}

function checkValue(value: string): void {
  if (value.length > 63 || !LABEL_VALUE.test(value)) {
    throw errors.badRequest(
      `unable to parse requirement: values[0][${value}]: Invalid value: "${value}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
    );
  }
}

/** Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h` into a selector; 400 BadRequest on bad syntax. */
export function parseLabelSelector(input: string | undefined): LabelSelector {
  if (!input || !input.trim()) return EVERYTHING;
  const reqs: LabelRequirement[] = [];
  for (const raw of splitTopLevel(input)) {
    const part = raw.trim();
    if (!part)
      throw errors.badRequest(
        `unable to parse requirement: found '', expected: identifier (in selector "${input}")`,
      );
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
      const key = m[1];
      checkKey(key, input);
      const values = m[3].split(',').map((v) => v.trim());
      values.forEach(checkValue);
      reqs.push({ key, op: m[2] as 'in' | 'notin', values });
    } else if ((m = part.match(/^([^=!\s]+)\s*(==|!=|=)\s*(\S*)$/))) {
      const key = m[1];
      checkKey(key, input);
      checkValue(m[3]);
      reqs.push({ key, op: m[2] === '!=' ? 'notin' : 'in', values: [m[3]] });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      checkKey(m[1], input);
      reqs.push({ key: m[1], op: '!' });
    } else if (/^\S+$/.test(part) && !/[=!()]/.test(part)) {
      checkKey(part, input);
      reqs.push({ key: part, op: 'exists' });
    } else {
      throw errors.badRequest(
        `unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt (in selector "${input}")`,
      );
    }
  }
  return makeSelector(reqs);
}

/** Turn a metav1.LabelSelector (matchLabels/matchExpressions) into a selector. */
export function fromLabelSelector(
  sel:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: { key: string; operator: string; values?: string[] }[];
      }
    | undefined
    | null,
): LabelSelector {
  if (!sel) return makeSelector([{ key: '', op: 'in', values: [] }]); // nil selector matches nothing
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {}))
    reqs.push({ key, op: 'in', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In') reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (op === 'NotIn') reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (op === 'Exists') reqs.push({ key: e.key, op: 'exists' });
    else if (op === 'DoesNotExist') reqs.push({ key: e.key, op: '!' });
  }
  return makeSelector(reqs);
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  matches(obj: KubeObject): boolean;
}

/** The fields each resource can be selected on (upstream's field label conversion funcs). */
const COMMON_FIELDS = ['metadata.name', 'metadata.namespace'];
const FIELDS_BY_RESOURCE: Record<string, string[]> = {
  pods: [
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
  events: [
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
  nodes: [...COMMON_FIELDS, 'spec.unschedulable'],
  namespaces: [...COMMON_FIELDS, 'status.phase'],
  secrets: [...COMMON_FIELDS, 'type'],
  replicasets: [...COMMON_FIELDS, 'status.replicas'],
  services: [...COMMON_FIELDS, 'spec.clusterIP', 'spec.type'],
  certificatesigningrequests: [...COMMON_FIELDS, 'spec.signerName'],
  jobs: [...COMMON_FIELDS, 'status.successful'],
  replicationcontrollers: [...COMMON_FIELDS, 'status.replicas'],
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
export function parseFieldSelector(input: string | undefined, resource: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  const terms = splitFieldTerms(input ?? '').sort();
  const parsed: { lhs: string; op: '!=' | '==' | '='; value: string }[] = [];
  for (const part of terms) {
    if (part === '') continue;
    const t = splitFieldTerm(part);
    if (!t) throw errors.badRequest(`invalid selector: '${input ?? ''}'; can't understand '${part}'`);
    parsed.push({ lhs: t.lhs, op: t.op, value: unescapeFieldValue(t.rhs) });
  }
  const allowed = FIELDS_BY_RESOURCE[resource] ?? COMMON_FIELDS;
  for (const t of parsed) {
    const field = FIELD_ALIASES[resource]?.[t.lhs] ?? t.lhs;
    if (!allowed.includes(field)) throw errors.badRequest(`field label not supported: ${t.lhs}`);
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

/** A selector in the string form `Scale.status.selector` and `?labelSelector=` use: `app=web,tier in (a,b)` */
export function selectorString(sel: LabelSelector): string {
  return sel.requirements
    .map((r) => {
      if (r.op === 'in' || r.op === 'notin') {
        return r.op === 'in' && r.values.length === 1
          ? `${r.key}=${r.values[0]}`
          : `${r.key} ${r.op} (${r.values.join(',')})`;
      }
      return r.op === 'exists' ? r.key : `!${r.key}`;
    })
    .join(',');
}
