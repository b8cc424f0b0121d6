// The workload and storage kinds of issue #18 from a user's side: the Kubernetes docs' manifests (Job `pi`, CronJob
// `hello`, StatefulSet `web`, DaemonSet `fluentd-elasticsearch`, ReplicationController `nginx`, PV/PVC, PDB) and
// small manifests for the kinds the docs have no example file for, driven with the real kubectl 1.27 and 1.33
// against one `kubemu up` cluster: create, get (upstream's table columns, and -o wide), describe, apply
// (client- and server-side), patch (strategic, merge, json), delete, and one invalid manifest per kind refused
// with upstream's message. Their controllers come in later issues: these objects are stored, validated,
// defaulted and printed.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../helpers/apiserver.js';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'];
const EXAMPLES = join(ROOT, 'test/fixtures/k8s-docs-examples');
const example = (file: string): string => readFileSync(join(EXAMPLES, file), 'utf8');

let c: TestCluster;

beforeAll(async () => {
  for (const v of VERSIONS)
    expect(existsSync(join(SDK, `kubectl.${v}`)), `kubectl ${v} must be installed`).toBe(true);
  c = await upCluster({ nodes: 1 });
}, 180_000);

afterAll(async () => {
  await c?.down();
});

interface KindCase {
  /** what `kubectl get` takes: `jobs`, `statefulsets.apps` */
  resource: string;
  name: string;
  namespaced: boolean;
  /** the manifest a user applies */
  manifest: () => string;
  /** upstream's columns, as kubectl prints them (`-o wide` adds the rest) */
  columns: string[];
  wide: string[];
  /** a manifest upstream refuses, and the words of its refusal */
  invalid: () => string;
  message: string;
}

const headerOf = (stdout: string): string[] =>
  stdout
    .split('\n')[0]
    .trim()
    .split(/\s{2,}/);

/** the docs manifest of one kind out of a multi-document file (web.yaml also has the headless Service) */
const onlyKind = (yaml: string, kind: string): string =>
  yaml
    .split(/^---$/m)
    .filter((doc) => new RegExp(`^kind: ${kind}$`, 'm').test(doc))
    .join('\n---\n');

