// Resource arithmetic for scheduling: quantities as numbers, a pod's effective requests as upstream computes them.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { parseQuantity, roundUp } from '../api/schema/quantity.js';

/** Resource name → amount: cpu in millicores, everything else in base units (bytes, pods, devices). */
export type ResourceAmounts = Map<string, number>;

/** upstream's non-zero defaults for scoring pods that request nothing (pkg/scheduler/util DefaultMilliCPURequest…) */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/**
 * A quantity as a number: millicores for cpu (Quantity.MilliValue), base units otherwise (Quantity.Value);
 * both round up as upstream does. Undefined when the string is not a quantity.
 */
export function quantityAmount(resource: string, value: string | number): number | undefined {
  const q = parseQuantity(String(value));
  if (!q) return undefined;
  const scaled = resource === 'cpu' ? { ...q, exp: q.exp + 3 } : q;
  const whole = roundUp(scaled, 0);
  return Number(whole.num) * 10 ** whole.exp;
}

/** a ResourceList (`{cpu: '100m', memory: '64Mi'}`) as amounts; unparsable entries are skipped */
export function resourceAmounts(list: Record<string, string | number> | undefined): ResourceAmounts {
  const out: ResourceAmounts = new Map();
  if (!list) return out;
  for (const [name, value] of Object.entries(list)) {
    const amount = quantityAmount(name, value);
    if (amount !== undefined) out.set(name, amount);
  }
  return out;
}

function add(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

function max(into: ResourceAmounts, from: ResourceAmounts): void {
  for (const [k, v] of from) if (v > (into.get(k) ?? 0)) into.set(k, v);
}

function requestsOf(c: Container): ResourceAmounts {
  return resourceAmounts(c.resources?.requests);
}

/**
 * The pod's effective requests (k8s.io/component-helpers resource.PodRequests): the sum of its containers, or the
 * largest init container if that is more — restartable (sidecar) init containers keep running, so they add to
 * both — plus the pod overhead.
 */
export function podRequests(pod: Pod): ResourceAmounts {
  const reqs: ResourceAmounts = new Map();
  for (const c of pod.spec?.containers ?? []) add(reqs, requestsOf(c));
  const sidecars: ResourceAmounts = new Map();
  const initMax: ResourceAmounts = new Map();
  for (const c of pod.spec?.initContainers ?? []) {
    const own = requestsOf(c);
    let running: ResourceAmounts;
    if (c.restartPolicy === 'Always') {
      add(reqs, own);
      add(sidecars, own);
      running = sidecars;
    } else {
      running = new Map(own);
      add(running, sidecars);
    }
    max(initMax, running);
  }
  max(reqs, initMax);
  add(reqs, resourceAmounts(pod.spec?.overhead));
  return reqs;
}

/**
 * cpu and memory as the scoring plugins see them: a container that requests nothing counts as 100m / 200Mi so
 * that empty pods still spread (upstream GetNonzeroRequests, applied per container).
 */
export function nonZeroRequests(pod: Pod): { milliCPU: number; memory: number } {
  const perContainer = (c: Container): { milliCPU: number; memory: number } => {
    const r = requestsOf(c);
    return {
      milliCPU: r.has('cpu') ? r.get('cpu')! : DEFAULT_MILLI_CPU_REQUEST,
      memory: r.has('memory') ? r.get('memory')! : DEFAULT_MEMORY_REQUEST,
    };
  };
  let milliCPU = 0;
  let memory = 0;
  for (const c of pod.spec?.containers ?? []) {
    const r = perContainer(c);
    milliCPU += r.milliCPU;
    memory += r.memory;
  }
  for (const c of pod.spec?.initContainers ?? []) {
    const r = perContainer(c);
    if (c.restartPolicy === 'Always') {
      milliCPU += r.milliCPU;
      memory += r.memory;
    } else {
      milliCPU = Math.max(milliCPU, r.milliCPU);
      memory = Math.max(memory, r.memory);
    }
  }
  const overhead = resourceAmounts(pod.spec?.overhead);
  return { milliCPU: milliCPU + (overhead.get('cpu') ?? 0), memory: memory + (overhead.get('memory') ?? 0) };
}
