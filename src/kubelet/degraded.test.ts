import { describe, expect, it } from 'vitest';
import { activeProblems, nodeProblems, type NodeCapabilities } from './degraded.js';
import { nodeConditions } from './node-status.js';

const healthy: NodeCapabilities = {
  isolation: 'namespaces',
  root: true,
  unprivilegedPortStart: 1024,
  clusterDNS: '127.96.0.10:53',
};
const status = (c: NodeCapabilities): Record<string, string> =>
  Object.fromEntries(nodeProblems(c).map((p) => [p.type, `${p.status} ${p.reason}`]));

describe('degraded node conditions', () => {
  it('a root kubelet with namespaces, cgroups and DNS on :53 reports every condition False', () => {
    expect(status(healthy)).toEqual({
      IsolationDegraded: 'False KubeletHasNamespaces',
      CPUCgroupsDegraded: 'False KubeletHasCPUCgroups',
      PrivilegedPortsDegraded: 'False KubeletMayBindPrivilegedPorts',
      ClusterDNSDegraded: 'False PodsHaveClusterDNS',
    });
    expect(activeProblems(nodeProblems(healthy))).toEqual([]);
  });

  it('each degraded mode turns its own condition True, saying why', () => {
    const none = nodeProblems({ ...healthy, isolation: 'none', isolationDetail: 'unshare: not found' });
    expect(none.find((p) => p.type === 'IsolationDegraded')).toMatchObject({
      status: 'True',
      reason: 'NoNamespaces',
      message: expect.stringContaining('(unshare: not found)'),
    });
    // without a private root the pod's resolv.conf cannot be mounted: no cluster DNS either
    expect(none.find((p) => p.type === 'ClusterDNSDegraded')?.reason).toBe('NoPrivateResolvConf');
    expect(
      status({ ...healthy, cpuCgroupsUnavailable: 'disabled by KUBEMU_CPU_CGROUPS=off' }).CPUCgroupsDegraded,
    ).toBe('True NoCPUCgroups');
    expect(status({ ...healthy, root: false }).PrivilegedPortsDegraded).toBe('True NoPrivilegedPorts');
    // root in a user namespace does not own the network namespace
    expect(status({ ...healthy, isolation: 'userns' }).PrivilegedPortsDegraded).toBe(
      'True NoPrivilegedPorts',
    );
    // a lowered sysctl lets everyone bind low ports
    expect(status({ ...healthy, root: false, unprivilegedPortStart: 0 }).PrivilegedPortsDegraded).toBe(
      'False KubeletMayBindPrivilegedPorts',
    );
    expect(status({ ...healthy, clusterDNS: '127.96.0.10:1053' }).ClusterDNSDegraded).toBe(
      'True ClusterDNSOffPort53',
    );
    expect(status({ ...healthy, clusterDNS: undefined }).ClusterDNSDegraded).toBe('True NoClusterDNS');
  });

  it('RunAsUserDegraded: False for a root kubelet and for subordinate ids (with the range), True with one id', () => {
    expect(status({ ...healthy, idMapping: { kind: 'host' } }).RunAsUserDegraded).toBe('False KubeletIsRoot');
    const sub = nodeProblems({
      ...healthy,
      isolation: 'userns',
      idMapping: {
        kind: 'subordinate',
        user: 'alice',
        ids: { uid: { start: 100000, count: 65536 }, gid: { start: 200000, count: 65536 } },
      },
    }).find((p) => p.type === 'RunAsUserDegraded');
    expect(sub).toMatchObject({ status: 'False', reason: 'SubordinateIDsMapped' });
    expect(sub?.message).toContain("uids 1-65536 are alice's subordinate uids 100000-165535 (/etc/subuid)");
    expect(sub?.message).toContain("gids 1-65536 are alice's subordinate gids 200000-265535 (/etc/subgid)");
    const single = nodeProblems({
      ...healthy,
      isolation: 'userns',
      idMapping: {
        kind: 'single',
        user: 'alice',
        uid: 0,
        gid: 0,
        why: 'no subordinate uids for alice in /etc/subuid',
      },
    }).find((p) => p.type === 'RunAsUserDegraded');
    expect(single).toEqual({
      type: 'RunAsUserDegraded',
      status: 'True',
      reason: 'NoSubordinateIDs',
      message:
        'containers run only as uid 0, which is alice on the node: a pod asking for another runAsUser, runAsGroup, ' +
        'fsGroup or supplementalGroups is refused (CreateContainerConfigError) (no subordinate uids for alice in /etc/subuid)',
    });
    expect(activeProblems([single!])).toEqual([single]);
  });

  it('the conditions follow upstream four in the Node status and keep their transition time', () => {
    const problems = nodeProblems({ ...healthy, isolation: 'none' });
    const first = nodeConditions(undefined, Date.parse('2026-01-01T00:00:00Z'), problems);
    expect(first.map((c) => c.type)).toEqual([
      'MemoryPressure',
      'DiskPressure',
      'PIDPressure',
      'Ready',
      'IsolationDegraded',
      'CPUCgroupsDegraded',
      'PrivilegedPortsDegraded',
      'ClusterDNSDegraded',
    ]);
    const later = nodeConditions(first, Date.parse('2026-01-01T00:00:10Z'), problems);
    const isolation = later.find((c) => c.type === 'IsolationDegraded');
    expect(isolation?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect(isolation?.lastHeartbeatTime).toBe('2026-01-01T00:00:10Z');
  });
});
