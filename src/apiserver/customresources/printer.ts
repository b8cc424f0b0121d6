// A custom resource's table for `kubectl get`: its version's additionalPrinterColumns, evaluated as upstream's
// tableconvertor does (pkg/registry/customresource/tableconvertor): NAME first, then each column's JSONPath
// result typed as the column says (a date as an age), null (kubectl's <none>) when the path finds nothing.
// Without columns, NAME and AGE, as upstream defaults them.
import { humanDuration } from '../printers/duration.js';
import type { KindPrinter, TableCell, TableColumnDefinition } from '../printers/types.js';
import type { CustomResource, PrinterColumn } from './definition.js';

const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';

type Step =
  | { t: 'field'; name: string }
  | { t: 'index'; i: number }
  | { t: 'all' }
  | { t: 'filter'; path: string[]; op?: '==' | '!='; value?: unknown };

/** the subset of kubectl's JSONPath CRD printer columns use: `.a.b`, `['a']`, `[0]`, `[*]`, `[?(@.type=="Ready")]` */
export function parseJsonPath(path: string): Step[] {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1);
  if (p.startsWith('$')) p = p.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < p.length) {
    if (p[i] === '.') {
      const m = /^\.([^.[\]]+)/.exec(p.slice(i));
      if (!m) throw new Error(`invalid JSONPath ${path}`);
      steps.push({ t: 'field', name: m[1] });
      i += m[0].length;
    } else if (p[i] === '[') {
      const end = p.indexOf(']', p.startsWith('[?(', i) ? p.indexOf(')]', i) : i);
      if (end < 0) throw new Error(`invalid JSONPath ${path}`);
      const inner = p.slice(i + 1, end);
      i = end + 1;
      if (inner === '*') steps.push({ t: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ t: 'index', i: Number(inner) });
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push({ t: 'field', name: inner.slice(1, -1) });
      else {
        const f = /^\?\(@((?:\.[^.=!\s)]+)+)\s*(?:(==|!=)\s*(.+?))?\s*\)$/.exec(inner);
        if (!f) throw new Error(`invalid JSONPath ${path}`);
        const raw = f[3];
        let value: unknown;
        if (raw !== undefined) {
          const q = /^'(.*)'$|^"(.*)"$/.exec(raw);
          value = q ? (q[1] ?? q[2]) : raw === 'true' ? true : raw === 'false' ? false : Number(raw);
        }
        steps.push({
          t: 'filter',
          path: f[1].slice(1).split('.'),
          ...(f[2] ? { op: f[2] as '==' | '!=', value } : {}),
        });
      }
    } else throw new Error(`invalid JSONPath ${path}`);
  }
  return steps;
}

export function evalJsonPath(obj: unknown, steps: Step[]): unknown[] {
  let cur: unknown[] = [obj];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (s.t === 'field') {
        if (typeof v === 'object' && v !== null && !Array.isArray(v) && s.name in v)
          next.push((v as Record<string, unknown>)[s.name]);
      } else if (s.t === 'index') {
        if (Array.isArray(v)) {
          const list = v as unknown[];
          const x = s.i < 0 ? list[list.length + s.i] : list[s.i];
          if (x !== undefined) next.push(x);
        }
      } else if (s.t === 'all') {
        if (Array.isArray(v)) next.push(...(v as unknown[]));
        else if (typeof v === 'object' && v !== null)
          next.push(...Object.values(v as Record<string, unknown>));
      } else if (Array.isArray(v)) {
        for (const item of v) {
          let x: unknown = item;
          for (const part of s.path)
            x = typeof x === 'object' && x !== null ? (x as Record<string, unknown>)[part] : undefined;
          const keep = !s.op ? x !== undefined : s.op === '==' ? x === s.value : x !== s.value;
          if (keep) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** upstream's cellForJSONValue (and, for strings, the JSONPath printer's text) */
function cell(type: string, value: unknown, now: number): TableCell {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? value : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = Date.parse(value);
      return Number.isNaN(t) ? null : humanDuration(now - t);
    }
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      return JSON.stringify(value);
  }
}

const DEFAULT_COLUMNS: PrinterColumn[] = [
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export function customPrinter(cr: CustomResource, version: string): KindPrinter {
  const defined = cr.columns(version);
  const cols = defined.length ? defined : DEFAULT_COLUMNS;
  const parsed = cols.map((c) => {
    try {
      return parseJsonPath(c.jsonPath);
    } catch {
      return undefined;
    }
  });
  const columns: TableColumnDefinition[] = [
    { name: 'Name', type: 'string', format: 'name', description: NAME_DESCRIPTION, priority: 0 },
    ...cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
  ];
  return {
    columns,
    cells(obj, ctx) {
      return [
        obj.metadata?.name ?? '',
        ...cols.map((c, i) => {
          const steps = parsed[i];
          if (!steps) return null;
          const found = evalJsonPath(obj, steps);
          return found.length ? cell(c.type, found[0], ctx.now) : null;
        }),
      ];
    },
  };
}
