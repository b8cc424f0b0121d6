// A container's Linux capabilities as upstream's runtime gives them: containerd's default set (oci.defaultUnixCaps),
// changed by securityContext.capabilities add/drop as containerd's WithCapabilities applies them, every capability
// for a privileged container. Without NET_ADMIN a pod cannot add another pod's or a Service's address to its
// interfaces, nor change its routes (docs/design.md, Network model).
import type { Container } from 'kubernetes-types/core/v1.js';

/** containerd's default capabilities (without the CAP_ prefix), what a container without securityContext gets */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
];

const normalize = (cap: string): string => cap.toUpperCase().replace(/^CAP_/, '');

/**
 * setpriv's `--bounding-set` option for the container, or undefined for every capability (privileged, or
 * `add: [ALL]`): a root program has exactly its bounding set after its exec. containerd's order: ALL in add gives
 * every capability and ALL in drop none, then the named ones are added, then the named ones dropped.
 */
export function boundingSetArg(c: Container): string | undefined {
  const ctx = c.securityContext;
  if (ctx?.privileged) return undefined;
  const add = (ctx?.capabilities?.add ?? []).map(normalize);
  const drop = (ctx?.capabilities?.drop ?? []).map(normalize);
  const named = (caps: string[]): string[] => caps.filter((cap) => cap !== 'ALL');
  if (add.includes('ALL') && !drop.includes('ALL')) {
    // every capability but the named drops: relative to the kubelet's own (full) set
    const drops = named(drop);
    return drops.length
      ? `--bounding-set=${drops.map((cap) => `-${cap.toLowerCase()}`).join(',')}`
      : undefined;
  }
  const caps = new Set(drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES);
  for (const cap of named(add)) caps.add(cap);
  for (const cap of named(drop)) caps.delete(cap);
  return `--bounding-set=${['-all', ...[...caps].map((cap) => `+${cap.toLowerCase()}`)].join(',')}`;
}
