// core/v1 Event ⇄ events.k8s.io/v1 Event: one stored object, two field namings (upstream's events/v1 conversion).
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';

/** [core/v1 field, events.k8s.io/v1 field] */
const FIELD_PAIRS: readonly [keyof CoreEvent, keyof EventsEvent][] = [
  ['metadata', 'metadata'],
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['involvedObject', 'regarding'],
  ['related', 'related'],
  ['message', 'note'],
  ['type', 'type'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];

export function coreEventToEventsV1(ev: CoreEvent): EventsEvent {
  const out: Record<string, unknown> = { apiVersion: 'events.k8s.io/v1', kind: 'Event' };
  const src = ev as unknown as Record<string, unknown>;
  for (const [core, events] of FIELD_PAIRS) if (src[core] !== undefined) out[events] = src[core];
  return out as unknown as EventsEvent;
}

export function eventsV1ToCoreEvent(ev: EventsEvent): CoreEvent {
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Event' };
  const src = ev as unknown as Record<string, unknown>;
  for (const [core, events] of FIELD_PAIRS) if (src[events] !== undefined) out[core] = src[events];
  // involvedObject is required in core/v1
  out.involvedObject ??= {};
  return out as unknown as CoreEvent;
}
