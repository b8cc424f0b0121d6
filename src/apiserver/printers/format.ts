// Small formatting helpers shared by the table printers, each a port of the upstream helper it is named after.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { humanDuration } from './duration.js';

/** translateTimestampSince: `<unknown>` for a missing or unparsable timestamp, else a human duration. */
export function since(timestamp: string | undefined | null, now: number): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

/** labels.FormatLabels: `a=1,b=2` sorted by key, `<none>` when empty. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/** metav1.LabelSelectorAsSelector(...).String(): requirements sorted by key, set values sorted. */
export function labelSelectorString(selector: LabelSelector | undefined | null): string {
  if (!selector) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}))
    reqs.push({ key, text: `${key}=${value}` });
  for (const expr of selector.matchExpressions ?? []) {
    const values = [...(expr.values ?? [])].sort().join(',');
    switch (expr.operator) {
      case 'In':
        reqs.push({ key: expr.key, text: `${expr.key} in (${values})` });
        break;
      case 'NotIn':
        reqs.push({ key: expr.key, text: `${expr.key} notin (${values})` });
        break;
      case 'Exists':
        reqs.push({ key: expr.key, text: expr.key });
        break;
      case 'DoesNotExist':
        reqs.push({ key: expr.key, text: `!${expr.key}` });
        break;
      default:
        return '<invalid>';
    }
  }
  // a stable sort by key, like upstream's sort.Sort(ByKey)
  return reqs
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((r) => r.text)
    .join(',');
}

/** metav1.FormatLabelSelector: like labelSelectorString but `<none>` when it selects by nothing. */
export function formatLabelSelector(selector: LabelSelector | undefined | null): string {
  const s = labelSelectorString(selector);
  return s === '' ? '<none>' : s;
}

/** layoutContainerCells: container names and images, comma-joined. */
export function layoutContainerCells(
  containers: readonly { name: string; image?: string }[] | undefined,
): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name).join(','), list.map((c) => c.image ?? '').join(',')];
}

/** listWithMoreString: `a,b,c + 2 more...`, `<unset>` when empty. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const joined = list.join(',');
  if (more) return `${joined} + ${count - max} more...`;
  return joined === '' ? '<unset>' : joined;
}

/** net.JoinHostPort: IPv6 hosts are bracketed. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** loadBalancerStatusStringer: unique IPs (or hostnames) sorted, clipped to 16 characters unless wide. */
export function loadBalancerStatus(
  ingress: readonly { ip?: string; hostname?: string }[] | undefined,
  wide: boolean,
): string {
  const set = new Set<string>();
  for (const i of ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  let r = [...set].sort().join(',');
  const width = 16;
  if (!wide && r.length > width) r = `${r.slice(0, width - 3)}...`;
  return r;
}
