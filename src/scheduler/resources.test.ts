import { describe, it, expect } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { nonZeroRequests, podRequests, quantityAmount, resourceAmounts } from './resources.js';

const Mi = 1024 * 1024;
const Gi = 1024 * Mi;

describe('quantityAmount', () => {
  it.each([
    ['cpu', '100m', 100],
    ['cpu', '1.5', 1500],
    ['cpu', '2', 2000],
    ['cpu', 2, 2000],
    ['cpu', '1e3', 1_000_000],
    ['cpu', '0.0001', 1], // MilliValue rounds up
    ['cpu', '250u', 1],
    ['memory', '64Mi', 64 * Mi],
    ['memory', '2Gi', 2 * Gi],
    ['memory', '1G', 1_000_000_000],
    ['memory', '1.5Gi', 1.5 * Gi],
    ['memory', '128974848', 128974848],
    ['memory', '129e6', 129_000_000],
    ['memory', '123k', 123_000],
    ['pods', '110', 110],
    ['memory', '0.5', 1], // Value rounds up too
  ])('%s %s → %d', (resource, value, expected) => {
    expect(quantityAmount(resource, value)).toBe(expected);
  });

  it('rejects what is not a quantity', () => {
    expect(quantityAmount('cpu', 'lots')).toBeUndefined();
    expect(quantityAmount('memory', '1Gb')).toBeUndefined();
    expect(resourceAmounts({ cpu: 'x', memory: '1Mi' })).toEqual(new Map([['memory', Mi]]));
  });
});

const container = (name: string, requests?: Record<string, string>, restartPolicy?: string) => ({
  name,
  image: 'i',
  ...(requests ? { resources: { requests } } : {}),
  ...(restartPolicy ? { restartPolicy } : {}),
});

describe('podRequests', () => {
  it('sums containers and takes the largest init container when that is more', () => {
    const pod: Pod = {
      spec: {
        initContainers: [
          container('i1', { cpu: '3', memory: '10Mi' }),
          container('i2', { cpu: '1', memory: '500Mi' }),
        ],
        containers: [container('a', { cpu: '500m', memory: '100Mi' }), container('b', { cpu: '250m' })],
      },
    };
    const r = podRequests(pod);
    expect(r.get('cpu')).toBe(3000);
    expect(r.get('memory')).toBe(500 * Mi);
  });

  it('adds restartable (sidecar) init containers to everything after them, and the overhead', () => {
    const pod: Pod = {
      spec: {
        initContainers: [container('sidecar', { cpu: '200m' }, 'Always'), container('setup', { cpu: '1' })],
        containers: [container('app', { cpu: '500m' })],
        overhead: { cpu: '50m' },
      },
    };
    // running: app + sidecar = 700m; during setup: setup + sidecar = 1200m → max 1200m, plus overhead
    expect(podRequests(pod).get('cpu')).toBe(1250);
  });

  it('counts extended resources', () => {
    const pod: Pod = { spec: { containers: [container('a', { 'nvidia.com/gpu': '2' })] } };
    expect(podRequests(pod).get('nvidia.com/gpu')).toBe(2);
  });
});

describe('nonZeroRequests', () => {
  it('counts a container without requests as 100m and 200Mi', () => {
    const pod: Pod = { spec: { containers: [container('a'), container('b', { cpu: '1' })] } };
    expect(nonZeroRequests(pod)).toEqual({ milliCPU: 1100, memory: 400 * Mi });
  });
});
