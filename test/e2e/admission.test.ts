// Admission that ships enabled upstream (issue #18), from the user's side: manifests from the Kubernetes docs
// applied with the real kubectl (1.27 and 1.33 where the issue asks), against one cluster — a ResourceQuota
// refusing the pod that exceeds it, a LimitRange defaulting a container's resources, PriorityClasses, the default
// StorageClass and IngressClass, PodSecurity enforce/warn on labelled namespaces, the default ServiceAccount.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const DOCS = resolve(import.meta.dirname, '../fixtures/k8s-docs-examples');
const doc = (name: string): string => resolve(DOCS, name);
const SDK = '/usr/lib/google-cloud-sdk/bin';

let cluster: TestCluster;

const must = (r: Run, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
};
/** a specific kubectl release, as a user with that version has it */
const kubectlAt = (version: string, args: string[]): Promise<Run> =>
  run(`${SDK}/kubectl.${version}`, ['--kubeconfig', cluster.kubeconfig, ...args], process.env, {
    timeoutMs: 30_000,
  });
const jsonpath = async (args: string[], path: string): Promise<string> =>
  must(await cluster.kubectl(['get', ...args, '-o', `jsonpath=${path}`]), `get ${args.join(' ')}`);

/** a namespace as a user makes it, once its `default` ServiceAccount is there (the controller makes it) */
async function namespace(name: string): Promise<void> {
  must(await cluster.kubectl(['create', 'namespace', name]), `create namespace ${name}`);
  await cluster.waitFor(`ServiceAccount ${name}/default`, async () => {
    const r = await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', name]);
    return r.code === 0;
  });
}

