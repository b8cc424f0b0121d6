// Property tests: whatever the live object, configuration and managedFields, apply and update tracking fail
// only with ApiErrors, never mutate their inputs, and write managedFields that read back.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors.js';
import type { KubeObject } from '../request.js';
import { decodeManagedFields, serverSideApply, trackUpdate } from './index.js';

const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };

const scalar = fc.constantFrom<unknown>(null, 'a', 'b', 'nginx', 1, 2, 80, true, 'TCP', 'UDP');
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'name', 'image', '__proto__'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const port = fc.record(
  {
    containerPort: fc.constantFrom<unknown>(80, 443, 53, 'x'),
    protocol: fc.constantFrom<unknown>('TCP', 'UDP', undefined),
  },
  { requiredKeys: [] },
);
const container = fc.record(
  {
    name: fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom<unknown>('nginx', 'sidecar', 'init') },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(3, undefined) },
    ),
    image: fc.constantFrom<unknown>('nginx:1', 'nginx:2', null),
    args: fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
    ports: fc.uniqueArray(port, {
      maxLength: 3,
      selector: (p) => JSON.stringify([p.containerPort, p.protocol ?? 'TCP']),
    }),
    env: fc.uniqueArray(fc.record({ name: fc.constantFrom('A', 'B'), value: fc.constantFrom('1', '2') }), {
      maxLength: 2,
      selector: (e) => e.name,
    }),
    bogus: fc.oneof({ weight: 1, arbitrary: anyJson }, { weight: 12, arbitrary: fc.constant(undefined) }),
  },
  { requiredKeys: ['name'] },
);
const deployment = fc.record(
  {
    apiVersion: fc.oneof(
      { weight: 8, arbitrary: fc.constant<unknown>('apps/v1') },
      { weight: 1, arbitrary: fc.constantFrom<unknown>('v1', undefined) },
    ),
    kind: fc.constant('Deployment'),
    metadata: fc.record(
      {
        name: fc.constant('d'),
        labels: fc.dictionary(fc.constantFrom('app', 'tier', '__proto__'), fc.constantFrom('x', 'y'), {
          maxKeys: 2,
        }),
        finalizers: fc.uniqueArray(fc.constantFrom('f/a', 'f/b'), { maxLength: 2 }),
        annotations: fc.dictionary(
          fc.constantFrom('kubectl.kubernetes.io/last-applied-configuration', 'a'),
          fc.constantFrom('{}', '{"apiVersion":"apps/v1"}', 'not json'),
        ),
      },
      { requiredKeys: ['name'] },
    ),
    spec: fc.record(
      {
        replicas: fc.constantFrom<unknown>(1, 2, 3, null, 'x'),
        paused: fc.boolean(),
        selector: fc.record({ matchLabels: fc.dictionary(fc.constantFrom('app'), fc.constantFrom('x')) }),
        template: fc.record(
          {
            spec: fc.record(
              { containers: fc.uniqueArray(container, { maxLength: 3, selector: (c) => c.name }) },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        ),
        strategy: fc.oneof(
          { weight: 1, arbitrary: anyJson },
          { weight: 4, arbitrary: fc.constant({ type: 'Recreate' }) },
        ),
      },
      { requiredKeys: [] },
    ),
    status: fc.record({ replicas: fc.constantFrom(1, 2) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
) as fc.Arbitrary<KubeObject>;

const managedFields = fc.oneof(
  fc.constant(undefined),
  anyJson,
  fc.array(
    fc.record({
      manager: fc.constantFrom('a', 'b', 'kubectl'),
      operation: fc.constantFrom('Apply', 'Update', 'Bogus'),
      apiVersion: fc.constantFrom('apps/v1', ''),
      fieldsType: fc.constantFrom('FieldsV1', 'FieldsV2'),
      fieldsV1: fc.oneof(
        anyJson,
        fc.constant({ 'f:spec': { 'f:replicas': {} } }),
        fc.constant({
          'f:spec': {
            'f:template': {
              'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {} } } },
            },
          },
        }),
      ),
    }),
    { maxLength: 3 },
  ),
);

const live = fc.option(
  fc.tuple(deployment, managedFields).map(([obj, mf]) => {
    const o = structuredClone(obj);
    o.metadata = { ...o.metadata, uid: 'u', resourceVersion: '3' };
    if (mf !== undefined) (o.metadata as Record<string, unknown>)['managedFields'] = mf;
    return o;
  }),
  { nil: undefined },
);

function onlyApiErrors(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
  }
}

describe('serverSideApply properties', () => {
  it('throws only ApiErrors, never mutates inputs, writes readable managedFields, re-applies cleanly', () => {
    fc.assert(
      fc.property(
        live,
        deployment,
        fc.constantFrom('kubectl', 'a', 'b'),
        fc.boolean(),
        (liveObj, config, manager, force) => {
          const [liveBefore, configBefore] = [structuredClone(liveObj), structuredClone(config)];
          onlyApiErrors(() => {
            const { object } = serverSideApply(liveObj, config, {
              manager,
              force,
              gvk,
              now: '2024-01-01T00:00:00Z',
            });
            expect(decodeManagedFields(object.metadata?.managedFields)).toBeDefined();
            // applying the same configuration again is never a conflict
            serverSideApply(object, config, { manager, force: false, gvk, now: '2024-01-01T00:00:01Z' });
          });
          expect(liveObj).toEqual(liveBefore);
          expect(config).toEqual(configBefore);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('trackUpdate properties', () => {
  it('never throws, never mutates inputs, writes readable managedFields', () => {
    fc.assert(
      fc.property(
        live,
        deployment,
        managedFields,
        fc.constantFrom(undefined, 'status', 'scale'),
        (oldObj, next, mf, subresource) => {
          const nextObj = structuredClone(next);
          if (mf !== undefined) (nextObj.metadata as Record<string, unknown>)['managedFields'] = mf;
          const [oldBefore, nextBefore] = [structuredClone(oldObj), structuredClone(nextObj)];
          const out = trackUpdate(oldObj, nextObj, {
            manager: 'm',
            gvk,
            now: '2024-01-01T00:00:00Z',
            ...(subresource ? { subresource } : {}),
          });
          expect(decodeManagedFields(out.metadata?.managedFields)).toBeDefined();
          expect(oldObj).toEqual(oldBefore);
          expect(nextObj).toEqual(nextBefore);
        },
      ),
      { numRuns: 400 },
    );
  });
});