const CASES = (ns: string): KindCase[] => [
  {
    resource: 'jobs',
    name: 'pi',
    namespaced: true,
    manifest: () => example('controllers__job.yaml'),
    columns: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    invalid: () =>
      example('controllers__job.yaml')
        .replace('name: pi\n', 'name: pi-bad\n')
        .replace('      restartPolicy: Never\n', ''),
    message:
      'The Job "pi-bad" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
  },
  {
    resource: 'cronjobs',
    name: 'hello',
    namespaced: true,
    manifest: () => example('application__job__cronjob.yaml'),
    columns: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    invalid: () =>
      example('application__job__cronjob.yaml')
        .replace('name: hello', 'name: hello-bad')
        .replace('"* * * * *"', '"61 * * * *"'),
    message:
      'The CronJob "hello-bad" is invalid: spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
  },
  {
    resource: 'statefulsets.apps',
    name: 'web',
    namespaced: true,
    manifest: () => onlyKind(example('application__web__web.yaml'), 'StatefulSet'),
    columns: ['NAME', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES'],
    invalid: () =>
      onlyKind(example('application__web__web.yaml'), 'StatefulSet')
        .replace('name: web\n', 'name: web-bad\n')
        .replace('  serviceName: "nginx"\n', '  serviceName: "nginx"\n  podManagementPolicy: Sometimes\n'),
    message: `The StatefulSet "web-bad" is invalid: spec.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`,
  },
  {
    resource: 'daemonsets.apps',
    name: 'fluentd-elasticsearch',
    namespaced: true,
    // the docs put it in kube-system; each kubectl version's run uses its own namespace
    manifest: () =>
      example('controllers__daemonset.yaml').replace('namespace: kube-system', `namespace: ${ns}`),
    columns: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    invalid: () =>
      example('controllers__daemonset.yaml')
        .replace('namespace: kube-system', `namespace: ${ns}`)
        .replace('name: fluentd-elasticsearch\n  namespace', 'name: fluentd-bad\n  namespace')
        .replace(
          'spec:\n  selector:',
          'spec:\n  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate:\n      maxUnavailable: 0\n  selector:',
        ),
    message:
      'The DaemonSet "fluentd-bad" is invalid: spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
  },
  {
    resource: 'replicationcontrollers',
    name: 'nginx',
    namespaced: true,
    manifest: () => example('controllers__replication.yaml'),
    columns: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    wide: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
    invalid: () =>
      example('controllers__replication.yaml')
        .replace('name: "nginx",\n  },', 'name: "nginx-bad",\n  },')
        .replace('selector: {\n      app: "nginx",', 'selector: {\n      app: "web",'),
    message:
      'The ReplicationController "nginx-bad" is invalid: spec.template.metadata.labels: Invalid value:',
  },
  {
    resource: 'persistentvolumes',
    name: 'task-pv-volume',
    namespaced: false,
    manifest: () => example('pods__storage__pv-volume.yaml'),
    columns: [
      'NAME',
      'CAPACITY',
      'ACCESS MODES',
      'RECLAIM POLICY',
      'STATUS',
      'CLAIM',
      'STORAGECLASS',
      'VOLUMEATTRIBUTESCLASS',
      'REASON',
      'AGE',
    ],
    wide: ['VOLUMEMODE'],
    invalid: () =>
      example('pods__storage__pv-volume.yaml')
        .replace('name: task-pv-volume', 'name: task-pv-bad')
        .replace('  hostPath:\n    path: /mnt/data\n', ''),
    message:
      'The PersistentVolume "task-pv-bad" is invalid: spec: Required value: must specify a volume type',
  },
  {
    resource: 'persistentvolumeclaims',
    name: 'task-pv-claim',
    namespaced: true,
    manifest: () => example('pods__storage__pv-claim.yaml'),
    columns: [
      'NAME',
      'STATUS',
      'VOLUME',
      'CAPACITY',
      'ACCESS MODES',
      'STORAGECLASS',
      'VOLUMEATTRIBUTESCLASS',
      'AGE',
    ],
    wide: ['VOLUMEMODE'],
    invalid: () =>
      example('pods__storage__pv-claim.yaml')
        .replace('name: task-pv-claim', 'name: task-pv-bad')
        .replace('  resources:\n    requests:\n      storage: 3Gi\n', ''),
    message: 'The PersistentVolumeClaim "task-pv-bad" is invalid: spec.resources[storage]: Required value',
  },
  {
    resource: 'poddisruptionbudgets.policy',
    name: 'zk-pdb',
    namespaced: true,
    manifest: () => example('policy__zookeeper-pod-disruption-budget-minavailable.yaml'),
    columns: ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE'],
    wide: [],
    invalid: () =>
      example('policy__zookeeper-pod-disruption-budget-minavailable.yaml')
        .replace('name: zk-pdb', 'name: zk-pdb-bad')
        .replace('  minAvailable: 2\n', '  minAvailable: 2\n  maxUnavailable: 1\n'),
    message: 'minAvailable and maxUnavailable cannot be both set',
  },
  // the kinds the docs show no manifest file for: the smallest object the API reference describes
  {
    resource: 'podtemplates',
    name: 'nginx-template',
    namespaced: true,
    manifest: () =>
      'apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: nginx-template\ntemplate:\n  metadata:\n    labels:\n      app: nginx\n  spec:\n    containers:\n    - name: nginx\n      image: nginx:1.14.2\n',
    columns: ['NAME', 'CONTAINERS', 'IMAGES', 'POD LABELS'],
    wide: [],
    invalid: () =>
      'apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: bad-template\ntemplate:\n  spec:\n    containers:\n    - name: nginx\n',
    message: 'The PodTemplate "bad-template" is invalid: template.spec.containers[0].image: Required value',
  },
  {
    resource: 'controllerrevisions.apps',
    name: 'web-1',
    namespaced: true,
    manifest: () =>
      'apiVersion: apps/v1\nkind: ControllerRevision\nmetadata:\n  name: web-1\nrevision: 1\ndata:\n  spec:\n    template:\n      metadata:\n        labels:\n          app: nginx\n',
    columns: ['NAME', 'CONTROLLER', 'REVISION', 'AGE'],
    wide: [],
    invalid: () =>
      'apiVersion: apps/v1\nkind: ControllerRevision\nmetadata:\n  name: web-bad\nrevision: -1\ndata: {}\n',
    message:
      'The ControllerRevision "web-bad" is invalid: revision: Invalid value: -1: must be greater than or equal to 0',
  },
  {
    resource: 'runtimeclasses.node.k8s.io',
    name: 'myclass',
    namespaced: false,
    // concepts/containers/runtime-class
    manifest: () =>
      'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: myclass\nhandler: myconfiguration\n',
    columns: ['NAME', 'HANDLER', 'AGE'],
    wide: [],
    invalid: () =>
      'apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata:\n  name: badclass\nhandler: My_Config\n',
    message:
      'The RuntimeClass "badclass" is invalid: handler: Invalid value: "My_Config": a lowercase RFC 1123 label must consist of',
  },
  {
    resource: 'csidrivers.storage.k8s.io',
    name: 'hostpath.csi.k8s.io',
    namespaced: false,
    manifest: () =>
      'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: hostpath.csi.k8s.io\nspec:\n  attachRequired: false\n  podInfoOnMount: true\n  volumeLifecycleModes:\n  - Persistent\n  - Ephemeral\n',
    columns: [
      'NAME',
      'ATTACHREQUIRED',
      'PODINFOONMOUNT',
      'STORAGECAPACITY',
      'TOKENREQUESTS',
      'REQUIRESREPUBLISH',
      'MODES',
      'AGE',
    ],
    wide: [],
    invalid: () =>
      'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: bad.csi.k8s.io\nspec:\n  fsGroupPolicy: Sometimes\n',
    message:
      'The CSIDriver "bad.csi.k8s.io" is invalid: spec.fsGroupPolicy: Unsupported value: "Sometimes": supported values: "File", "None", "ReadWriteOnceWithFSType"',
  },
  {
    resource: 'csinodes.storage.k8s.io',
    name: 'node-x',
    namespaced: false,
    manifest: () =>
      'apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata:\n  name: node-x\nspec:\n  drivers:\n  - name: hostpath.csi.k8s.io\n    nodeID: node-x\n    topologyKeys:\n    - topology.hostpath.csi/node\n',
    columns: ['NAME', 'DRIVERS', 'AGE'],
    wide: [],
    invalid: () =>
      'apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata:\n  name: node-bad\nspec:\n  drivers:\n  - name: hostpath.csi.k8s.io\n    nodeID: ""\n',
    message: 'The CSINode "node-bad" is invalid: spec.drivers[0].nodeID: Required value',
  },
  {
    resource: 'volumeattachments.storage.k8s.io',
    name: 'va-x',
    namespaced: false,
    manifest: () =>
      'apiVersion: storage.k8s.io/v1\nkind: VolumeAttachment\nmetadata:\n  name: va-x\nspec:\n  attacher: hostpath.csi.k8s.io\n  nodeName: node-x\n  source:\n    persistentVolumeName: task-pv-volume\n',
    columns: ['NAME', 'ATTACHER', 'PV', 'NODE', 'ATTACHED', 'AGE'],
    wide: [],
    invalid: () =>
      'apiVersion: storage.k8s.io/v1\nkind: VolumeAttachment\nmetadata:\n  name: va-bad\nspec:\n  attacher: hostpath.csi.k8s.io\n  nodeName: node-x\n  source: {}\n',
    message:
      'The VolumeAttachment "va-bad" is invalid: spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
  },
];

describe.each(VERSIONS)('kubectl %s', (version) => {
  const bin = join(SDK, `kubectl.${version}`);
  const ns = `kinds-${version.replace('.', '')}`;
  const k = (args: string[], input?: string): Promise<Run> =>
    run(bin, ['--kubeconfig', c.kubeconfig, ...args], process.env, input === undefined ? {} : { input });
  const ok = (r: Run): Run => {
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    return r;
  };

  beforeAll(async () => {
    ok(await k(['create', 'namespace', ns]));
  });

  afterAll(async () => {
    await k(['delete', 'namespace', ns, '--wait=false']);
  });

  describe.each(CASES(ns).map((kc) => [kc.resource, kc] as const))('%s', (_resource, kc) => {
    const nsArgs = kc.namespaced ? ['-n', ns] : [];
    const labels = async (): Promise<Record<string, string>> =>
      (
        JSON.parse(ok(await k(['get', kc.resource, kc.name, ...nsArgs, '-o', 'json'])).stdout) as {
          metadata: { labels?: Record<string, string> };
        }
      ).metadata.labels ?? {};

    it('is created from its manifest and listed with upstream columns (and -o wide)', async () => {
      ok(await k(['create', ...nsArgs, '-f', '-'], kc.manifest()));
      const table = ok(await k(['get', kc.resource, ...nsArgs]));
      expect(headerOf(table.stdout)).toEqual(kc.columns);
      // a row of its own among the kind's (cluster-scoped kinds list others': the StatefulSet's claims get PVs)
      const row = new RegExp(`^${kc.name.replace(/\./g, '\\.')}\\s`);
      expect(
        table.stdout
          .split('\n')
          .slice(1)
          .filter((l) => row.test(l)),
      ).toHaveLength(1);
      const wide = ok(await k(['get', kc.resource, kc.name, ...nsArgs, '-o', 'wide']));
      expect(headerOf(wide.stdout)).toEqual([...kc.columns, ...kc.wide]);
    });

    it('is described without error', async () => {
      const r = ok(await k(['describe', kc.resource, kc.name, ...nsArgs]));
      expect(r.stdout).toMatch(new RegExp(`^Name:\\s+${kc.name.replace(/\./g, '\\.')}$`, 'm'));
    });

    it('is applied client-side and server-side', async () => {
      // the user's manifest with one more label, sent as JSON (kubectl reads either)
      const withLabel = (key: string): string => {
        const obj = parseAllDocuments(kc.manifest())
          .map((d) => d.toJS() as { metadata: { labels?: Record<string, string> } } | null)
          .find((d) => d)!;
        obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [key]: 'yes' };
        return JSON.stringify(obj);
      };
      ok(await k(['apply', ...nsArgs, '-f', '-'], withLabel('client-side')));
      expect(await labels()).toMatchObject({ 'client-side': 'yes' });
      ok(
        await k(
          ['apply', '--server-side', '--force-conflicts', '--field-manager', 'e2e', ...nsArgs, '-f', '-'],
          withLabel('server-side'),
        ),
      );
      expect(await labels()).toMatchObject({ 'server-side': 'yes' });
    });

    it('is patched with strategic, merge and json patches', async () => {
      ok(
        await k([
          'patch',
          kc.resource,
          kc.name,
          ...nsArgs,
          '-p',
          '{"metadata":{"labels":{"strategic":"yes"}}}',
        ]),
      );
      ok(
        await k([
          'patch',
          kc.resource,
          kc.name,
          ...nsArgs,
          '--type',
          'merge',
          '-p',
          '{"metadata":{"labels":{"merge":"yes"}}}',
        ]),
      );
      ok(
        await k([
          'patch',
          kc.resource,
          kc.name,
          ...nsArgs,
          '--type',
          'json',
          '-p',
          '[{"op":"add","path":"/metadata/labels/json","value":"yes"}]',
        ]),
      );
      expect(await labels()).toMatchObject({ strategic: 'yes', merge: 'yes', json: 'yes' });
    });

    it('refuses an invalid manifest with upstream words', async () => {
      const r = await k(['create', ...nsArgs, '-f', '-'], kc.invalid());
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(kc.message);
    });

    it('is deleted', async () => {
      ok(await k(['delete', kc.resource, kc.name, ...nsArgs]));
      const r = await k(['get', kc.resource, kc.name, ...nsArgs]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('NotFound');
    });
  });

  it('keeps a StatefulSet spec but for its mutable fields, and scales it and a ReplicationController', async () => {
    const sts = onlyKind(example('application__web__web.yaml'), 'StatefulSet');
    ok(await k(['create', '-n', ns, '-f', '-'], sts));
    const r = await k(
      ['apply', '-n', ns, '-f', '-'],
      sts.replace('serviceName: "nginx"', 'serviceName: "other"'),
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
    ok(await k(['scale', 'statefulset', 'web', '-n', ns, '--replicas', '3']));
    expect(ok(await k(['get', 'sts', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('3');
    ok(await k(['create', '-n', ns, '-f', '-'], example('controllers__replication.yaml')));
    ok(await k(['scale', 'rc', 'nginx', '-n', ns, '--replicas', '1']));
    expect(ok(await k(['get', 'rc', 'nginx', '-n', ns, '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('1');
    ok(await k(['delete', 'sts/web', 'rc/nginx', '-n', ns]));
  });

  it('explains the new kinds from their OpenAPI schemas', async () => {
    for (const [field, kind] of [
      ['cronjob.spec.timeZone', 'CronJob'],
      ['statefulset.spec.volumeClaimTemplates', 'StatefulSet'],
      ['pvc.spec.accessModes', 'PersistentVolumeClaim'],
      ['pdb.spec.minAvailable', 'PodDisruptionBudget'],
      ['csidriver.spec.attachRequired', 'CSIDriver'],
    ]) {
      const r = ok(await k(['explain', field]));
      expect(r.stdout).toMatch(new RegExp(`^KIND:\\s+${kind}$`, 'm'));
      expect(r.stdout).toContain(`FIELD: ${field.split('.').pop()}`);
    }
  });

  it('selects Jobs by status.successful and shows the generated selector and labels', async () => {
    ok(await k(['create', '-n', ns, '-f', '-'], example('controllers__job.yaml')));
    const job = JSON.parse(ok(await k(['get', 'job', 'pi', '-n', ns, '-o', 'json'])).stdout) as {
      metadata: { uid: string; labels: Record<string, string> };
      spec: Record<string, unknown> & { selector: { matchLabels: Record<string, string> } };
    };
    const uid = job.metadata.uid;
    expect(job.spec.selector.matchLabels).toEqual({ 'batch.kubernetes.io/controller-uid': uid });
    expect(job.metadata.labels).toMatchObject({ 'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi' });
    expect(job.spec).toMatchObject({
      backoffLimit: 4,
      completions: 1,
      parallelism: 1,
      completionMode: 'NonIndexed',
    });
    expect(
      ok(await k(['get', 'jobs', '-n', ns, '--field-selector', 'status.successful=0', '-o', 'name'])).stdout,
    ).toBe('job.batch/pi\n');
    expect(
      ok(await k(['get', 'jobs', '-n', ns, '--field-selector', 'status.successful=1', '-o', 'name'])).stdout,
    ).toBe('');
    ok(await k(['delete', 'job', 'pi', '-n', ns]));
  });
});

describe('kubectl get componentstatuses', () => {
  it('lists the scheduler, controller-manager and storage as healthy, with the deprecation warning', async () => {
    const bin = join(SDK, 'kubectl.1.33');
    const get = (): Promise<Run> => run(bin, ['--kubeconfig', c.kubeconfig, 'get', 'cs'], process.env);
    // the scheduler and controller-manager count as healthy once their watches are open
    const r = await c.waitFor('all components healthy', async () => {
      const out = await get();
      return out.code === 0 &&
        (out.stdout.match(/Healthy/g) ?? []).length === 3 &&
        !/Unhealthy/.test(out.stdout)
        ? out
        : undefined;
    });
    expect(headerOf(r.stdout)).toEqual(['NAME', 'STATUS', 'MESSAGE', 'ERROR']);
    expect(
      r.stdout
        .split('\n')
        .slice(1, 4)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(['scheduler', 'controller-manager', 'etcd-0']);
    expect(r.stderr).toContain('Warning: v1 ComponentStatus is deprecated in v1.19+');
    const create = await run(
      bin,
      ['--kubeconfig', c.kubeconfig, 'create', '--validate=false', '-f', '-'],
      process.env,
      {
        input: 'apiVersion: v1\nkind: ComponentStatus\nmetadata:\n  name: mine\n',
      },
    );
    expect(create.code).not.toBe(0);
    // upstream: Error from server (MethodNotAllowed): error when creating "STDIN": the server does not allow …
    expect(create.stderr).toContain('Error from server (MethodNotAllowed)');
    expect(create.stderr).toContain('the server does not allow this method on the requested resource');
  });
});
