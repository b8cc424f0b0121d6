import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../request.js';
import { toInternalForm } from './internal-form.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('toInternalForm (what upstream folds in when converting to its internal version)', () => {
  it("merges a Secret's stringData into data, UTF-8 then base64, and drops it", () => {
    const s: KubeObject = { data: { a: b64('old'), b: b64('b') }, stringData: { a: 'né', c: '' } };
    toInternalForm({ group: '', kind: 'Secret' }, s);
    expect(s).toEqual({ data: { a: b64('né'), b: b64('b'), c: '' } });
    const empty: KubeObject = { stringData: {} };
    toInternalForm({ group: '', kind: 'Secret' }, empty);
    expect(empty).toEqual({});
  });

  it('makes serviceAccount and serviceAccountName aliases in pods and in pod templates', () => {
    const pod: KubeObject = { spec: { serviceAccount: 'robot' } };
    toInternalForm({ group: '', kind: 'Pod' }, pod);
    expect(pod['spec']).toEqual({ serviceAccount: 'robot', serviceAccountName: 'robot' });
    const both: KubeObject = { spec: { serviceAccount: 'old', serviceAccountName: 'new' } };
    toInternalForm({ group: '', kind: 'Pod' }, both);
    expect(both['spec']).toEqual({ serviceAccount: 'new', serviceAccountName: 'new' });
    const none: KubeObject = { spec: { serviceAccount: '', serviceAccountName: '' } };
    toInternalForm({ group: '', kind: 'Pod' }, none);
    expect(none['spec']).toEqual({});
    const deployment: KubeObject = { spec: { template: { spec: { serviceAccountName: 'robot' } } } };
    toInternalForm({ group: 'apps', kind: 'Deployment' }, deployment);
    expect(deployment['spec']).toEqual({
      template: { spec: { serviceAccount: 'robot', serviceAccountName: 'robot' } },
    });
  });

  it('leaves other kinds alone', () => {
    const cm: KubeObject = { stringData: { a: 'x' } };
    toInternalForm({ group: '', kind: 'ConfigMap' }, cm);
    expect(cm).toEqual({ stringData: { a: 'x' } });
  });
});
