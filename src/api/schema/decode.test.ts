import { describe, it, expect } from 'vitest';
import { ApiError } from '../errors.js';
import { decodeObject, type Gvk } from './index.js';

const DEPLOYMENT: Gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const POD: Gvk = { group: '', version: 'v1', kind: 'Pod' };
const SECRET: Gvk = { group: '', version: 'v1', kind: 'Secret' };

const deployment = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x' }] } },
    ...spec,
  },
});

function decodeError(gvk: Gvk, body: unknown, mode: 'Strict' | 'Warn' | 'Ignore' = 'Strict'): ApiError {
  try {
    decodeObject(gvk, body, mode);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected decodeObject to throw');
}

describe('decodeObject type errors', () => {
  it('rejects a string where an int32 belongs, worded as upstream', () => {
    const e = decodeError(DEPLOYMENT, deployment({ replicas: 'three' }));
    expect(e.code).toBe(400);
    expect(e.reason).toBe('BadRequest');
    expect(e.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    expect(e.details?.causes?.[0]?.field).toBe('spec.replicas');
  });

  it('rejects non-integers and int32 overflow with the number in the message', () => {
    expect(decodeError(DEPLOYMENT, deployment({ replicas: 1.5 })).message).toContain(
      'cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    expect(decodeError(DEPLOYMENT, deployment({ replicas: 3000000000 })).message).toContain(
      'number 3000000000',
    );
  });

  it('names nested struct fields without indices, as encoding/json does', () => {
    const body = deployment();
    (body.spec.template.spec.containers[0] as Record<string, unknown>).image = 5;
    const e = decodeError(DEPLOYMENT, body);
    expect(e.message).toContain(
      'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string',
    );
    expect(e.details?.causes?.[0]?.field).toBe('spec.template.spec.containers[0].image');
  });

  it('describes arrays, maps and structs by their Go types', () => {
    expect(decodeError(POD, { metadata: { name: 'p' }, spec: { containers: {} } }).message).toContain(
      'cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container',
    );
    const labels = decodeError(POD, { metadata: { name: 'p', labels: { a: 1 } } });
    expect(labels.message).toContain(
      'cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string',
    );
    expect(labels.details?.causes?.[0]?.field).toBe('metadata.labels[a]');
    expect(decodeError(POD, { spec: 'x' }).message).toContain(
      'cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec',
    );
    expect(decodeError(POD, [1]).message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal array into Go value of type v1.Pod',
    );
  });

  it('validates quantity syntax at decode time', () => {
    const body = {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { cpu: 'lots' } } }] },
    };
    expect(decodeError(POD, body).message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression \'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$\'',
    );
  });

  it('rejects bad base64 in Secret data and bad times', () => {
    expect(decodeError(SECRET, { metadata: { name: 's' }, data: { k: 'not base64!' } }).message).toContain(
      'illegal base64 data at input byte 3',
    );
    expect(decodeError(POD, { metadata: { name: 'p', creationTimestamp: 'yesterday' } }).message).toContain(
      'parsing time "yesterday"',
    );
  });

  it('rejects a mismatched apiVersion with upstream wording', () => {
    expect(decodeError(POD, { apiVersion: 'apps/v1', kind: 'Pod' }).message).toBe(
      'the API version in the data (apps/v1) does not match the expected API version (v1)',
    );
  });
});