describe('admission', () => {
  beforeAll(async () => {
    cluster = await upCluster({ nodes: 1 });
  });
  afterAll(async () => {
    await cluster?.down();
  });

  it('every namespace has a default ServiceAccount, pods run as it, and a pod naming a missing one is refused', async () => {
    await namespace('sa-demo');
    must(await cluster.kubectl(['run', 'web', '--image=nginx', '-n', 'sa-demo']), 'kubectl run');
    expect(await jsonpath(['pod', 'web', '-n', 'sa-demo'], '{.spec.serviceAccountName}')).toBe('default');
    // deleted, it comes back
    must(await cluster.kubectl(['delete', 'serviceaccount', 'default', '-n', 'sa-demo']), 'delete sa');
    await cluster.waitFor('the default ServiceAccount back', async () => {
      const r = await cluster.kubectl(['get', 'serviceaccount', 'default', '-n', 'sa-demo']);
      return r.code === 0;
    });
    const refused = await cluster.kubectl([
      ...['run', 'robot', '--image=nginx', '-n', 'sa-demo'],
      '--overrides={"spec":{"serviceAccountName":"robot"}}',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      'Error from server (Forbidden): pods "robot" is forbidden: error looking up service account sa-demo/robot: serviceaccount "robot" not found',
    );
  });

  it('a ResourceQuota from the docs charges status.used and refuses the pod that exceeds it, with kubectl 1.27 and 1.33', async () => {
    const ns = 'quota-mem-cpu-example';
    await namespace(ns);
    must(
      await cluster.kubectl(['apply', '-f', doc('admin__resource__quota-mem-cpu.yaml'), '-n', ns]),
      'quota',
    );
    // the controller fills in status; until then the quota is not enforced, as upstream
    await cluster.waitFor('quota status', async () => {
      const used = await jsonpath(['resourcequota', 'mem-cpu-demo', '-n', ns], '{.status.used}');
      return used.includes('requests.memory');
    });
    must(
      await cluster.kubectl(['apply', '-f', doc('admin__resource__quota-mem-cpu-pod.yaml'), '-n', ns]),
      'pod',
    );
    const quota = await cluster.getJson<{
      status: { hard: Record<string, string>; used: Record<string, string> };
    }>(['get', 'resourcequota', 'mem-cpu-demo', '-n', ns]);
    expect(quota.status.hard).toEqual({
      'limits.cpu': '2',
      'limits.memory': '2Gi',
      'requests.cpu': '1',
      'requests.memory': '1Gi',
    });
    expect(quota.status.used).toEqual({
      'limits.cpu': '800m',
      'limits.memory': '800Mi',
      'requests.cpu': '400m',
      'requests.memory': '600Mi',
    });
    // a server-side dry run is checked but charges nothing
    const dry = await cluster.kubectl([
      ...['run', 'dry', '--image=nginx', '-n', ns, '--dry-run=server'],
      '--overrides={"spec":{"containers":[{"name":"dry","image":"nginx","resources":{"requests":{"cpu":"100m","memory":"100Mi"},"limits":{"cpu":"100m","memory":"100Mi"}}}]}}',
    ]);
    must(dry, 'dry run');
    expect(
      await jsonpath(['resourcequota', 'mem-cpu-demo', '-n', ns], '{.status.used.requests\\.memory}'),
    ).toBe('600Mi');
    for (const version of ['1.27', '1.33']) {
      const refused = await kubectlAt(version, [
        'create',
        '-f',
        doc('admin__resource__quota-mem-cpu-pod-2.yaml'),
        '-n',
        ns,
      ]);
      expect(refused.code, `kubectl ${version}`).not.toBe(0);
      expect(refused.stderr, `kubectl ${version}`).toContain(
        'pods "quota-mem-cpu-demo-2" is forbidden: exceeded quota: mem-cpu-demo, requested: requests.memory=700Mi, used: requests.memory=600Mi, limited: requests.memory=1Gi',
      );
      expect(refused.stderr).toContain('Error from server (Forbidden)');
    }
    // a container that says nothing about cpu and memory cannot be counted against the quota
    const unbounded = await cluster.kubectl(['run', 'unbounded', '--image=nginx', '-n', ns]);
    expect(unbounded.stderr).toContain(
      'pods "unbounded" is forbidden: failed quota: mem-cpu-demo: must specify limits.cpu for: unbounded; must specify limits.memory for: unbounded; must specify requests.cpu for: unbounded; must specify requests.memory for: unbounded',
    );
    // `kubectl create quota` (a protobuf body from kubectl 1.33) and `kubectl explain`
    for (const version of ['1.27', '1.33']) {
      const name = `object-counts-${version.replace('.', '')}`;
      must(
        await kubectlAt(version, ['create', 'quota', name, '--hard=configmaps=10,secrets=5', '-n', ns]),
        `kubectl ${version} create quota`,
      );
      expect(await jsonpath(['quota', name, '-n', ns], '{.spec.hard.configmaps} {.spec.hard.secrets}')).toBe(
        '10 5',
      );
    }
    const explained = must(await cluster.kubectl(['explain', 'resourcequota.spec.hard']), 'explain');
    expect(explained).toContain('KIND:       ResourceQuota');
    const table = must(await cluster.kubectl(['get', 'quota', 'mem-cpu-demo', '-n', ns]), 'get quota');
    expect(table.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'REQUEST', 'LIMIT', 'AGE']);
    expect(table).toContain('requests.cpu: 400m/1, requests.memory: 600Mi/1Gi');
    expect(table).toContain('limits.cpu: 800m/2, limits.memory: 800Mi/2Gi');
    // the controller gives back what a delete frees: describe shows it, and the second pod now fits
    must(
      await cluster.kubectl(['delete', 'pod', 'quota-mem-cpu-demo', '-n', ns, '--grace-period=0', '--force']),
      'delete',
    );
    await cluster.waitFor('usage freed', async () => {
      const described = must(
        await cluster.kubectl(['describe', 'quota', 'mem-cpu-demo', '-n', ns]),
        'describe',
      );
      return /requests\.memory\s+0\s+1Gi/.test(described) ? described : undefined;
    });
    must(
      await cluster.kubectl(['apply', '-f', doc('admin__resource__quota-mem-cpu-pod-2.yaml'), '-n', ns]),
      'pod 2',
    );
    expect(
      await jsonpath(['resourcequota', 'mem-cpu-demo', '-n', ns], '{.status.used.requests\\.memory}'),
    ).toBe('700Mi');
  });

  it('a LimitRange from the docs gives a container its default memory request and limit', async () => {
    const ns = 'default-mem-example';
    await namespace(ns);
    must(
      await cluster.kubectl(['apply', '-f', doc('admin__resource__memory-defaults.yaml'), '--namespace', ns]),
      'lr',
    );
    must(
      await cluster.kubectl([
        'apply',
        '-f',
        doc('admin__resource__memory-defaults-pod.yaml'),
        '--namespace',
        ns,
      ]),
      'pod',
    );
    const yaml = must(
      await cluster.kubectl(['get', 'pod', 'default-mem-demo', '--output=yaml', '--namespace', ns]),
      'get pod -o yaml',
    );
    expect(yaml).toMatch(/resources:\n\s+limits:\n\s+memory: 512Mi\n\s+requests:\n\s+memory: 256Mi/);
    expect(
      await jsonpath(
        ['pod', 'default-mem-demo', '-n', ns],
        "{.metadata.annotations['kubernetes\\.io/limit-ranger']}",
      ),
    ).toBe(
      'LimitRanger plugin set: memory request for container default-mem-demo-ctr; memory limit for container default-mem-demo-ctr',
    );
    const table = must(await cluster.kubectl(['get', 'limits', '-n', ns]), 'get limits');
    expect(table.split('\n')[0].split(/\s+/)).toEqual(['NAME', 'CREATED', 'AT']);
    // a limit above what the LimitRange allows is refused with upstream's words
    must(
      await cluster.kubectl(['apply', '-n', ns, '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'v1',
          kind: 'LimitRange',
          metadata: { name: 'mem-max' },
          spec: { limits: [{ type: 'Container', max: { memory: '1Gi' } }] },
        }),
      }),
      'max',
    );
    const big = await cluster.kubectl([
      ...['run', 'big', '--image=nginx', '-n', ns],
      '--overrides={"spec":{"containers":[{"name":"big","image":"nginx","resources":{"limits":{"memory":"2Gi"}}}]}}',
    ]);
    expect(big.stderr).toContain(
      'pods "big" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi',
    );
  });

  it('PriorityClasses: the system ones exist, a pod gets its class value, an unknown class is refused', async () => {
    const table = must(await cluster.kubectl(['get', 'priorityclass']), 'get priorityclass');
    expect(table.split('\n')[0].split(/\s+/)).toEqual([
      'NAME',
      'VALUE',
      'GLOBAL-DEFAULT',
      'AGE',
      'PREEMPTIONPOLICY',
    ]);
    expect(table).toMatch(/system-cluster-critical\s+2000000000\s+false/);
    expect(table).toMatch(/system-node-critical\s+2000001000\s+false/);
    must(await cluster.kubectl(['apply', '-f', doc('priorityclass__low-priority-class.yaml')]), 'apply pc');
    must(
      await cluster.kubectl([
        'run',
        'placeholder',
        '--image=nginx',
        '--overrides={"spec":{"priorityClassName":"placeholder"}}',
      ]),
      'run with class',
    );
    expect(await jsonpath(['pod', 'placeholder'], '{.spec.priority} {.spec.preemptionPolicy}')).toBe(
      '-1000 PreemptLowerPriority',
    );
    const unknown = await cluster.kubectl([
      'run',
      'nope',
      '--image=nginx',
      '--overrides={"spec":{"priorityClassName":"nope"}}',
    ]);
    expect(unknown.stderr).toContain('pods "nope" is forbidden: no PriorityClass with name nope was found');
    for (const version of ['1.27', '1.33']) {
      const made = await kubectlAt(version, [
        'create',
        'priorityclass',
        `high-${version.replace('.', '')}`,
        '--value=1000',
      ]);
      must(made, `kubectl ${version} create priorityclass`);
    }
    const reserved = await cluster.kubectl(['create', 'priorityclass', 'system-mine', '--value=10']);
    expect(reserved.stderr).toContain(
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class",
    );
  });

  it('the default StorageClass shows as (default); an Ingress without a class gets the default IngressClass', async () => {
    must(await cluster.kubectl(['apply', '-f', doc('storage__storageclass-low-latency.yaml')]), 'apply sc');
    let table = must(await cluster.kubectl(['get', 'sc']), 'get sc');
    expect(table.split('\n')[0].split(/\s+/)).toEqual([
      'NAME',
      'PROVISIONER',
      'RECLAIMPOLICY',
      'VOLUMEBINDINGMODE',
      'ALLOWVOLUMEEXPANSION',
      'AGE',
    ]);
    expect(table).toMatch(
      /^low-latency\s+csi-driver\.example-vendor\.example\s+Retain\s+WaitForFirstConsumer\s+true/m,
    );
    must(
      await cluster.kubectl([
        ...['patch', 'storageclass', 'low-latency', '-p'],
        '{"metadata": {"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}',
      ]),
      'patch sc',
    );
    table = must(await cluster.kubectl(['get', 'storageclass']), 'get storageclass');
    expect(table).toMatch(/^low-latency \(default\)\s+csi-driver/m);

    await cluster.waitFor('the kubemu IngressClass', async () => {
      const r = await cluster.kubectl(['get', 'ingressclass', 'kubemu']);
      return r.code === 0;
    });
    must(
      await cluster.kubectl(['create', 'ingress', 'demo', '--rule=demo.example/=web:80']),
      'create ingress',
    );
    expect(await jsonpath(['ingress', 'demo'], '{.spec.ingressClassName}')).toBe('kubemu');
  });

  it('PodSecurity: warn on a labelled namespace answers with a warning, enforce refuses with upstream message', async () => {
    const restrictedDetail =
      'allowPrivilegeEscalation != false (container "nginx" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "nginx" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "nginx" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "nginx" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")';
    await namespace('pss-warn');
    must(
      await cluster.kubectl([
        ...['label', '--overwrite', 'ns', 'pss-warn'],
        'pod-security.kubernetes.io/enforce=baseline',
        'pod-security.kubernetes.io/warn=restricted',
      ]),
      'label',
    );
    const warned = await cluster.kubectl([
      'apply',
      '-n',
      'pss-warn',
      '-f',
      doc('security__example-baseline-pod.yaml'),
    ]);
    must(warned, 'apply baseline pod');
    expect(warned.stderr).toContain(
      `Warning: would violate PodSecurity "restricted:latest": ${restrictedDetail}`,
    );
    expect(warned.stdout).toContain('pod/nginx created');

    await namespace('pss-enforce');
    must(
      await cluster.kubectl(['label', 'ns', 'pss-enforce', 'pod-security.kubernetes.io/enforce=restricted']),
      'label',
    );
    for (const version of ['1.27', '1.33']) {
      const refused = await kubectlAt(version, [
        'apply',
        '-n',
        'pss-enforce',
        '-f',
        doc('security__example-baseline-pod.yaml'),
      ]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain(
        `pods "nginx" is forbidden: violates PodSecurity "restricted:latest": ${restrictedDetail}`,
      );
    }
    // tightening a namespace warns about the pods already there
    const tightened = await cluster.kubectl([
      ...['label', '--overwrite', 'ns', 'pss-warn'],
      'pod-security.kubernetes.io/enforce=restricted',
    ]);
    must(tightened, 'relabel');
    expect(tightened.stderr).toContain(
      'Warning: existing pods in namespace "pss-warn" violate the new PodSecurity enforce level "restricted:latest"',
    );
    expect(tightened.stderr).toContain(
      'Warning: nginx: allowPrivilegeEscalation != false, unrestricted capabilities, runAsNonRoot != true, seccompProfile',
    );
    const bad = await cluster.kubectl([
      'label',
      '--overwrite',
      'ns',
      'pss-warn',
      'pod-security.kubernetes.io/enforce=strict',
    ]);
    expect(bad.stderr).toContain(
      'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
  });
});
