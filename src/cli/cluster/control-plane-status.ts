// `kubemu status` of an etcd control plane: each etcd member's state (leader, follower, not answering), each
// apiserver's /readyz, and which member's controller-manager and scheduler hold their Lease.
import { etcdMemberStatus, type EtcdMemberState } from '../../util/etcd-member-status.js';
import { getJson, isReady, type ApiTarget } from './api.js';
import type { ControlPlaneLayout } from './control-plane.js';

export interface ControlPlaneStatus {
  storage: 'etcd';
  members: number;
  etcd: {
    name: string;
    endpoint: string;
    state: EtcdMemberState;
    raftTerm?: string;
  }[];
  apiServers: { name: string; url: string; ready: boolean }[];
  /** Lease kube-system/NAME → its holder: the member's host (control-plane-N) and the process (controller-manager-N) */
  leaders: { lease: string; holderIdentity: string | null; process: string | null }[];
}

const LEASES = [
  { lease: 'kube-controller-manager', process: 'controller-manager' },
  { lease: 'kube-scheduler', process: 'scheduler' },
];

export async function controlPlaneStatus(
  layout: ControlPlaneLayout,
  target: ApiTarget | undefined,
): Promise<ControlPlaneStatus> {
  const etcd = await Promise.all(
    layout.etcd.map(async (m) => {
      const status = await etcdMemberStatus(`http://127.0.0.1:${m.clientPort}`);
      return { name: m.name, ...status };
    }),
  );
  const apiServers =
    layout.members === 1
      ? []
      : await Promise.all(
          layout.apiServerPorts.map(async (port, i) => {
            const url = `https://127.0.0.1:${port}`;
            return {
              name: `apiserver-${i + 1}`,
              url,
              ready: target ? await isReady({ ...target, url }) : false,
            };
          }),
        );
  const leaders = await Promise.all(
    LEASES.map(async ({ lease, process }) => {
      if (!target || layout.members === 1) return { lease, holderIdentity: null, process: null };
      const found = await getJson<{ spec?: { holderIdentity?: string } }>(
        target,
        `/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/${lease}`,
      ).catch(() => undefined);
      const holder = found?.spec?.holderIdentity ?? null;
      const member = holder ? /^control-plane-(\d+)_/.exec(holder)?.[1] : undefined;
      return { lease, holderIdentity: holder, process: member ? `${process}-${member}` : null };
    }),
  );
  return { storage: 'etcd', members: layout.members, etcd, apiServers, leaders };
}

export function formatControlPlane(s: ControlPlaneStatus): string[] {
  return [
    '',
    `CONTROL PLANE (etcd, ${s.members} member${s.members === 1 ? '' : 's'})`,
    ...s.etcd.map(
      (m) =>
        `${m.name.padEnd(22)}${m.endpoint.padEnd(26)}${m.state}${m.raftTerm ? ` (term ${m.raftTerm})` : ''}`,
    ),
    ...s.apiServers.map((a) => `${a.name.padEnd(22)}${a.url.padEnd(26)}${a.ready ? 'ready' : 'not ready'}`),
    ...s.leaders
      .filter(() => s.members > 1)
      .map(
        (l) =>
          `${`lease ${l.lease}`.padEnd(48)}${l.process ?? 'no holder'}` +
          (l.holderIdentity ? ` (${l.holderIdentity})` : ''),
      ),
  ];
}