describe('decodeObject unknown fields', () => {
  const body = () => ({ ...deployment(), bogus: 1, spec: { ...deployment().spec, foo: 1, bar: { x: 1 } } });

  it('Strict: 400 listing every unknown field with its path', () => {
    const b = body();
    (b.spec.template.spec.containers[0] as Record<string, unknown>).imagePullPolice = 'Always';
    const e = decodeError(DEPLOYMENT, b, 'Strict');
    expect(e.code).toBe(400);
    expect(e.message).toBe(
      'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolice", unknown field "spec.foo", unknown field "spec.bar", unknown field "bogus"',
    );
    expect(e.details?.causes?.map((c) => c.field)).toEqual([
      'spec.template.spec.containers[0].imagePullPolice',
      'spec.foo',
      'spec.bar',
      'bogus',
    ]);
  });

  it('Warn: pruned, one warning each', () => {
    const { object, warnings } = decodeObject(DEPLOYMENT, body(), 'Warn');
    expect(warnings).toEqual([
      'unknown field "spec.foo"',
      'unknown field "spec.bar"',
      'unknown field "bogus"',
    ]);
    expect(object.bogus).toBeUndefined();
    expect((object.spec as Record<string, unknown>).foo).toBeUndefined();
  });

  it('Ignore: pruned silently', () => {
    const { object, warnings } = decodeObject(DEPLOYMENT, body(), 'Ignore');
    expect(warnings).toEqual([]);
    expect(object.bogus).toBeUndefined();
    expect((object.spec as Record<string, unknown>).bar).toBeUndefined();
  });

  it('is case-sensitive like upstream: a mis-cased field is unknown', () => {
    const e = decodeError(DEPLOYMENT, { ...deployment(), Spec: {} });
    expect(e.message).toBe('strict decoding error: unknown field "Spec"');
  });
});

describe('decodeObject canonicalisation', () => {
  it('turns quantities into canonical strings and drops nulls', () => {
    const body = {
      metadata: { name: 'p', annotations: null },
      spec: {
        nodeName: null,
        containers: [
          {
            name: 'c',
            image: 'x',
            resources: { limits: { cpu: 1, memory: '1024Mi' }, requests: { cpu: 0.5 } },
          },
        ],
      },
    };
    const { object } = decodeObject(POD, body, 'Strict');
    const spec = object.spec as { containers: { resources: unknown }[]; nodeName?: string };
    expect(spec.containers[0].resources).toEqual({
      limits: { cpu: '1', memory: '1Gi' },
      requests: { cpu: '500m' },
    });
    expect('nodeName' in spec).toBe(false);
    expect(object.metadata).toEqual({ name: 'p' });
    expect(object.apiVersion).toBe('v1');
    expect(object.kind).toBe('Pod');
  });

  it('keeps IntOrString as given and normalises times to UTC seconds', () => {
    const { object } = decodeObject(
      { group: '', version: 'v1', kind: 'Service' },
      {
        metadata: { name: 's', creationTimestamp: '2024-01-01T02:00:00.5+02:00' },
        spec: { ports: [{ port: 80, targetPort: 'http' }] },
      },
      'Strict',
    );
    expect(object.metadata?.creationTimestamp).toBe('2024-01-01T00:00:00Z');
    expect((object.spec as { ports: { targetPort: unknown }[] }).ports[0].targetPort).toBe('http');
  });
});

describe('decodeObject: values that only the internal face (msgpack) can carry', () => {
  it('undefined is an absent field, as a NodeNotReady event about a Node (no namespace) arrives', () => {
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'node-2.1', namespace: 'default' },
      involvedObject: { kind: 'Node', name: 'node-2', namespace: undefined, uid: 'u' },
      reason: 'NodeNotReady',
      message: 'Node node-2 status is now: NodeNotReady',
    };
    const out = decodeObject({ group: '', version: 'v1', kind: 'Event' }, event, 'Strict');
    expect(out.object['involvedObject']).toEqual({ kind: 'Node', name: 'node-2', uid: 'u' });
  });

  it('free-form JSON (managedFields fieldsV1) deeper than a body may be is refused, naming the field', () => {
    let deep: unknown = {};
    for (let i = 0; i < 1000; i++) deep = { 'f:x': deep };
    const cm = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', managedFields: [{ manager: 'm', fieldsType: 'FieldsV1', fieldsV1: deep }] },
    };
    const err = decodeError({ group: '', version: 'v1', kind: 'ConfigMap' }, cm);
    expect(err.code).toBe(400);
    expect(err.message).toContain("invalid character '{' exceeded max depth of 512");
  });
});
