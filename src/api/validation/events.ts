// Event validation (upstream pkg/apis/core/validation/events.go: ValidateEventCreate, ValidateEventUpdate,
// legacyValidateEvent, validateV1EventSeries). One stored shape (core/v1 Event) for both APIs: a write through core/v1
// gets the legacy rules only, a write through events.k8s.io/v1 also the strict ones. Field paths are upstream's
// internal field names (`message`, `involvedObject`, `reportingController`…) whichever API was used, as upstream
// reports them; only the legacy reportingController rules say `reportingComponent` to a core/v1 client.
import type { Event } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  deepEqual,
  nameIsDNSSubdomain,
  nameIsPathSegment,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import { isDNS1123Subdomain, isQualifiedName } from './names.js';

/** the API group a write came through: '' (core/v1) or 'events.k8s.io' */
export type EventApiGroup = string;

const REPORTING_INSTANCE_LIMIT = 128;
const ACTION_LIMIT = 128;
const REASON_LIMIT = 128;
const NOTE_LIMIT = 1024;

const atMost = (n: number): string => `can have at most ${n} characters`;

/** legacyValidateEvent: what every Event must satisfy, through either API */
function legacyValidateEvent(ev: Event, group: EventApiGroup): FieldError[] {
  const errs: FieldError[] = [];
  const ns = ev.metadata?.namespace ?? '';
  const involvedNs = ev.involvedObject?.namespace ?? '';
  const reportingField = group === '' ? 'reportingComponent' : 'reportingController';
  if (!ev.eventTime) {
    // an "old" Event: its namespace and the involved object's agree ("default" allowed for old clients)
    if (involvedNs === '' ? ns !== '' && ns !== 'default' : ns !== involvedNs)
      errs.push(fe.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
  } else {
    if (involvedNs === '' && ns !== 'default' && ns !== 'kube-system')
      errs.push(fe.invalid('involvedObject.namespace', involvedNs, 'does not match event.namespace'));
    const controller = ev.reportingComponent ?? '';
    if (!controller) errs.push(fe.required(reportingField, ''));
    for (const m of isQualifiedName(controller)) errs.push(fe.invalid(reportingField, controller, m));
    const instance = ev.reportingInstance ?? '';
    if (!instance) errs.push(fe.required('reportingInstance', ''));
    if (instance.length > REPORTING_INSTANCE_LIMIT)
      errs.push(fe.invalid('reportingInstance', '', atMost(REPORTING_INSTANCE_LIMIT)));
    const action = ev.action ?? '';
    if (!action) errs.push(fe.required('action', ''));
    if (action.length > ACTION_LIMIT) errs.push(fe.invalid('action', '', atMost(ACTION_LIMIT)));
    const reason = ev.reason ?? '';
    if (!reason) errs.push(fe.required('reason', ''));
    if (reason.length > REASON_LIMIT) errs.push(fe.invalid('reason', '', atMost(REASON_LIMIT)));
    if ((ev.message ?? '').length > NOTE_LIMIT) errs.push(fe.invalid('message', '', atMost(NOTE_LIMIT)));
  }
  for (const m of isDNS1123Subdomain(ns)) errs.push(fe.invalid('namespace', ns, m));
  return errs;
}

/** validateV1EventSeries */
function validateSeries(ev: Event): FieldError[] {
  const series = ev.series;
  if (!series) return [];
  const errs: FieldError[] = [];
  if ((series.count ?? 0) < 2) errs.push(fe.invalid('series.count', '', 'should be at least 2'));
  if (!series.lastObservedTime) errs.push(fe.required('series.lastObservedTime', ''));
  return errs;
}

/**
 * a Go zero value (absent, "", 0, an empty struct) is the same as absent: upstream compares the decoded structs, so
 * `count: 0` and no count are one value
 */
function goValue(v: unknown): unknown {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const g = goValue(x);
    if (g !== undefined) out[k] = g;
  }
  return Object.keys(out).length ? out : undefined;
}

