// Table printers of Jobs, CronJobs, StatefulSets, DaemonSets, ControllerRevisions, ReplicationControllers and
// PodTemplates, ported from upstream's pkg/printers/internalversion/printers.go (1.33).
import type { ControllerRevision, DaemonSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { PodTemplate, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { CONTAINERS_DOC, IMAGES_DOC, ageColumn, column, nameColumn, wide, doc } from './columns.js';
import { humanDuration } from './duration.js';
import { formatLabelSelector, formatLabels, layoutContainerCells, since } from './format.js';
import { objectAge as age, objectName as name, printer } from './printer.js';

/** printBoolPtr */
const boolPtr = (v: boolean | undefined): string => (v === undefined ? '<unset>' : v ? 'True' : 'False');

const hasCondition = (job: Job, type: string): boolean =>
  (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** printJob's STATUS: the first that holds of Complete, Failed, Terminating, Suspended, FailureTarget, … */
function jobStatus(job: Job): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: Job, now: number): string {
  const start = job.status?.startTime ? Date.parse(job.status.startTime) : NaN;
  if (Number.isNaN(start)) return '';
  const end = job.status?.completionTime ? Date.parse(job.status.completionTime) : now;
  return humanDuration(end - start);
}

export const jobPrinter = printer<Job>(
  [
    nameColumn(),
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', doc('batch/v1.JobStatus', 'succeeded')),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
    column('Selector', 'string', doc('batch/v1.JobSpec', 'selector'), wide),
  ],
  (job, ctx) => {
    const [names, images] = layoutContainerCells(job.spec?.template?.spec?.containers);
    return [
      name(job),
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, ctx.now),
      age(job, ctx),
      names,
      images,
      formatLabelSelector(job.spec?.selector),
    ];
  },
);

export const cronJobPrinter = printer<CronJob>(
  [
    nameColumn(),
    column('Schedule', 'string', doc('batch/v1.CronJobSpec', 'schedule')),
    column('Timezone', 'string', doc('batch/v1.CronJobSpec', 'timeZone')),
    column('Suspend', 'boolean', doc('batch/v1.CronJobSpec', 'suspend')),
    column('Active', 'integer', doc('batch/v1.CronJobStatus', 'active')),
    column('Last Schedule', 'string', doc('batch/v1.CronJobStatus', 'lastScheduleTime')),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
    column('Selector', 'string', doc('batch/v1.JobSpec', 'selector'), wide),
  ],
  (cj, ctx) => {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = layoutContainerCells(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime;
    return [
      name(cj),
      cj.spec?.schedule ?? '',
      cj.spec?.timeZone ?? '<none>',
      boolPtr(cj.spec?.suspend),
      cj.status?.active?.length ?? 0,
      last ? since(last, ctx.now) : '<none>',
      age(cj, ctx),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
);

export const statefulSetPrinter = printer<StatefulSet>(
  [
    nameColumn(),
    column('Ready', 'string', 'Number of the pod with ready state'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
  ],
  (sts, ctx) => {
    const [names, images] = layoutContainerCells(sts.spec?.template?.spec?.containers);
    return [
      name(sts),
      `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`,
      age(sts, ctx),
      names,
      images,
    ];
  },
);

export const daemonSetPrinter = printer<DaemonSet>(
  [
    nameColumn(),
    column('Desired', 'integer', doc('apps/v1.DaemonSetStatus', 'desiredNumberScheduled')),
    column('Current', 'integer', doc('apps/v1.DaemonSetStatus', 'currentNumberScheduled')),
    column('Ready', 'integer', doc('apps/v1.DaemonSetStatus', 'numberReady')),
    column('Up-to-date', 'integer', doc('apps/v1.DaemonSetStatus', 'updatedNumberScheduled')),
    column('Available', 'integer', doc('apps/v1.DaemonSetStatus', 'numberAvailable')),
    column('Node Selector', 'string', doc('core/v1.PodSpec', 'nodeSelector')),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
    column('Selector', 'string', doc('apps/v1.DaemonSetSpec', 'selector'), wide),
  ],
  (ds, ctx) => {
    const [names, images] = layoutContainerCells(ds.spec?.template?.spec?.containers);
    const s = ds.status;
    return [
      name(ds),
      s?.desiredNumberScheduled ?? 0,
      s?.currentNumberScheduled ?? 0,
      s?.numberReady ?? 0,
      s?.updatedNumberScheduled ?? 0,
      s?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, ctx),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
);

/** formatResourceName with kind: `statefulset.apps/web`, `<none>` without a controller */
function controllerOf(meta: ObjectMeta | undefined): string {
  const ref = (meta?.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash < 0 ? '' : ref.apiVersion.slice(0, slash);
  const groupKind = group ? `${ref.kind}.${group}` : ref.kind;
  return groupKind ? `${groupKind.toLowerCase()}/${ref.name}` : ref.name;
}

export const controllerRevisionPrinter = printer<ControllerRevision>(
  [
    nameColumn(),
    column('Controller', 'string', 'Controller of the object'),
    column('Revision', 'string', doc('apps/v1.ControllerRevision', 'revision')),
    ageColumn(),
  ],
  (cr, ctx) => [name(cr), controllerOf(cr.metadata), cr.revision ?? 0, age(cr, ctx)],
);

export const replicationControllerPrinter = printer<ReplicationController>(
  [
    nameColumn(),
    column('Desired', 'integer', doc('core/v1.ReplicationControllerSpec', 'replicas')),
    column('Current', 'integer', doc('core/v1.ReplicationControllerStatus', 'replicas')),
    column('Ready', 'integer', doc('core/v1.ReplicationControllerStatus', 'readyReplicas')),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DOC, wide),
    column('Images', 'string', IMAGES_DOC, wide),
    column('Selector', 'string', doc('core/v1.ReplicationControllerSpec', 'selector'), wide),
  ],
  (rc, ctx) => {
    const [names, images] = layoutContainerCells(rc.spec?.template?.spec?.containers);
    return [
      name(rc),
      rc.spec?.replicas ?? 1,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(rc, ctx),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
);

export const podTemplatePrinter = printer<PodTemplate>(
  [
    nameColumn(),
    column('Containers', 'string', CONTAINERS_DOC),
    column('Images', 'string', IMAGES_DOC),
    column('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  (pt) => {
    const [names, images] = layoutContainerCells(pt.template?.spec?.containers);
    return [name(pt), names, images, formatLabels(pt.template?.metadata?.labels)];
  },
);
