import { describe, it, expect } from 'vitest';
import { enabledControllers, parseDuration } from './controller-manager.js';

describe('controller-manager flags', () => {
  it('parses Go durations as upstream flags take them', () => {
    expect(parseDuration('3s')).toBe(3_000);
    expect(parseDuration('0.5s')).toBe(500);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('40')).toBe(40_000);
    expect(() => parseDuration('3 parsecs')).toThrow(/invalid duration/);
  });

  it('reads --controllers like upstream: *, names, aliases and -name', () => {
    expect([...enabledControllers('*')]).toEqual(
      expect.arrayContaining([
        'namespace-controller',
        'garbage-collector-controller',
        'replicaset-controller',
        'deployment-controller',
        'endpoints-controller',
        'endpointslice-controller',
        'node-lifecycle-controller',
        'taint-eviction-controller',
        'pod-garbage-collector-controller',
        'disruption-controller',
        'job-controller',
        'cronjob-controller',
        'ttl-after-finished-controller',
      ]),
    );
    expect([...enabledControllers('job,cronjob,ttl-after-finished')].sort()).toEqual([
      'cronjob-controller',
      'job-controller',
      'ttl-after-finished-controller',
    ]);
    expect([...enabledControllers('*,-replicaset,-deployment-controller')]).not.toContain(
      'replicaset-controller',
    );
    expect([...enabledControllers('*,-replicaset,-deployment-controller')]).not.toContain(
      'deployment-controller',
    );
    expect([...enabledControllers('garbagecollector,podgc')].sort()).toEqual([
      'garbage-collector-controller',
      'pod-garbage-collector-controller',
    ]);
    expect(() => enabledControllers('nonsense')).toThrow(/unknown controller/);
  });
});
