// Where an exec, attach or port-forward goes, from the query each official client sends (upstream's
// PodExecOptions/PodPortForwardOptions decoding, then streamParams for the kubelet).
import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import { kubeletStreamPath } from './stream-location.js';

const pod: Pod = {
  metadata: { name: 'shell', namespace: 'streams' },
  spec: { nodeName: 'node-1', containers: [{ name: 'shell', image: 'busybox' }] },
};

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('kubeletStreamPath', () => {
  it("takes the Python client's stdin=True/stdout=True and every command", () => {
    const path = kubeletStreamPath(
      'exec',
      pod,
      q('command=%2Fbin%2Fsh&command=-c&command=echo+hi&stderr=True&stdin=False&stdout=True&tty=False'),
    );
    expect(path).toBe(
      '/exec/streams/shell/shell?output=1&error=1&command=%2Fbin%2Fsh&command=-c&command=echo+hi',
    );
  });

  it('takes client-node\'s stdin=true and "tty" for attach', () => {
    expect(kubeletStreamPath('attach', pod, q('stdin=true&stdout=true&stderr=false&tty=true'))).toBe(
      '/attach/streams/shell/shell?input=1&output=1&tty=1',
    );
  });

  it('joins ports given repeated or comma-separated (the Python client sends ports=80,8080)', () => {
    expect(kubeletStreamPath('portforward', pod, q('ports=80%2C8080&ports=9090'))).toBe(
      '/portForward/streams/shell?port=80%2C8080%2C9090',
    );
    expect(kubeletStreamPath('portforward', pod, q(''))).toBe('/portForward/streams/shell');
  });

  it("is upstream's 400 for a malformed port and for no stream at all", () => {
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        if (e instanceof ApiError) return `${e.code} ${e.message}`;
      }
      return 'no ApiError';
    };
    expect(message(() => kubeletStreamPath('portforward', pod, q('ports=http')))).toBe(
      '400 cannot convert to []int32: strconv.ParseUint: parsing "http": invalid syntax',
    );
    expect(message(() => kubeletStreamPath('exec', pod, q('command=ls&stdout=false')))).toBe(
      '400 you must specify at least 1 of stdin, stdout, stderr',
    );
  });
});
