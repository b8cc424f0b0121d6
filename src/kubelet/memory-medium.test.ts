import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isMemoryBacked, memoryOnDiskReason, memoryOnDiskWarnings } from './memory-medium.js';

describe('emptyDir medium Memory on this node', () => {
  it('tmpfs and ramfs are memory; ext4, overlayfs and an unreadable dir are not', () => {
    const fsOf = (type: number) => () => ({ type });
    expect(isMemoryBacked('/x', fsOf(0x01021994))).toBe(true);
    expect(isMemoryBacked('/x', fsOf(0x858458f6))).toBe(true);
    expect(isMemoryBacked('/x', fsOf(0xef53))).toBe(false);
    expect(isMemoryBacked('/x', fsOf(0x794c7630))).toBe(false);
    expect(
      isMemoryBacked('/x', () => {
        throw new Error('ENOENT');
      }),
    ).toBe(false);
  });

  it('a Warning for each Memory emptyDir of the pod (the docs test-pd), none for other volumes', () => {
    const pod: Pod = {
      metadata: { name: 'test-pd', namespace: 'default' },
      spec: {
        containers: [{ name: 'test-container', image: 'kubemu/hello:v1' }],
        volumes: [
          { name: 'cache-volume', emptyDir: { sizeLimit: '500Mi', medium: 'Memory' } },
          { name: 'scratch', emptyDir: {} },
        ],
      },
    };
    expect(memoryOnDiskWarnings(pod, memoryOnDiskReason('/var/lib/kubemu/node-1/run'))).toEqual([
      {
        volume: 'cache-volume',
        message:
          'emptyDir volume "cache-volume" has medium Memory but is on the node\'s disk: the kubelet\'s run dir /var/lib/kubemu/node-1/run is not on tmpfs (kubemu uses /dev/shm when it is a writable tmpfs of at least 1 GiB)',
      },
    ]);
    expect(memoryOnDiskWarnings({ spec: { containers: [] } }, 'x')).toEqual([]);
  });
});
