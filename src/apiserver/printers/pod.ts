// The Pod printer: upstream's printPod, including its STATUS reasoning (init containers, sidecars, Completed/NotReady,
// Terminating) and RESTARTS with the time of the last restart.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/request.js';
import { ageColumn, column, doc, nameColumn, wide } from './columns.js';
import { since } from './format.js';
import type { KindPrinter, PrintContext, TableCell, TableRowCondition } from './types.js';

/** node.NodeUnreachablePodReason: the node controller's reason for pods on a lost node */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

const columns = [
  nameColumn(),
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column(
    'Restarts',
    'string',
    'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  ),
  ageColumn(),
  column('IP', 'string', doc('core/v1.PodStatus', 'podIP'), wide),
  column('Node', 'string', doc('core/v1.PodSpec', 'nodeName'), wide),
  column('Nominated Node', 'string', doc('core/v1.PodStatus', 'nominatedNodeName'), wide),
  column('Readiness Gates', 'string', doc('core/v1.PodSpec', 'readinessGates'), wide),
];

const time = (t: string | undefined): number => (t ? Date.parse(t) || 0 : 0);

function conditionTrue(pod: Pod, type: string): boolean {
  const c = pod.status?.conditions?.find((x) => x.type === type);
  return c?.status === 'True';
}

/** The READY, STATUS and RESTARTS cells, exactly as upstream computes them. */
export function podStatusCells(pod: Pod, now: number): { ready: string; status: string; restarts: string } {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = spec.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;

  const phase = status.phase ?? '';
  let reason: string = status.reason || phase;

  for (const c of status.conditions ?? []) {
    if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initSpecs = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  const isSidecar = (name: string): boolean => initSpecs.get(name)?.restartPolicy === 'Always';
  for (const c of spec.initContainers ?? []) if (c.restartPolicy === 'Always') totalContainers++;

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const c = initStatuses[i];
    restarts += c.restartCount ?? 0;
    const finished = time(c.lastState?.terminated?.finishedAt);
    if (c.lastState?.terminated && finished > lastRestart) lastRestart = finished;
    if (isSidecar(c.name)) {
      restartableInitRestarts += c.restartCount ?? 0;
      if (c.lastState?.terminated && finished > lastRestartableInitRestart)
        lastRestartableInitRestart = finished;
    }
    const terminated = c.state?.terminated;
    const waiting = c.state?.waiting;
    if (terminated && terminated.exitCode === 0) continue;
    if (isSidecar(c.name) && c.started === true) {
      if (c.ready) readyContainers++;
      continue;
    }
    if (terminated) {
      // initialization failed
      if (!terminated.reason) {
        reason = terminated.signal
          ? `Init:Signal:${terminated.signal}`
          : `Init:ExitCode:${terminated.exitCode}`;
      } else {
        reason = `Init:${terminated.reason}`;
      }
    } else if (waiting?.reason && waiting.reason !== 'PodInitializing') {
      reason = `Init:${waiting.reason}`;
    } else {
      reason = `Init:${i}/${spec.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(pod, 'Initialized')) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    let errorReason = '';
    const statuses = status.containerStatuses ?? [];
    // last to first, so the first container's state has the final word, as upstream
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i];
      restarts += c.restartCount ?? 0;
      const finished = time(c.lastState?.terminated?.finishedAt);
      if (c.lastState?.terminated && finished > lastRestart) lastRestart = finished;
      const waiting = c.state?.waiting;
      const terminated = c.state?.terminated;
      if (waiting?.reason) {
        reason = waiting.reason;
      } else if (terminated) {
        if (terminated.reason) reason = terminated.reason;
        else if (terminated.signal) reason = `Signal:${terminated.signal}`;
        else reason = `ExitCode:${terminated.exitCode}`;
        if (terminated.exitCode !== 0) errorReason = reason;
      } else if (c.ready && c.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // back to "Running" if a container is still running
    if (reason === 'Completed') {
      if (hasRunning && conditionTrue(pod, 'Ready')) reason = 'Running';
      else if (errorReason) reason = errorReason;
      else if (hasRunning) reason = 'NotReady';
    }
  }

  const deleting = Boolean(pod.metadata?.deletionTimestamp);
  if (deleting && status.reason === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== 0)
    restartsText = `${restarts} (${since(new Date(lastRestart).toISOString(), now)} ago)`;

  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsText };
}

function cells(obj: KubeObject, ctx: PrintContext): TableCell[] {
  const pod = obj as Pod;
  const { ready, status, restarts } = podStatusCells(pod, ctx.now);
  const podIP = pod.status?.podIPs?.[0]?.ip || pod.status?.podIP || '<none>';
  const nodeName = pod.spec?.nodeName || '<none>';
  const nominated = pod.status?.nominatedNodeName || '<none>';
  let readinessGates = '<none>';
  const gates = pod.spec?.readinessGates ?? [];
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const gate of gates) {
      const c = pod.status?.conditions?.find((x) => x.type === gate.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  return [
    pod.metadata?.name ?? '',
    ready,
    status,
    restarts,
    since(pod.metadata?.creationTimestamp, ctx.now),
    podIP,
    nodeName,
    nominated,
    readinessGates,
  ];
}

function conditions(obj: KubeObject): TableRowCondition[] | undefined {
  switch ((obj as Pod).status?.phase) {
    case 'Succeeded':
      return [
        {
          type: 'Completed',
          status: 'True',
          reason: 'Succeeded',
          message: 'The pod has completed successfully.',
        },
      ];
    case 'Failed':
      return [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];
    default:
      return undefined;
  }
}

export const podPrinter: KindPrinter = { columns, cells, conditions };
