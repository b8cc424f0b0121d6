// What a kubelet cannot do on this machine, as Node conditions and Warning events: a degraded mode is never silent.
// Upstream's kubelet warns the same way about a host it runs on in a lesser mode (a Warning event `CgroupV1` on the
// Node); node-problem-detector adds problem conditions (`KernelDeadlock`, `ReadonlyFilesystem`) that are False while
// all is well. kubemu's conditions follow that pattern: one per capability, True when the node runs without it.
import type { NodeCondition } from 'kubernetes-types/core/v1.js';
import { splitHostPort } from './dns.js';
import type { IdMapping } from './runtime/id-map.js';
import type { IsolationMode } from './runtime/isolation.js';

/** A condition the kubelet reports besides upstream's four: type, status, reason and message. */
export type NodeProblem = Required<Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>>;

/** The condition types, in the order they appear in the Node's status. */
export const DEGRADED_CONDITION_TYPES = [
  'IsolationDegraded',
  'CPUCgroupsDegraded',
  'PrivilegedPortsDegraded',
  'ClusterDNSDegraded',
  'RunAsUserDegraded',
] as const;

export interface NodeCapabilities {
  /** the container runtime's isolation (isolation.ts) */
  isolation: IsolationMode;
  /** why it is what it is, when forced or degraded (the failed probes) */
  isolationDetail?: string | undefined;
  /** why containers get no CPU cgroups; undefined when they do */
  cpuCgroupsUnavailable?: string | undefined;
  /** is the kubelet root (uid 0)? */
  root: boolean;
  /** net.ipv4.ip_unprivileged_port_start */
  unprivilegedPortStart: number;
  /** the kubelet's --cluster-dns (`ip:port`), undefined when none */
  clusterDNS?: string | undefined;
  /** which ids containers may run as (id-map.ts); undefined: not known (a runtime given to the kubelet) */
  idMapping?: IdMapping | undefined;
}

/** The four conditions, True where the node runs degraded; the message says what a user loses and why. */
export function nodeProblems(c: NodeCapabilities): NodeProblem[] {
  const ok = (type: string, reason: string, message: string): NodeProblem => ({
    type,
    status: 'False',
    reason,
    message,
  });
  const bad = (type: string, reason: string, message: string): NodeProblem => ({
    type,
    status: 'True',
    reason,
    message,
  });
  const problems: NodeProblem[] = [];

  problems.push(
    c.isolation === 'none'
      ? bad(
          'IsolationDegraded',
          'NoNamespaces',
          'containers run without mount and PID namespaces: volumes are not at their mountPath (only under ' +
            "$KUBEMU_ROOT), /etc/resolv.conf is the node's, and a container sees every process" +
            (c.isolationDetail ? ` (${c.isolationDetail})` : ''),
        )
      : ok(
          'IsolationDegraded',
          'KubeletHasNamespaces',
          `containers run in their own mount and PID namespaces (${c.isolation === 'userns' ? 'in a user namespace' : 'as root'})`,
        ),
  );

  problems.push(
    c.cpuCgroupsUnavailable !== undefined
      ? bad(
          'CPUCgroupsDegraded',
          'NoCPUCgroups',
          'containers get no cpu.shares from their CPU requests, only the weakest autogroup weight (nice 19)' +
            ` (${c.cpuCgroupsUnavailable})`,
        )
      : ok('CPUCgroupsDegraded', 'KubeletHasCPUCgroups', 'containers get cpu.shares from their CPU requests'),
  );

  // Containers have the kubelet's privileges on the node's network: root may bind anything, except in a user
  // namespace (which does not own the network namespace); others only from ip_unprivileged_port_start up.
  const portStart = c.root && c.isolation !== 'userns' ? 0 : c.unprivilegedPortStart;
  problems.push(
    portStart > 1
      ? bad(
          'PrivilegedPortsDegraded',
          'NoPrivilegedPorts',
          `containers cannot listen on ports below ${portStart} (the kubelet is not root` +
            `${c.root ? ' outside its user namespace' : ''}; net.ipv4.ip_unprivileged_port_start=${c.unprivilegedPortStart})`,
        )
      : ok('PrivilegedPortsDegraded', 'KubeletMayBindPrivilegedPorts', 'containers may listen on any port'),
  );

  const dnsPort = c.clusterDNS ? splitHostPort(c.clusterDNS).port : undefined;
  problems.push(
    !c.clusterDNS
      ? bad(
          'ClusterDNSDegraded',
          'NoClusterDNS',
          "the kubelet has no --cluster-dns: pods resolve with the node's /etc/resolv.conf, no Service names",
        )
      : dnsPort !== 53
        ? bad(
            'ClusterDNSDegraded',
            'ClusterDNSOffPort53',
            `the cluster DNS listens on ${c.clusterDNS}, and resolv.conf cannot name a port: pods keep the ` +
              "node's /etc/resolv.conf; only programs that read $KUBEMU_DNS resolve Service names",
          )
        : c.isolation === 'none'
          ? bad(
              'ClusterDNSDegraded',
              'NoPrivateResolvConf',
              `without mount namespaces pods keep the node's /etc/resolv.conf, not one naming ${c.clusterDNS}: ` +
                'only programs that read $KUBEMU_DNS resolve Service names',
            )
          : ok(
              'ClusterDNSDegraded',
              'PodsHaveClusterDNS',
              `pods resolve with the cluster DNS at ${c.clusterDNS}`,
            ),
  );
  if (c.idMapping) problems.push(runAsUserProblem(c.idMapping));
  return problems;
}

/** Whether containers may run as the users and groups their securityContext asks for (id-map.ts). */
function runAsUserProblem(m: IdMapping): NodeProblem {
  const type = 'RunAsUserDegraded';
  if (m.kind === 'host')
    return {
      type,
      status: 'False',
      reason: 'KubeletIsRoot',
      message: 'containers run as the runAsUser, runAsGroup, fsGroup and supplementalGroups they ask for',
    };
  if (m.kind === 'subordinate') {
    const range = (kind: 'uid' | 'gid', file: string): string =>
      `${kind}s 1-${m.ids[kind].count} are ${m.user}'s subordinate ${kind}s ${m.ids[kind].start}-` +
      `${m.ids[kind].start + m.ids[kind].count - 1} (${file})`;
    return {
      type,
      status: 'False',
      reason: 'SubordinateIDsMapped',
      message:
        `containers' user namespaces map uid and gid 0 to ${m.user}; ${range('uid', '/etc/subuid')}; ` +
        `${range('gid', '/etc/subgid')}: a pod asking for an id past them is refused (CreateContainerConfigError)`,
    };
  }
  return {
    type,
    status: 'True',
    reason: 'NoSubordinateIDs',
    message:
      `containers run only as ${m.uid === 0 ? `uid 0, which is ${m.user} on the node` : `the kubelet's uid ${m.uid} (${m.user})`}: ` +
      'a pod asking for another runAsUser, ' +
      `runAsGroup, fsGroup or supplementalGroups is refused (CreateContainerConfigError) (${m.why})`,
  };
}

/** The problems that are True: what the kubelet logs and records as Warning events at start. */
export const activeProblems = (problems: readonly NodeProblem[]): NodeProblem[] =>
  problems.filter((p) => p.status === 'True');
