// Pod status as upstream's kubelet reports it: phase, conditions and container statuses from what runs here.
import type {
  ContainerState,
  ContainerStatus,
  Pod,
  PodCondition,
  PodStatus,
} from 'kubernetes-types/core/v1.js';
import { rfc3339 } from '../util/objects.js';
import { isRestartableInitContainer } from './sidecar.js';

/** What the kubelet knows about one container of a pod. */
export interface ContainerView {
  name: string;
  /** The image as the runtime reports it (`docker.io/kubemu/hello:v1`), or the spec's before it is resolved. */
  image: string;
  imageID: string;
  containerID?: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  started: boolean;
  restartCount: number;
}

export interface PodView {
  pod: Pod;
  hostIP: string;
  podIP?: string;
  startTime?: string;
  /** IP allocated and volumes set up: upstream's sandbox. */
  sandboxReady: boolean;
  initContainers: ContainerView[];
  containers: ContainerView[];
  /** spec.ephemeralContainers that the kubelet has seen (`kubectl debug`) */
  ephemeralContainers?: ContainerView[];
  /** The pod will never run a container again (terminated on deletion). */
  terminal?: boolean;
  now: number;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/**
 * upstream's getPhase (pkg/kubelet/kubelet_pods.go). Sidecars (init containers with restartPolicy Always) keep the pod
 * Pending until started, count as running while they run, and never make a pod Succeeded or Failed by exiting.
 */
export function podPhase(
  pod: Pod,
  init: ContainerView[],
  containers: ContainerView[],
  terminal = false,
): PodPhase {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const spec of pod.spec?.initContainers ?? []) {
    const cs = init.find((c) => c.name === spec.name);
    if (isRestartableInitContainer(spec)) {
      if (!cs) {
        pendingSidecars++;
        unknown++;
      } else if (cs.state.running) {
        if (!cs.started) pendingSidecars++;
        running++;
      } else if (cs.state.terminated) {
        // an exited sidecar does not count towards the phase
      } else if (cs.state.waiting) {
        if (!cs.lastState.terminated) {
          pendingSidecars++;
          waiting++;
        }
      } else {
        pendingSidecars++;
        unknown++;
      }
      continue;
    }
    if (!cs) pendingInit++;
    else if (cs.state.running) pendingInit++;
    else if (cs.state.terminated) {
      if (cs.state.terminated.exitCode !== 0) failedInit++;
    } else if (cs.state.waiting) {
      if (cs.lastState.terminated) {
        if (cs.lastState.terminated.exitCode !== 0) failedInit++;
      } else pendingInit++;
    } else pendingInit++;
  }
  for (const spec of pod.spec?.containers ?? []) {
    const cs = containers.find((c) => c.name === spec.name);
    if (!cs) unknown++;
    else if (cs.state.running) running++;
    else if (cs.state.terminated) {
      stopped++;
      if (cs.state.terminated.exitCode === 0) succeeded++;
    } else if (cs.state.waiting) {
      if (cs.lastState.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  // A sidecar restarting after the pod was initialized (a main container ran) does not make it Pending again.
  const initialized = containers.some((c) => c.state.running || c.state.terminated || c.lastState.terminated);
  if (pendingInit > 0 || (pendingSidecars > 0 && !initialized) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

const names = (list: string[]): string => `[${list.join(' ')}]`;

function readyConditions(
  pod: Pod,
  containers: ContainerView[],
  phase: PodPhase,
): { status: 'True' | 'False'; reason?: string; message?: string } {
  if (phase === 'Succeeded') return { status: 'False', reason: 'PodCompleted' };
  if (phase === 'Failed') return { status: 'False', reason: 'PodFailed' };
  const unknown: string[] = [];
  const unready: string[] = [];
  // sidecars count like main containers (upstream's GenerateContainersReadyCondition)
  for (const spec of [
    ...(pod.spec?.initContainers ?? []).filter(isRestartableInitContainer),
    ...(pod.spec?.containers ?? []),
  ]) {
    const cs = containers.find((c) => c.name === spec.name);
    if (!cs) unknown.push(spec.name);
    else if (!cs.ready) unready.push(spec.name);
  }
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${names(unknown)}`);
  if (unready.length) messages.push(`containers with unready status: ${names(unready)}`);
  if (messages.length) return { status: 'False', reason: 'ContainersNotReady', message: messages.join(', ') };
  return { status: 'True' };
}

/** upstream's GeneratePodInitializedCondition: regular init containers succeeded, sidecars started. */
function initializedCondition(
  pod: Pod,
  init: ContainerView[],
  containers: ContainerView[],
  phase: PodPhase,
): { status: 'True' | 'False'; reason?: string; message?: string } {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const spec of pod.spec?.initContainers ?? []) {
    const cs = init.find((c) => c.name === spec.name);
    if (!cs) unknown.push(spec.name);
    else if (isRestartableInitContainer(spec) ? !cs.started : !cs.ready) incomplete.push(spec.name);
  }
  if (phase === 'Succeeded' && unknown.length === 0) return { status: 'True', reason: 'PodCompleted' };
  // a main container has run: the pod was initialized, even while a sidecar restarts
  if (containers.some((c) => c.state.running || c.state.terminated)) return { status: 'True' };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${names(unknown)}`);
  if (incomplete.length) messages.push(`containers with incomplete status: ${names(incomplete)}`);
  if (messages.length)
    return { status: 'False', reason: 'ContainersNotInitialized', message: messages.join(', ') };
  return { status: 'True' };
}

/** Keeps lastTransitionTime when a condition's status did not change. */
function condition(
  old: PodCondition[] | undefined,
  type: string,
  c: { status: 'True' | 'False'; reason?: string; message?: string },
  now: number,
): PodCondition {
  const prev = old?.find((o) => o.type === type);
  const lastTransitionTime =
    prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(now);
  return {
    type,
    status: c.status,
    lastTransitionTime,
    ...(c.reason ? { reason: c.reason } : {}),
    ...(c.message ? { message: c.message } : {}),
  };
}

export function containerStatus(v: ContainerView): ContainerStatus {
  return {
    name: v.name,
    state: v.state,
    lastState: v.lastState,
    ready: v.ready,
    restartCount: v.restartCount,
    image: v.image,
    imageID: v.imageID,
    ...(v.containerID ? { containerID: v.containerID } : {}),
    started: v.started,
  };
}

/** The whole status the kubelet writes; fields it does not own (qosClass, nominatedNodeName…) are carried over. */
export function computePodStatus(view: PodView): PodStatus {
  const { pod, now } = view;
  const old = pod.status;
  const phase = podPhase(pod, view.initContainers, view.containers, view.terminal);
  const ready = readyConditions(pod, [...view.initContainers, ...view.containers], phase);
  const scheduled = old?.conditions?.find((c) => c.type === 'PodScheduled');
  const conditions: PodCondition[] = [
    condition(
      old?.conditions,
      'PodReadyToStartContainers',
      { status: view.sandboxReady ? 'True' : 'False' },
      now,
    ),
    condition(
      old?.conditions,
      'Initialized',
      initializedCondition(pod, view.initContainers, view.containers, phase),
      now,
    ),
    condition(old?.conditions, 'Ready', ready, now),
    condition(old?.conditions, 'ContainersReady', ready, now),
    scheduled ?? condition(undefined, 'PodScheduled', { status: 'True' }, now),
  ];
  // Other writers' conditions (readiness gates, DisruptionTarget…) stay.
  const known = new Set(conditions.map((c) => c.type));
  for (const c of old?.conditions ?? []) if (!known.has(c.type)) conditions.push(c);
  const status: PodStatus = {
    ...old,
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    ...(view.podIP ? { podIP: view.podIP, podIPs: [{ ip: view.podIP }] } : {}),
    ...(view.startTime ? { startTime: view.startTime } : {}),
    containerStatuses: view.containers.map((c) => containerStatus(c)),
  };
  if (view.initContainers.length > 0)
    status.initContainerStatuses = view.initContainers.map((c) => containerStatus(c));
  else delete status.initContainerStatuses;
  if (view.ephemeralContainers && view.ephemeralContainers.length > 0)
    status.ephemeralContainerStatuses = view.ephemeralContainers.map((c) => containerStatus(c));
  return status;
}
