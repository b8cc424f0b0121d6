import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podHostname } from './pod-network.js';

const pod = (spec: Pod['spec'], name = 'web-7d9c5'): Pod => ({
  metadata: { name, namespace: 'shop' },
  spec: { containers: [], ...spec },
});

describe('podHostname (upstream GeneratePodHostNameAndDomain)', () => {
  it('is the pod name, or spec.hostname', () => {
    expect(podHostname(pod({ containers: [] }), 'cluster.local')).toBe('web-7d9c5');
    expect(podHostname(pod({ containers: [], hostname: 'db-0' }), 'cluster.local')).toBe('db-0');
  });

  it('cuts a long name to 63 characters without a trailing dash', () => {
    const name = `${'a'.repeat(62)}-bcd`;
    expect(podHostname(pod({ containers: [] }, name), 'cluster.local')).toBe('a'.repeat(62));
  });

  it('is the FQDN with setHostnameAsFQDN and a subdomain', () => {
    const spec = { containers: [], hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true };
    expect(podHostname(pod(spec), 'cluster.local')).toBe('db-0.db.shop.svc.cluster.local');
    expect(podHostname(pod({ ...spec, subdomain: undefined }), 'cluster.local')).toBe('db-0');
  });
});
