// Evaluator.prepareCandidate: carry out a preemption — each victim marked DisruptionTarget (PreemptionByScheduler)
// and deleted, an event on it, and pods of lower priority nominated to the node sent looking elsewhere.
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { keyOf, referenceTo, type EventRecorder, type KubeClient } from '../client/index.js';
import type { Logger } from '../util/logger.js';
import { rfc3339 } from '../util/objects.js';
import type { Nominator } from './nominator.js';
import { PREEMPTION_BY_SCHEDULER, podPriority, type Candidate } from './preemption.js';

export interface PrepareCandidateDeps {
  client: KubeClient;
  recorder: EventRecorder;
  nominator: Nominator;
  log: Logger;
  nowMs: number;
}

const isNotFound = (err: unknown): boolean => (err as { code?: number }).code === 404;

export async function prepareCandidate(
  deps: PrepareCandidateDeps,
  preemptor: Pod,
  candidate: Candidate,
): Promise<void> {
  const { client, recorder, log } = deps;
  const schedulerName = preemptor.spec?.schedulerName ?? 'default-scheduler';
  await Promise.all(
    candidate.victims.map(async (victim) => {
      const namespace = victim.metadata!.namespace!;
      const name = victim.metadata!.name!;
      const current = victim.status?.conditions?.find((c) => c.type === 'DisruptionTarget');
      const condition: PodCondition = {
        type: 'DisruptionTarget',
        status: 'True',
        reason: PREEMPTION_BY_SCHEDULER,
        message: `${schedulerName}: preempting to accommodate a higher priority pod`,
        lastTransitionTime:
          current?.status === 'True' && current.lastTransitionTime
            ? current.lastTransitionTime
            : rfc3339(deps.nowMs),
      };
      try {
        if (
          current?.status !== 'True' ||
          current.reason !== condition.reason ||
          current.message !== condition.message
        )
          await client.pods.patch(name, { status: { conditions: [condition] } }, 'strategic', {
            namespace,
            subresource: 'status',
          });
        await client.pods.delete(name, { namespace });
      } catch (err) {
        // gone already: the room is made all the same
        if (isNotFound(err)) return;
        throw err;
      }
      log.info({ victim: keyOf(victim), preemptor: keyOf(preemptor), node: candidate.node }, 'preempted');
      recorder.event(
        referenceTo(victim, 'v1', 'Pod'),
        'Normal',
        'Preempted',
        `Preempted by pod ${preemptor.metadata?.uid ?? ''} on node ${candidate.node}`,
        'Preempting',
      );
    }),
  );
  // lower-priority pods waiting for this node will not fit there any more: clear their nomination
  const priority = podPriority(preemptor);
  for (const p of deps.nominator.nominatedOn(candidate.node)) {
    if (podPriority(p) >= priority || keyOf(p) === keyOf(preemptor)) continue;
    deps.nominator.remove(keyOf(p));
    try {
      await client.pods.patch(p.metadata!.name!, { status: { nominatedNodeName: null } }, 'strategic', {
        namespace: p.metadata!.namespace!,
        subresource: 'status',
      });
    } catch (err) {
      if (!isNotFound(err)) log.warn({ err, pod: keyOf(p) }, 'could not clear the nominated node');
    }
  }
}
