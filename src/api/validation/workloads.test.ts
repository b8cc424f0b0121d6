// Validation of the workload and storage kinds (#18): the docs' manifests validate clean, and the rules a user meets
// first fail with upstream's field paths and messages.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cronScheduleError } from './cron.js';
import { createErrors, updateErrors } from './test-fixtures.js';

const EXAMPLES = fileURLToPath(new URL('../../../test/fixtures/k8s-docs-examples/', import.meta.url));

/** the docs manifest's object of `kind` */
function example(file: string, kind: string): any {
  const docs = parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8')).map((d) => d.toJS());
  return structuredClone(docs.find((d) => d?.kind === kind));
}

const create = createErrors;
const update = updateErrors;

const job = () => {
  const j = example('controllers__job.yaml', 'Job');
  // what the registry's create does before validating: the generated selector
  const uid = '00000000-0000-0000-0000-000000000001';
  j.spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  j.spec.template.metadata = {
    labels: {
      'batch.kubernetes.io/controller-uid': uid,
      'controller-uid': uid,
      'batch.kubernetes.io/job-name': j.metadata.name,
      'job-name': j.metadata.name,
    },
  };
  return j;
};
const cronJob = () => example('application__job__cronjob.yaml', 'CronJob');
const statefulSet = () => example('application__web__web.yaml', 'StatefulSet');
const daemonSet = () => example('controllers__daemonset.yaml', 'DaemonSet');
const rc = () => example('controllers__replication.yaml', 'ReplicationController');
const pv = () => example('pods__storage__pv-volume.yaml', 'PersistentVolume');
const pvc = () => example('pods__storage__pv-claim.yaml', 'PersistentVolumeClaim');
const pdb = () => example('policy__zookeeper-pod-disruption-budget-minavailable.yaml', 'PodDisruptionBudget');

describe('the docs manifests', () => {
  it.each([
    ['Job', job],
    ['CronJob', cronJob],
    ['StatefulSet (its containers mount the claim templates)', statefulSet],
    ['DaemonSet', daemonSet],
    ['ReplicationController', rc],
    ['PersistentVolume', pv],
    ['PersistentVolumeClaim', pvc],
    ['PodDisruptionBudget', pdb],
  ])('%s validates clean', (_name, make) => {
    expect(create(make())).toEqual([]);
  });
});

describe('Job', () => {
  it('takes restartPolicy OnFailure or Never only (the pod default Always is refused)', () => {
    const j = job();
    delete j.spec.template.spec.restartPolicy;
    expect(create(j)).toEqual([
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
  });

  it('refuses negative counts and an Indexed job without completions', () => {
    const j = job();
    j.spec.parallelism = -1;
    j.spec.backoffLimit = -2;
    j.spec.completionMode = 'Indexed';
    delete j.spec.completions;
    j.spec.parallelism = -1;
    const e = create(j);
    expect(e).toContain('spec.parallelism: Invalid value: -1: must be greater than or equal to 0');
    expect(e).toContain('spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0');
  });

  it('needs completions for Indexed jobs; backoffLimitPerIndex needs Indexed', () => {
    const j = job();
    j.spec.completionMode = 'Indexed';
    expect(create(j)).toEqual([]);
    const k = job();
    k.spec.backoffLimitPerIndex = 1;
    expect(create(k)).toEqual([
      'spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode',
    ]);
    const m = job();
    m.spec.completionMode = 'Bogus';
    expect(create(m)).toEqual([
      'spec.completionMode: Unsupported value: "Bogus": supported values: "NonIndexed", "Indexed"',
    ]);
  });

  it('a selector given without manualSelector must be the generated one', () => {
    const j = job();
    j.spec.selector = { matchLabels: { app: 'x' } };
    // the registry added the generated labels to the template (generateSelector), keeping the user's selector
    j.spec.template.metadata.labels.app = 'x';
    expect(create(j)).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"app":"x"}}: `selector` not auto-generated',
    ]);
    j.spec.manualSelector = true;
    expect(create(j)).toEqual([]);
  });

  it('keeps its template, selector and completions once created', () => {
    const e = update(job(), (o) => {
      o.spec.template.spec.containers[0].image = 'perl:5';
      o.spec.completions = 3;
    });
    expect(
      e.some((l) => l.startsWith('spec.template: Invalid value: ') && l.endsWith('field is immutable')),
    ).toBe(true);
    expect(e).toContain('spec.completions: Invalid value: 3: field is immutable');
  });

  it('a suspended job that never started may change its pod template scheduling directives', () => {
    const j = job();
    j.spec.suspend = true;
    expect(update(j, (o) => (o.spec.template.spec.nodeSelector = { disk: 'ssd' }))).toEqual([]);
  });
});

