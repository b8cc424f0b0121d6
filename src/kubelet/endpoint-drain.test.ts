// The kubelet's "out of the ready set yet?" check that gates SIGTERM on a terminating pod.
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { describe, expect, it } from 'vitest';
import { podReadyInSlices } from './pod-worker.js';

const slice = (uid: string, ready: boolean | undefined): EndpointSlice => ({
  addressType: 'IPv4',
  endpoints: [
    { addresses: ['127.244.1.9'], targetRef: { kind: 'Pod', uid: 'other' }, conditions: { ready: true } },
    {
      addresses: ['127.244.1.2'],
      targetRef: { kind: 'Pod', uid },
      conditions: ready === undefined ? {} : { ready },
    },
  ],
});

describe('podReadyInSlices', () => {
  it('is true while any slice lists the pod as ready (a nil condition reads as ready)', () => {
    expect(podReadyInSlices('u1', [slice('u1', true)])).toBe(true);
    expect(podReadyInSlices('u1', [slice('u1', false), slice('u1', undefined)])).toBe(true);
  });
  it('is false once the pod is terminating (ready=false) or gone from every slice', () => {
    expect(podReadyInSlices('u1', [slice('u1', false)])).toBe(false);
    expect(podReadyInSlices('u1', [slice('u2', true)])).toBe(false);
    expect(podReadyInSlices('u1', [])).toBe(false);
  });
});
