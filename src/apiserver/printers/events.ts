// events.k8s.io/v1 Events seen as core/v1 Events: upstream prints both groups with one printer, through conversion.
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import type { KubeObject } from '../../api/request.js';

export function toCoreEvent(obj: KubeObject): CoreEvent {
  if (obj.apiVersion !== 'events.k8s.io/v1') return obj as unknown as CoreEvent;
  const ev = obj as unknown as EventsEvent;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: ev.metadata ?? {},
    involvedObject: ev.regarding ?? {},
    related: ev.related,
    message: ev.note,
    reason: ev.reason,
    type: ev.type,
    action: ev.action,
    source: ev.deprecatedSource,
    firstTimestamp: ev.deprecatedFirstTimestamp,
    lastTimestamp: ev.deprecatedLastTimestamp,
    count: ev.deprecatedCount,
    eventTime: ev.eventTime,
    series: ev.series ? { count: ev.series.count, lastObservedTime: ev.series.lastObservedTime } : undefined,
    reportingComponent: ev.reportingController,
    reportingInstance: ev.reportingInstance,
  };
}