describe('CronJob', () => {
  it('rejects a schedule cron cannot parse, with robfig/cron messages', () => {
    const c = cronJob();
    c.spec.schedule = '* * * *';
    expect(create(c)).toEqual([
      'spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: [* * * *]',
    ]);
    c.spec.schedule = '61 * * * *';
    expect(create(c)).toEqual([
      'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
    ]);
  });

  it('refuses TZ in the schedule and unknown time zones', () => {
    const c = cronJob();
    c.spec.schedule = 'TZ=UTC * * * * *';
    expect(create(c)).toEqual([
      'spec.schedule: Invalid value: "TZ=UTC * * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
    const d = cronJob();
    d.spec.timeZone = 'Mars/Olympus';
    expect(create(d)).toEqual([
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ]);
    d.spec.timeZone = 'Europe/Berlin';
    expect(create(d)).toEqual([]);
  });

  it('refuses an unknown concurrencyPolicy and a selector in the job template', () => {
    const c = cronJob();
    c.spec.concurrencyPolicy = 'Sometimes';
    c.spec.jobTemplate.spec.selector = { matchLabels: { a: 'b' } };
    expect(create(c)).toEqual([
      'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", "Forbid", "Replace"',
      'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: `selector` will be auto-generated',
    ]);
  });
});

describe('cron syntax (robfig/cron ParseStandard)', () => {
  it.each([
    ['* * * * *', undefined],
    ['*/5 1-3 1,15 JAN-MAR mon-fri', undefined],
    ['@hourly', undefined],
    ['@every 1h30m', undefined],
    ['CRON_TZ=Europe/Paris 0 0 * * *', undefined],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['TZ=Nowhere/Land * * * * *', 'provided bad location Nowhere/Land: unknown time zone Nowhere/Land'],
  ])('%s', (schedule, error) => {
    expect(cronScheduleError(schedule)).toBe(error);
  });
});

describe('StatefulSet', () => {
  it('forbids updates to fields other than the mutable ones, in upstream words', () => {
    expect(update(statefulSet(), (o) => (o.spec.serviceName = 'other'))).toEqual([
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
    expect(update(statefulSet(), (o) => (o.spec.replicas = 5))).toEqual([]);
  });

  it('needs a selector that selects its template, and an Always restart policy', () => {
    const s = statefulSet();
    s.spec.selector.matchLabels = { app: 'other' };
    s.spec.template.spec.restartPolicy = 'Never';
    s.spec.podManagementPolicy = 'Sometimes';
    expect(create(s)).toEqual([
      "spec.podManagementPolicy: Invalid value: \"Sometimes\": must be 'OrderedReady' or 'Parallel'",
      'spec.template.metadata.labels: Invalid value: {"app":"nginx"}: `selector` does not match template `labels`',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
  });

  it('validates its claim templates as PersistentVolumeClaims', () => {
    const s = statefulSet();
    delete s.spec.volumeClaimTemplates[0].spec.resources;
    expect(create(s)).toEqual(['spec.volumeClaimTemplates[0].spec.resources[storage]: Required value']);
  });
});

describe('DaemonSet', () => {
  it('a rolling update needs one of maxUnavailable and maxSurge, not both', () => {
    const d = daemonSet();
    d.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } };
    expect(create(d)).toEqual([
      'spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0',
    ]);
    d.spec.updateStrategy.rollingUpdate = { maxUnavailable: 1, maxSurge: '10%' };
    expect(create(d)).toEqual([
      'spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: "10%": may not be set when maxUnavailable is non-zero',
    ]);
  });

  it('keeps its selector', () => {
    expect(update(daemonSet(), (o) => (o.spec.selector.matchLabels.extra = 'x'))).toContain(
      'spec.selector: Invalid value: {"matchLabels":{"name":"fluentd-elasticsearch","extra":"x"}}: field is immutable',
    );
  });
});

describe('ReplicationController', () => {
  it('needs a template its selector selects', () => {
    const r = rc();
    r.spec.selector = { app: 'web' };
    expect(create(r)).toEqual([
      'spec.template.metadata.labels: Invalid value: {"app":"nginx"}: `selector` does not match template `labels`',
    ]);
  });
});

describe('PersistentVolume', () => {
  it('needs exactly one volume source, a storage capacity and access modes', () => {
    const p = pv();
    delete p.spec.hostPath;
    delete p.spec.accessModes;
    p.spec.capacity = { storage: '0' };
    expect(create(p)).toEqual([
      'spec.accessModes: Required value',
      'spec.capacity[storage]: Invalid value: "0": must be greater than zero',
      'spec: Required value: must specify a volume type',
    ]);
    const q = pv();
    q.spec.nfs = { server: 'nfs.example', path: '/exports' };
    expect(create(q)).toEqual(['spec.nfs: Forbidden: may not specify more than 1 volume type']);
  });

  it('keeps its volume source', () => {
    expect(update(pv(), (o) => (o.spec.hostPath.path = '/mnt/other'))).toEqual([
      'spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation',
    ]);
    expect(update(pv(), (o) => (o.spec.capacity.storage = '20Gi'))).toEqual([]);
  });
});

describe('PersistentVolumeClaim', () => {
  it('needs access modes and a storage request', () => {
    const c = pvc();
    c.spec.accessModes = ['ReadWriteSometimes'];
    delete c.spec.resources;
    expect(create(c)).toEqual([
      'spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"',
      'spec.resources[storage]: Required value',
    ]);
  });

  it('is immutable after creation but for volumeName (once) and, when bound, a larger request', () => {
    expect(update(pvc(), (o) => (o.spec.accessModes = ['ReadWriteMany']))).toEqual([
      'spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
    ]);
    expect(update(pvc(), (o) => (o.spec.volumeName = 'task-pv-volume'))).toEqual([]);
  });
});

describe('PodDisruptionBudget', () => {
  it('takes minAvailable or maxUnavailable, not both', () => {
    const p = pdb();
    p.spec.maxUnavailable = '50%';
    expect(create(p)).toEqual([
      'spec: Invalid value: {"minAvailable":2,"selector":{"matchLabels":{"app.kubernetes.io/name":"zookeeper"}},"maxUnavailable":"50%"}: minAvailable and maxUnavailable cannot be both set',
    ]);
    const q = pdb();
    q.spec.minAvailable = '120%';
    expect(create(q)).toEqual(['spec.minAvailable: Invalid value: "120%": must not be greater than 100%']);
  });
});

describe('node and storage kinds', () => {
  it('RuntimeClass handler is a DNS label and immutable', () => {
    const rc = {
      apiVersion: 'node.k8s.io/v1',
      kind: 'RuntimeClass',
      metadata: { name: 'gvisor' },
      handler: 'Run_SC',
    };
    expect(create(rc)[0]).toMatch(
      /^handler: Invalid value: "Run_SC": a lowercase RFC 1123 label must consist of/,
    );
    rc.handler = 'runsc';
    expect(create(rc)).toEqual([]);
    expect(update(rc, (o) => (o.handler = 'kata'))).toEqual([
      'handler: Invalid value: "kata": field is immutable',
    ]);
  });

  it('VolumeAttachment needs exactly one source and keeps its spec', () => {
    const va = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'VolumeAttachment',
      metadata: { name: 'va-1' },
      spec: { attacher: 'csi.example.com', nodeName: 'node-1', source: {} as Record<string, string> },
    };
    expect(create(va)).toEqual([
      'spec.source: Required value: must specify exactly one of inlineVolumeSpec and persistentVolumeName',
    ]);
    va.spec.source = { persistentVolumeName: 'pv-1' };
    expect(create(va)).toEqual([]);
    expect(update(va, (o) => (o.spec.nodeName = 'node-2'))[0]).toMatch(
      /^spec: Invalid value: .*field is immutable$/,
    );
  });

  it('CSINode drivers need a node ID and unique names', () => {
    const node = {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSINode',
      metadata: { name: 'node-1' },
      spec: {
        drivers: [
          { name: 'csi.example.com', nodeID: '' },
          { name: 'csi.example.com', nodeID: 'n1' },
        ],
      },
    };
    expect(create(node)).toEqual([
      'spec.drivers[0].nodeID: Required value',
      'spec.drivers[1].name: Duplicate value: "csi.example.com"',
    ]);
  });

  it('CSIDriver names are DNS subdomains (storage validation ValidateCSIDriverName = NameIsDNSSubdomain)', () => {
    const d = (name: string) => ({
      apiVersion: 'storage.k8s.io/v1',
      kind: 'CSIDriver',
      metadata: { name },
      spec: {},
    });
    expect(create(d(`${'a'.repeat(64)}.io`))).toEqual([]);
    expect(create(d('Driver.IO'))).toEqual([
      expect.stringMatching(/^metadata.name: Invalid value: "Driver.IO": a lowercase RFC 1123 subdomain/),
    ]);
  });
});
