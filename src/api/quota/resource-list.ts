// ResourceList arithmetic as upstream's quota/v1 helpers (Add, Subtract, Mask, LessThanOrEqual), on quantity strings.
import { formatQuantity, parseQuantity, type Quantity } from '../schema/quantity.js';

export type ResourceList = Record<string, string>;

const ZERO: Quantity = { num: 0n, exp: 0, format: 'DecimalSI' };

function q(s: string | undefined): Quantity {
  return (s !== undefined && parseQuantity(String(s))) || ZERO;
}

function align(a: Quantity, b: Quantity): [bigint, bigint, number] {
  const e = Math.min(a.exp, b.exp);
  return [a.num * 10n ** BigInt(a.exp - e), b.num * 10n ** BigInt(b.exp - e), e];
}

/** a + b, in a's format unless a is zero (upstream keeps the receiver's format; a fresh sum takes the addend's) */
export function addQuantity(a: string | undefined, b: string | undefined): string {
  const qa = q(a);
  const qb = q(b);
  const [na, nb, exp] = align(qa, qb);
  const format = qa.num === 0n ? qb.format : qa.format;
  return formatQuantity({ num: na + nb, exp, format });
}

export function subtractQuantity(a: string | undefined, b: string | undefined): string {
  const qa = q(a);
  const qb = q(b);
  const [na, nb, exp] = align(qa, qb);
  return formatQuantity({ num: na - nb, exp, format: qa.num === 0n ? qb.format : qa.format });
}

export function cmpQuantity(a: string | undefined, b: string | undefined): number {
  const [na, nb] = align(q(a), q(b));
  return na < nb ? -1 : na > nb ? 1 : 0;
}

export function isZero(a: string | undefined): boolean {
  return q(a).num === 0n;
}

/** quota.Add: every key of either list */
export function add(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = addQuantity(a[k], b[k]);
  return out;
}

/** quota.Subtract */
export function subtract(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) out[k] = subtractQuantity(a[k], b[k]);
  return out;
}

/** quota.Mask: only the given keys */
export function mask(list: ResourceList, keys: Iterable<string>): ResourceList {
  const out: ResourceList = {};
  for (const k of keys) if (k in list) out[k] = list[k];
  return out;
}

/** quota.LessThanOrEqual: whether a ≤ b for every key of a that b limits, and the keys that exceed */
export function lessThanOrEqual(a: ResourceList, b: ResourceList): { ok: boolean; exceeded: string[] } {
  const exceeded: string[] = [];
  for (const [k, v] of Object.entries(a)) if (k in b && cmpQuantity(v, b[k]) > 0) exceeded.push(k);
  return { ok: exceeded.length === 0, exceeded };
}

/** the admission plugin's prettyPrint: `k=v,k=v`, keys sorted */
export function prettyPrint(list: ResourceList): string {
  return Object.keys(list)
    .sort()
    .map((k) => `${k}=${list[k]}`)
    .join(',');
}

/** canonical form of every value (`1000m` → `1`) */
export function canonical(list: ResourceList | undefined): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(list ?? {})) out[k] = formatQuantity(q(v));
  return out;
}
