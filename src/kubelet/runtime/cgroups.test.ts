import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podCpuShares } from '../pod-worker.js';
import { milliCpuToShares, sharesToWeight } from './cgroups.js';

const pod = (containers: Record<string, string>[], init: Record<string, string>[] = []): Pod => ({
  spec: {
    containers: containers.map((requests, i) => ({ name: `c${i}`, resources: { requests } })),
    initContainers: init.map((requests, i) => ({ name: `i${i}`, resources: { requests } })),
  },
});

describe('CPU weights as upstream computes them', () => {
  it('MilliCPUToShares: 1024 per CPU, never below 2', () => {
    expect(milliCpuToShares(0)).toBe(2);
    expect(milliCpuToShares(1)).toBe(2);
    expect(milliCpuToShares(100)).toBe(102);
    expect(milliCpuToShares(500)).toBe(512);
    expect(milliCpuToShares(2000)).toBe(2048);
  });

  it('a pod weighs the sum of its containers, or its largest init container; best effort weighs 2', () => {
    expect(podCpuShares(pod([{}]))).toBe(2);
    expect(podCpuShares(pod([{ cpu: '250m' }, { cpu: '250m', memory: '64Mi' }]))).toBe(512);
    expect(podCpuShares(pod([{ cpu: '100m' }], [{ cpu: '1' }]))).toBe(1024);
    expect(podCpuShares(pod([{ cpu: '0.5' }], [{ cpu: '100m' }]))).toBe(512);
  });

  it('cgroup v2 weights from shares as runc converts them', () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(262144)).toBe(10000);
  });
});
