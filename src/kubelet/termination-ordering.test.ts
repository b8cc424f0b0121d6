import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { TerminationOrdering } from './termination-ordering.js';

const spec: PodSpec = {
  initContainers: [
    { name: 'setup', image: 'x' },
    { name: 'proxy', image: 'x', restartPolicy: 'Always' },
    { name: 'logs', image: 'x', restartPolicy: 'Always' },
  ],
  containers: [
    { name: 'app', image: 'x' },
    { name: 'worker', image: 'x' },
  ],
};
const all = new Set(['proxy', 'logs', 'app', 'worker']);

/** records the order in which containers get their turn, terminating each as soon as it does */
async function order(running: Set<string>, exitOrder: string[]): Promise<string[]> {
  const o = new TerminationOrdering(spec, running);
  const turns: string[] = [];
  const waits = [...running].map(async (name) => {
    await o.waitForTurn(name, 10_000);
    turns.push(name);
    if (!exitOrder.includes(name)) o.containerTerminated(name);
  });
  // main containers exit in the given order, one macrotask apart
  for (const name of exitOrder) {
    await new Promise((r) => setTimeout(r, 5));
    o.containerTerminated(name);
  }
  await Promise.all(waits);
  return turns;
}

describe('TerminationOrdering (upstream kuberuntime_termination_order.go)', () => {
  it('main containers go at once; sidecars after every main container, in reverse order', async () => {
    const turns = await order(all, ['worker', 'app']);
    expect(turns.slice(0, 2).sort()).toEqual(['app', 'worker']);
    expect(turns.slice(2)).toEqual(['logs', 'proxy']);
  });

  it('containers that are not running count as terminated already', async () => {
    const turns = await order(new Set(['proxy']), []);
    expect(turns).toEqual(['proxy']);
  });

  it('a sidecar whose main containers never exit gets its turn when its budget runs out', async () => {
    const o = new TerminationOrdering(spec, all);
    await expect(o.waitForTurn('proxy', 50)).resolves.toBeUndefined();
    await expect(o.waitForTurn('logs', 0)).resolves.toBeUndefined();
  });
});
