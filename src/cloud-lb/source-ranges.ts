// loadBalancerSourceRanges: which client addresses may connect (the spec field, else upstream's annotation, else all).
import type { Service } from 'kubernetes-types/core/v1.js';
import { cidrContains, parseCidr, socketIPv4, type Cidr } from './cidr.js';

/** the annotation upstream honours when `spec.loadBalancerSourceRanges` is empty */
export const SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

export interface SourceRanges {
  /** undefined: everyone may connect */
  cidrs: Cidr[] | undefined;
  /** the ranges as written, for logs and change detection */
  text: string[];
}

export const ALLOW_ALL: SourceRanges = { cidrs: undefined, text: [] };

const isIPv6Range = (text: string): boolean => text.includes(':');

/**
 * The Service's ranges, or an error message for an unparseable one. IPv6 ranges are accepted but match
 * nothing: every listener here is IPv4.
 */
export function sourceRangesOf(svc: Service): { ranges: SourceRanges } | { error: string } {
  let text = (svc.spec?.loadBalancerSourceRanges ?? []).map((r) => r.trim()).filter(Boolean);
  if (text.length === 0) {
    const annotation = svc.metadata?.annotations?.[SOURCE_RANGES_ANNOTATION] ?? '';
    text = annotation
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
  }
  if (text.length === 0) return { ranges: ALLOW_ALL };
  const cidrs: Cidr[] = [];
  for (const range of text) {
    if (isIPv6Range(range)) continue;
    const cidr = parseCidr(range);
    if (!cidr) return { error: `loadBalancerSourceRanges: ${JSON.stringify(range)} is not a valid CIDR` };
    cidrs.push(cidr);
  }
  return { ranges: { cidrs, text } };
}

/** may a client at `remoteAddress` (as a socket reports it) connect? */
export function sourceAllowed(ranges: SourceRanges, remoteAddress: string | undefined): boolean {
  if (!ranges.cidrs) return true;
  const ip = socketIPv4(remoteAddress);
  if (ip === undefined) return false;
  return ranges.cidrs.some((c) => cidrContains(c, ip));
}
