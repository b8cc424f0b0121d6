// convertObject: between the served versions of one resource — HPA autoscaling/v2 ⇄ v1, Event core/v1 ⇄ events.k8s.io/v1.
import { errors } from '../errors.js';
import type { KubeObject } from '../request.js';
import type { HorizontalPodAutoscaler as HpaV1 } from 'kubernetes-types/autoscaling/v1.js';
import type { HorizontalPodAutoscaler as HpaV2 } from 'kubernetes-types/autoscaling/v2.js';
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import { hpaV1ToV2, hpaV2ToV1 } from './autoscaling.js';
import { coreEventToEventsV1, eventsV1ToCoreEvent } from './events.js';

type Converter = (obj: KubeObject) => KubeObject;
const conv =
  <A, B>(fn: (a: A) => B): Converter =>
  (o) =>
    fn(o as unknown as A) as unknown as KubeObject;

const CONVERTERS: ReadonlyMap<string, Converter> = new Map([
  ['HorizontalPodAutoscaler autoscaling/v2>autoscaling/v1', conv<HpaV2, HpaV1>(hpaV2ToV1)],
  ['HorizontalPodAutoscaler autoscaling/v1>autoscaling/v2', conv<HpaV1, HpaV2>(hpaV1ToV2)],
  ['Event v1>events.k8s.io/v1', conv<CoreEvent, EventsEvent>(coreEventToEventsV1)],
  ['Event events.k8s.io/v1>v1', conv<EventsEvent, CoreEvent>(eventsV1ToCoreEvent)],
]);

/**
 * Convert between served versions of one resource. Identity (the same object) when the versions match;
 * otherwise a new object sharing unchanged subtrees with `obj` (do not mutate either afterwards).
 */
export function convertObject(obj: KubeObject, toApiVersion: string): KubeObject {
  if (obj.apiVersion === toApiVersion) return obj;
  const fn = CONVERTERS.get(`${obj.kind} ${obj.apiVersion}>${toApiVersion}`);
  if (!fn)
    throw errors.internal(
      `no conversion for ${obj.kind ?? '<no kind>'} from ${obj.apiVersion ?? '<no apiVersion>'} to ${toApiVersion}`,
    );
  return fn(obj);
}

export { METRIC_SPECS_ANNOTATION, METRIC_STATUSES_ANNOTATION, CONDITIONS_ANNOTATION } from './autoscaling.js';
export { toInternalForm } from './internal-form.js';