function immutableGo(value: unknown, old: unknown, path: string): FieldError[] {
  return deepEqual(goValue(value), goValue(old))
    ? []
    : [fe.invalid(path, value ?? null, 'field is immutable')];
}

/** a MicroTime to whole microseconds (upstream tolerates sub-microsecond changes of eventTime, kubernetes#111928) */
function microseconds(t: string | undefined): string | undefined {
  if (!t) return undefined;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  if (!m) return t;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return t;
  return `${ms / 1000}.${(m[2] ?? '').padEnd(6, '0').slice(0, 6)}`;
}

/** the generic store's metadata rules a core/v1 Event meets (upstream's strategy checks no name) */
function storeMeta(ev: Event, old: Event | undefined): FieldError[] {
  return old
    ? validateObjectMetaUpdate(ev.metadata, old.metadata, true, nameIsPathSegment)
    : validateObjectMeta(ev.metadata, true, nameIsPathSegment);
}

/** ValidateEventCreate, then (core/v1, strategy errors first) the generic store's metadata check */
export function validateEventCreate(ev: Event, group: EventApiGroup): FieldError[] {
  const errs = legacyValidateEvent(ev, group);
  if (group === '') {
    // upstream's BeforeCreate runs the object-meta check only once the strategy's validation passed
    return errs.length ? errs : storeMeta(ev, undefined);
  }
  errs.push(...validateObjectMeta(ev.metadata, true, nameIsDNSSubdomain));
  errs.push(...validateSeries(ev));
  if (!ev.eventTime) errs.push(fe.required('eventTime', ''));
  if (ev.type !== 'Normal' && ev.type !== 'Warning')
    errs.push(fe.invalid('type', '', `has invalid value: ${ev.type ?? ''}`));
  if (ev.firstTimestamp) errs.push(fe.invalid('firstTimestamp', '', 'needs to be unset'));
  if (ev.lastTimestamp) errs.push(fe.invalid('lastTimestamp', '', 'needs to be unset'));
  if (ev.count) errs.push(fe.invalid('count', '', 'needs to be unset'));
  if (ev.source?.component || ev.source?.host) errs.push(fe.invalid('source', '', 'needs to be unset'));
  return errs;
}

/** ValidateEventUpdate; for core/v1 the store's metadata check comes first, as upstream's BeforeUpdate orders them */
export function validateEventUpdate(ev: Event, old: Event, group: EventApiGroup): FieldError[] {
  const legacy = legacyValidateEvent(ev, group);
  if (group === '') return [...storeMeta(ev, old), ...legacy];
  const errs = [...legacy, ...validateObjectMetaUpdate(ev.metadata, old.metadata, true, nameIsDNSSubdomain)];
  if (!deepEqual(ev.series, old.series)) errs.push(...validateSeries(ev));
  errs.push(...immutableGo(ev.involvedObject, old.involvedObject, 'involvedObject'));
  errs.push(...immutableGo(ev.reason, old.reason, 'reason'));
  errs.push(...immutableGo(ev.message, old.message, 'message'));
  errs.push(...immutableGo(ev.source, old.source, 'source'));
  errs.push(...immutableGo(ev.firstTimestamp, old.firstTimestamp, 'firstTimestamp'));
  errs.push(...immutableGo(ev.lastTimestamp, old.lastTimestamp, 'lastTimestamp'));
  errs.push(...immutableGo(ev.count, old.count, 'count'));
  // upstream checks reason twice (a duplicated line in ValidateEventUpdate)
  errs.push(...immutableGo(ev.reason, old.reason, 'reason'));
  errs.push(...immutableGo(ev.type, old.type, 'type'));
  if (microseconds(ev.eventTime) !== microseconds(old.eventTime))
    errs.push(...immutableGo(ev.eventTime, old.eventTime, 'eventTime'));
  errs.push(...immutableGo(ev.action, old.action, 'action'));
  errs.push(...immutableGo(ev.related, old.related, 'related'));
  errs.push(...immutableGo(ev.reportingComponent, old.reportingComponent, 'reportingController'));
  errs.push(...immutableGo(ev.reportingInstance, old.reportingInstance, 'reportingInstance'));
  return errs;
}
