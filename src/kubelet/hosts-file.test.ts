import type { Pod } from 'kubernetes-types/core/v1.js';
import { describe, expect, it } from 'vitest';
import { podHostname, podHostsFile } from './hosts-file.js';

const pod = (spec: Partial<NonNullable<Pod['spec']>>, name = 'web-7d9c5'): Pod => ({
  metadata: { name, namespace: 'shop' },
  spec: { containers: [], ...spec },
});

describe('podHostname (upstream GeneratePodHostNameAndDomain)', () => {
  it('is the pod name, or spec.hostname', () => {
    expect(podHostname(pod({}), 'cluster.local')).toBe('web-7d9c5');
    expect(podHostname(pod({ hostname: 'db-0' }), 'cluster.local')).toBe('db-0');
  });

  it('cuts a long name to 63 characters without a trailing dash', () => {
    expect(podHostname(pod({}, `${'a'.repeat(62)}-bcd`), 'cluster.local')).toBe('a'.repeat(62));
  });

  it('is the FQDN with setHostnameAsFQDN and a subdomain', () => {
    const spec = { hostname: 'db-0', subdomain: 'db', setHostnameAsFQDN: true };
    expect(podHostname(pod(spec), 'cluster.local')).toBe('db-0.db.shop.svc.cluster.local');
    expect(podHostname(pod({ ...spec, subdomain: undefined }), 'cluster.local')).toBe('db-0');
  });
});

describe('podHostsFile (upstream managedHostsFileContent)', () => {
  const HEAD =
    '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' +
    'fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';

  it('names the pod IP with the hostname', () => {
    expect(podHostsFile(pod({}), ['10.244.1.5'], 'cluster.local', '')).toBe(`${HEAD}10.244.1.5\tweb-7d9c5\n`);
  });

  it('adds the FQDN for a subdomain, then the hostAliases', () => {
    const spec = {
      hostname: 'db-0',
      subdomain: 'db',
      hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }],
    };
    expect(podHostsFile(pod(spec), ['10.244.1.5'], 'cluster.local', '')).toBe(
      `${HEAD}10.244.1.5\tdb-0.db.shop.svc.cluster.local\tdb-0\n` +
        '\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\n10.1.2.3\tbar.local\n',
    );
  });

  it("gives a hostNetwork pod the node's file", () => {
    expect(
      podHostsFile(pod({ hostNetwork: true }), ['127.0.1.1'], 'cluster.local', '127.0.0.1\tlocalhost\n'),
    ).toBe('# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n');
  });
});
