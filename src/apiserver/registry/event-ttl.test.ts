// --event-ttl through the real registry on SQLite: Events (core and events.k8s.io, one storage) are written with the
// TTL, renewed by every update, and deleted once it passes; nothing else is.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from './registry.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'admin', groups: ['system:masters'] };

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true, ttlSweepMs: 50 });
  registry = new Registry({ storage, eventTtlSeconds: 2 });
  await registry.init();
});

afterEach(() => storage.close());

const api = (group: string, version: string, resource: string, req: Partial<ApiRequest>) =>
  registry
    .handle({ verb: 'get', group, version, resource, namespace: 'default', options: {}, user, ...req })
    .then((r) => r.body as KubeObject);

const exists = (group: string, version: string, resource: string, name: string) =>
  api(group, version, resource, { name }).then(
    () => true,
    () => false,
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('--event-ttl', () => {
  it('deletes Events once their TTL passes after their last write; other objects stay', async () => {
    await api('', 'v1', 'events', {
      verb: 'create',
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'core' },
        involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' },
        reason: 'Started',
        message: 'hello',
        type: 'Normal',
      },
    });
    await api('events.k8s.io', 'v1', 'events', {
      verb: 'create',
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'renewed' },
        eventTime: '2026-12-07T10:00:00.000000Z',
        reportingController: 'example.com/c',
        reportingInstance: 'c-1',
        action: 'Started',
        reason: 'Started',
        regarding: { kind: 'Pod', name: 'p', namespace: 'default' },
        type: 'Normal',
      },
    });
    await api('', 'v1', 'configmaps', {
      verb: 'create',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' }, data: { a: '1' } },
    });
    await sleep(1_100);
    // an update renews the TTL (upstream's TTLFunc answers on update too)
    const renewed = await api('events.k8s.io', 'v1', 'events', { name: 'renewed' });
    await api('events.k8s.io', 'v1', 'events', {
      verb: 'update',
      name: 'renewed',
      body: {
        ...structuredClone(renewed),
        series: { count: 2, lastObservedTime: '2026-12-07T10:00:01.000000Z' },
      },
    });
    await sleep(1_100);
    expect(await exists('', 'v1', 'events', 'core')).toBe(false);
    expect(await exists('events.k8s.io', 'v1', 'events', 'renewed')).toBe(true);
    await sleep(1_500);
    expect(await exists('events.k8s.io', 'v1', 'events', 'renewed')).toBe(false);
    expect(await exists('', 'v1', 'configmaps', 'kept')).toBe(true);
  });
});
