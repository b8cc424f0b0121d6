// PodSecurity admission: the namespace labels, the baseline and restricted checks of pod-security-admission with
// their messages and order, enforce (403) and warn (Warning headers), workload templates warned only.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/request.js';
import { evaluatePod, forbiddenDetail } from './pod-security-checks.js';
import { isSignificantPodUpdate, podSecurityPlugin, policyFromLabels } from './pod-security.js';
import { MemoryStore, attrs, pod, rejection } from './testdata/memory-store.js';

const ns = (labels: Record<string, string>): KubeObject => ({ metadata: { name: 'ns', labels } });
const store = (labels: Record<string, string>): MemoryStore =>
  new MemoryStore().put('', 'namespaces', ns(labels));
const nginx = (): KubeObject =>
  pod('nginx', [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }] }]);

const RESTRICTED_NGINX =
  'allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';

describe('PodSecurity admission', () => {
  it('enforce=restricted refuses the docs nginx pod with upstream message', async () => {
    const e = await rejection(
      podSecurityPlugin.validate!(
        attrs('CREATE', 'pods', nginx()),
        store({ 'pod-security.kubernetes.io/enforce': 'restricted' }),
      ),
    );
    expect(e.code).toBe(403);
    expect(e.message).toBe(
      `pods "nginx" is forbidden: violates PodSecurity "restricted:latest": ${RESTRICTED_NGINX}`,
    );
  });

  it('warn=restricted admits it with a warning; enforce defaults warn to itself; versions are shown', async () => {
    const a = attrs('CREATE', 'pods', nginx());
    await podSecurityPlugin.validate!(
      a,
      store({
        'pod-security.kubernetes.io/enforce': 'baseline',
        'pod-security.kubernetes.io/warn': 'restricted',
      }),
    );
    expect(a.warnings).toEqual([`would violate PodSecurity "restricted:latest": ${RESTRICTED_NGINX}`]);
    const b = attrs('CREATE', 'pods', pod('h', [{ name: 'c' }], { hostNetwork: true }));
    const e = await rejection(
      podSecurityPlugin.validate!(
        b,
        store({
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/enforce-version': 'v1.30',
        }),
      ),
    );
    expect(e.message).toBe(
      'pods "h" is forbidden: violates PodSecurity "baseline:v1.30": host namespaces (hostNetwork=true)',
    );
  });

  it('privileged (no labels) admits anything', async () => {
    const a = attrs('CREATE', 'pods', pod('p', [{ name: 'c', securityContext: { privileged: true } }]));
    await podSecurityPlugin.validate!(a, store({}));
    expect(a.warnings).toEqual([]);
  });

  it('the baseline checks, in upstream order', () => {
    const spec = {
      hostPID: true,
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
      securityContext: { sysctls: [{ name: 'kernel.msgmax' }], seccompProfile: { type: 'Unconfined' } },
      containers: [
        {
          name: 'a',
          ports: [{ containerPort: 80, hostPort: 8080 }],
          securityContext: {
            privileged: true,
            capabilities: { add: ['NET_ADMIN', 'CHOWN'] },
            procMount: 'Unmasked',
          },
        },
        {
          name: 'b',
          securityContext: {
            seLinuxOptions: { type: 'spc_t', user: 'root' },
            appArmorProfile: { type: 'Unconfined' },
          },
        },
      ],
    };
    expect(forbiddenDetail(evaluatePod('baseline', {}, spec))).toBe(
      [
        'forbidden AppArmor profile (container "b" must not set AppArmor profile type to "Unconfined")',
        'non-default capabilities (container "a" must not include "NET_ADMIN" in securityContext.capabilities.add)',
        'host namespaces (hostPID=true)',
        'hostPath volumes (volume "host")',
        'hostPort (container "a" uses hostPort 8080)',
        'privileged (container "a" must not set securityContext.privileged=true)',
        'procMount (container "a" must not set securityContext.procMount to "Unmasked")',
        'seLinuxOptions (container "b" set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set)',
        'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
        'forbidden sysctls (kernel.msgmax)',
      ].join(', '),
    );
  });

  it('restricted replaces the baseline capability, volume and seccomp checks with its own', () => {
    const spec = {
      volumes: [
        { name: 'host', hostPath: { path: '/' } },
        { name: 'data', nfs: { server: 'x', path: '/' } },
      ],
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0 },
      containers: [
        {
          name: 'a',
          securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'], add: ['SYS_TIME'] },
          },
        },
      ],
    };
    expect(forbiddenDetail(evaluatePod('restricted', {}, spec))).toBe(
      'unrestricted capabilities (container "a" must not include "SYS_TIME" in securityContext.capabilities.add), restricted volume types (volumes "host", "data" use restricted volume types "hostPath", "nfs"), runAsUser=0 (pod must not set runAsUser=0)',
    );
  });

  it('a version label pins the checks of that release', () => {
    const spec = {
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 0,
        sysctls: [{ name: 'net.ipv4.tcp_keepalive_time' }],
      },
      containers: [
        {
          name: 'a',
          securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['SYS_TIME'] } },
        },
      ],
    };
    // v1.18: no seccomp, capabilities or runAsUser checks of restricted yet (baseline's capabilities check runs)
    expect(forbiddenDetail(evaluatePod('restricted', {}, spec, 'v1.18'))).toBe(
      'non-default capabilities (container "a" must not include "SYS_TIME" in securityContext.capabilities.add), forbidden sysctls (net.ipv4.tcp_keepalive_time)',
    );
    // v1.22 brings the capabilities check, v1.19 seccomp; v1.29 allows the keepalive sysctls; v1.23 runAsUser
    expect(evaluatePod('restricted', {}, spec, 'v1.22').map((r) => r.reason)).toEqual([
      'forbidden sysctls',
      'unrestricted capabilities',
      'seccompProfile',
    ]);
    expect(evaluatePod('restricted', {}, spec, 'v1.29').map((r) => r.reason)).toEqual([
      'unrestricted capabilities',
      'runAsUser=0',
      'seccompProfile',
    ]);
    expect(evaluatePod('restricted', {}, spec, 'latest')).toEqual(
      evaluatePod('restricted', {}, spec, 'v1.33'),
    );
    // Windows pods are exempt from the Linux-only restricted checks from v1.25 on
    const windows = {
      os: { name: 'windows' },
      securityContext: { runAsNonRoot: true },
      containers: [{ name: 'w' }],
    };
    expect(evaluatePod('restricted', {}, windows, 'v1.24').map((r) => r.reason)).toEqual([
      'allowPrivilegeEscalation != false',
      'unrestricted capabilities',
      'seccompProfile',
    ]);
    expect(evaluatePod('restricted', {}, windows, 'v1.25')).toEqual([]);
  });

  it('pod updates are evaluated only when an image, a seccomp annotation or an ephemeral container changes', () => {
    const base = pod('p', [{ name: 'a', image: 'busybox' }]);
    const withSpec = (spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
      ...base,
      metadata: { ...base.metadata, ...(annotations ? { annotations } : {}) },
      spec: { ...(base['spec'] as object), ...spec },
    });
    expect(isSignificantPodUpdate(withSpec({ activeDeadlineSeconds: 5 }), base)).toBe(false);
    expect(isSignificantPodUpdate(withSpec({}, { team: 'x' }), base)).toBe(false);
    expect(isSignificantPodUpdate(withSpec({ containers: [{ name: 'a', image: 'alpine' }] }), base)).toBe(
      true,
    );
    expect(
      isSignificantPodUpdate(
        withSpec({}, { 'container.seccomp.security.alpha.kubernetes.io/a': 'unconfined' }),
        base,
      ),
    ).toBe(true);
    expect(
      isSignificantPodUpdate(withSpec({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] }), base),
    ).toBe(true);
  });

  it('a Deployment template is warned about, never refused', async () => {
    const deploy = {
      metadata: { name: 'web', namespace: 'ns' },
      spec: { template: { metadata: {}, spec: { containers: [{ name: 'nginx' }] } } },
    };
    const a = attrs('CREATE', 'deployments', deploy, { group: 'apps' });
    await podSecurityPlugin.validate!(a, store({ 'pod-security.kubernetes.io/enforce': 'restricted' }));
    expect(a.warnings).toEqual([`would violate PodSecurity "restricted:latest": ${RESTRICTED_NGINX}`]);
  });

  it('namespace labels must be valid levels and versions', async () => {
    expect(policyFromLabels({ 'pod-security.kubernetes.io/enforce': 'strict' }).policy.enforce.level).toBe(
      'restricted',
    );
    const a = attrs('UPDATE', 'namespaces', ns({ 'pod-security.kubernetes.io/warn-version': 'v2' }), {
      namespace: '',
      name: 'ns',
      oldObject: ns({}),
    });
    const e = await rejection(podSecurityPlugin.validate!(a, new MemoryStore()));
    expect(e.message).toBe(
      'Namespace "ns" is invalid: metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "v2": must be "latest" or "v1.x"',
    );
  });

  it('tightening enforce warns about the pods already in the namespace', async () => {
    const s = new MemoryStore()
      .put('', 'pods', nginx())
      .put('', 'pods', { ...nginx(), metadata: { name: 'nginx-2', namespace: 'ns' } });
    const a = attrs('UPDATE', 'namespaces', ns({ 'pod-security.kubernetes.io/enforce': 'restricted' }), {
      namespace: '',
      name: 'ns',
      oldObject: ns({}),
    });
    await podSecurityPlugin.validate!(a, s);
    expect(a.warnings).toEqual([
      'existing pods in namespace "ns" violate the new PodSecurity enforce level "restricted:latest"',
      'nginx (and 1 other pod): allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    ]);
  });
});
