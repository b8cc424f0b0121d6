// PodDisruptionBudget, RBAC, NetworkPolicy and StorageClass rules checked against upstream release-1.33:
// pkg/apis/policy/validation/validation.go (+ pkg/registry/policy/poddisruptionbudget/strategy.go: no name rule but
// the generic store's path-segment one), pkg/apis/rbac/validation/validation.go, pkg/apis/networking/validation/
// validation.go (ValidateNetworkPolicyPort, ValidateIPBlock, policyTypes), pkg/apis/storage/validation/validation.go
// (validateProvisioner). Case names follow the upstream tests where one exists.
import { describe, expect, it } from 'vitest';
import { createErrors, updateErrors } from './test-fixtures.js';

describe('PodDisruptionBudget', () => {
  const pdb = (name: string, spec: Record<string, unknown>): any => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: 'default' },
    spec: { selector: { matchLabels: { app: 'zk' } }, ...spec },
  });

  it('names are only path segments (ValidatePodDisruptionBudget checks no name)', () => {
    expect(createErrors(pdb('Zk_PDB', { minAvailable: 2 }))).toEqual([]);
    expect(createErrors(pdb('a/b', { minAvailable: 2 }))).toEqual([
      `metadata.name: Invalid value: "a/b": may not contain '/'`,
    ]);
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'minAvailable over 100%',
      { minAvailable: '110%' },
      ['spec.minAvailable: Invalid value: "110%": must not be greater than 100%'],
    ],
    [
      'negative maxUnavailable',
      { maxUnavailable: -1 },
      ['spec.maxUnavailable: Invalid value: -1: must be greater than or equal to 0'],
    ],
    [
      'unhealthyPodEvictionPolicy',
      { minAvailable: 1, unhealthyPodEvictionPolicy: 'Invalid' },
      [
        'spec.unhealthyPodEvictionPolicy: Unsupported value: "Invalid": supported values: "AlwaysAllow", "IfHealthyBudget"',
      ],
    ],
  ])('%s', (_name, spec, expected) => {
    expect(createErrors(pdb('zk-pdb', spec))).toEqual(expected);
  });
});

describe('RBAC', () => {
  it('a rule may name resources of several kinds (no resourceNames restriction upstream)', () => {
    expect(
      createErrors({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'r', namespace: 'default' },
        rules: [{ apiGroups: [''], resources: ['pods', 'services'], resourceNames: ['a'], verbs: ['get'] }],
      }),
    ).toEqual([]);
  });

  it('a User subject without a name gets only "Required value"', () => {
    expect(
      createErrors({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'b', namespace: 'default' },
        subjects: [{ kind: 'User', name: '', apiGroup: 'rbac.authorization.k8s.io' }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'r' },
      }),
    ).toEqual(['subjects[0].name: Required value']);
  });
});

describe('NetworkPolicy (TestValidateNetworkPolicy error cases)', () => {
  const np = (spec: Record<string, unknown>): any => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'np', namespace: 'default' },
    spec: { podSelector: {}, ...spec },
  });
  const ingressPorts = (ports: unknown[]) => ({ ingress: [{ ports }] });
  const ingressFrom = (from: unknown[]) => ({ ingress: [{ from }] });

  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'endPort without port',
      ingressPorts([{ protocol: 'TCP', endPort: 32768 }]),
      [
        'spec.ingress[0].ports[0].endPort: Invalid value: 32768: may not be specified when `port` is not specified',
      ],
    ],
    [
      'endPort with a named port',
      ingressPorts([{ protocol: 'TCP', port: 'http', endPort: 32768 }]),
      [
        'spec.ingress[0].ports[0].endPort: Invalid value: 32768: may not be specified when `port` is non-numeric',
      ],
    ],
    [
      'endPort smaller than port',
      ingressPorts([{ protocol: 'TCP', port: 32768, endPort: 30000 }]),
      ['spec.ingress[0].ports[0].endPort: Invalid value: 32768: must be greater than or equal to `port`'],
    ],
    [
      'endPort out of range',
      ingressPorts([{ protocol: 'TCP', port: 30000, endPort: 65536 }]),
      ['spec.ingress[0].ports[0].endPort: Invalid value: 65536: must be between 1 and 65535, inclusive'],
    ],
    [
      'except not a strict subset of cidr',
      ingressFrom([{ ipBlock: { cidr: '192.168.0.0/24', except: ['192.168.1.0/24', '192.168.0.0/24'] } }]),
      [
        'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "192.168.1.0/24": must be a strict subset of `cidr`',
        'spec.ingress[0].from[0].ipBlock.except[1]: Invalid value: "192.168.0.0/24": must be a strict subset of `cidr`',
      ],
    ],
    [
      'more than two policyTypes',
      { policyTypes: ['Ingress', 'Egress', 'Foo'] },
      [
        'spec.policyTypes: Invalid value: ["Ingress","Egress","Foo"]: may not specify more than two policyTypes',
      ],
    ],
    [
      'unknown policyType',
      { policyTypes: ['Foo'] },
      ['spec.policyTypes[0]: Unsupported value: "Foo": supported values: "Ingress", "Egress"'],
    ],
  ])('%s', (_name, spec, expected) => {
    expect(createErrors(np(spec))).toEqual(expected);
  });

  it('a strict subset is fine', () => {
    expect(
      createErrors(np(ingressFrom([{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }]))),
    ).toEqual([]);
  });
});

describe('StorageClass', () => {
  it('a prefixed provisioner longer than 63 characters is fine (a qualified name: 253-character prefix)', () => {
    expect(
      createErrors({
        apiVersion: 'storage.k8s.io/v1',
        kind: 'StorageClass',
        metadata: { name: 'fast' },
        provisioner: `${'a'.repeat(60)}.example.com/driver`,
      }),
    ).toEqual([]);
  });
});

// pkg/apis/networking/validation/validation.go: ValidateIngressClass, validateIngressClassSpec,
// validateIngressClassParametersReference (upstream's TestValidateIngressClass cases, with our messages compared)
describe('IngressClass', () => {
  const ic = (spec: Record<string, unknown>): any => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'test123' },
    spec,
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid', { controller: 'foo.co/bar' }, []],
    ['empty controller', { controller: '' }, ['spec.controller: Required value']],
    [
      'controller without a domain',
      { controller: 'foo' },
      ['spec.controller: Invalid value: "foo": must be a domain-prefixed path (such as "acme.io/foo")'],
    ],
    [
      'controller with an invalid path',
      { controller: 'foo.co/bar?' },
      [
        `spec.controller: Invalid value: "bar?": Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')`,
      ],
    ],
    [
      'controller over 250 characters',
      { controller: `foo.co/${'a'.repeat(250)}` },
      ['spec.controller: Too long: may not be more than 250 bytes'],
    ],
    [
      'valid namespace-scoped parameters',
      {
        controller: 'foo.co/bar',
        parameters: {
          apiGroup: 'example.com',
          kind: 'foo',
          name: 'bar',
          scope: 'Namespace',
          namespace: 'foo-ns',
        },
      },
      [],
    ],
    [
      'parameters without kind and name',
      { controller: 'foo.co/bar', parameters: { scope: 'Cluster' } },
      [
        'spec.parameters.kind: Required value: kind is required',
        'spec.parameters.name: Required value: name is required',
      ],
    ],
    [
      'Namespace scope without a namespace',
      { controller: 'foo.co/bar', parameters: { kind: 'foo', name: 'bar', scope: 'Namespace' } },
      ["spec.parameters.namespace: Required value: `parameters.scope` is set to 'Namespace'"],
    ],
    [
      'Cluster scope with a namespace',
      {
        controller: 'foo.co/bar',
        parameters: { kind: 'foo', name: 'bar', scope: 'Cluster', namespace: 'foo-ns' },
      },
      ["spec.parameters.namespace: Forbidden: `parameters.scope` is set to 'Cluster'"],
    ],
    [
      'unknown scope',
      { controller: 'foo.co/bar', parameters: { kind: 'foo', name: 'bar', scope: 'foo' } },
      ['spec.parameters.scope: Unsupported value: "foo": supported values: "Cluster", "Namespace"'],
    ],
    [
      'invalid apiGroup and kind',
      {
        controller: 'foo.co/bar',
        parameters: { apiGroup: 'Example.com', kind: 'foo/bar', name: 'bar', scope: 'Cluster' },
      },
      [
        expect.stringMatching(
          /^spec\.parameters\.apiGroup: Invalid value: "Example\.com": a lowercase RFC 1123 subdomain/,
        ),
        `spec.parameters.kind: Invalid value: "foo/bar": may not contain '/'`,
      ],
    ],
  ])('%s', (_name, spec, expected) => {
    expect(createErrors(ic(spec))).toEqual(expected);
  });

  it('the controller is immutable', () => {
    expect(
      updateErrors(ic({ controller: 'foo.co/bar' }), (o: any) => (o.spec.controller = 'foo.co/baz')),
    ).toEqual(['spec.controller: Invalid value: "foo.co/baz": field is immutable']);
  });
});

// pkg/apis/node/validation/validation.go: ValidateRuntimeClass (handler a DNS label; overhead through
// ValidateResourceRequirements as limits; scheduling's nodeSelector labels and tolerations) and TestValidateOverhead
describe('RuntimeClass', () => {
  const rc = (extra: Record<string, unknown>): any => ({
    apiVersion: 'node.k8s.io/v1',
    kind: 'RuntimeClass',
    metadata: { name: 'foo' },
    handler: 'bar',
    ...extra,
  });

  it.each<[string, Record<string, unknown>, string[]]>([
    ['valid overhead', { overhead: { podFixed: { cpu: '10', memory: '10G' } } }, []],
    [
      'overhead with an invalid resource name (TestValidateOverhead "Invalid Resources")',
      { overhead: { podFixed: { 'my.org': '10m' } } },
      [
        'overhead.limits[my.org]: Invalid value: "my.org": must be a standard resource type or fully qualified',
      ],
    ],
    [
      'negative overhead',
      { overhead: { podFixed: { cpu: '-1' } } },
      ['overhead.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0'],
    ],
    [
      'a toleration with tolerationSeconds but no NoExecute effect',
      {
        scheduling: {
          tolerations: [{ key: 'foo', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }],
        },
      },
      [
        `scheduling.tolerations[0].effect: Invalid value: "NoSchedule": effect must be 'NoExecute' when \`tolerationSeconds\` is set`,
      ],
    ],
    [
      'a toleration with an unknown operator',
      { scheduling: { tolerations: [{ key: 'foo', operator: 'In', value: 'x' }] } },
      ['scheduling.tolerations[0].operator: Unsupported value: "In": supported values: "Equal", "Exists"'],
    ],
  ])('%s', (_name, extra, expected) => {
    expect(createErrors(rc(extra))).toEqual(expected);
  });
});

// pkg/apis/discovery/validation/validation.go (index id 247123848): ValidateEndpointSlice, validateEndpoints,
// validatePorts, validateHints; core ValidateEndpointIP (less its loopback rule: kubemu's pods are 127.244.N.x)
describe('EndpointSlice', () => {
  const slice = (addressType: string, endpoints: unknown[], ports: unknown[] = []): any => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc', namespace: 'default' },
    addressType,
    endpoints,
    ports,
  });
  const ep = (...addresses: string[]): any => ({ addresses });

  it.each<[string, any, string[]]>([
    [
      "valid, a pod IP of kubemu's loopback network included",
      slice('IPv4', [ep('10.1.2.3'), ep('127.244.1.5')]),
      [],
    ],
    [
      'unspecified',
      slice('IPv4', [ep('0.0.0.0')]),
      ['endpoints[0].addresses[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)'],
    ],
    [
      'link-local',
      slice('IPv4', [ep('169.254.169.254')]),
      [
        'endpoints[0].addresses[0]: Invalid value: "169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
      ],
    ],
    [
      'link-local multicast (IPv6)',
      slice('IPv6', [ep('ff02::1')]),
      [
        'endpoints[0].addresses[0]: Invalid value: "ff02::1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
      ],
    ],
    [
      'an IPv6 address in an IPv4 slice',
      slice('IPv4', [ep('2001:db8::1')]),
      ['endpoints[0].addresses[0]: Invalid value: "2001:db8::1": must be a valid IPv4 address'],
    ],
    ['FQDN with a trailing dot', slice('FQDN', [ep('foo.example.com.')]), []],
    [
      'FQDN of one label',
      slice('FQDN', [ep('foo')]),
      [
        'endpoints[0].addresses[0]: Invalid value: "foo": should be a domain with at least two segments separated by dots',
      ],
    ],
    [
      'too many topology labels',
      slice('IPv4', [
        {
          addresses: ['10.1.2.3'],
          deprecatedTopology: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
        },
      ]),
      ['endpoints[0].deprecatedTopology: Too many: 17: must have at most 16 items'],
    ],
    [
      'duplicate and invalid zone hints',
      slice('IPv4', [
        {
          addresses: ['10.1.2.3'],
          hints: { forZones: [{ name: 'zone-a' }, { name: 'zone-a' }, { name: 'zone b' }] },
        },
      ]),
      [
        'endpoints[0].hints.forZones[1].name: Duplicate value: "zone-a"',
        expect.stringMatching(
          /^endpoints\[0\]\.hints\.forZones\[2\]\.name: Invalid value: "zone b": a valid label must be/,
        ),
      ],
    ],
    [
      'more than 100 ports and port 0 (upstream checks neither)',
      slice(
        'IPv4',
        [],
        Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, protocol: 'TCP', port: i === 0 ? 0 : 80 })),
      ),
      [],
    ],
  ])('%s', (_name, body, expected) => {
    expect(createErrors(body)).toEqual(expected);
  });

  it('more than 1,000 endpoints: one Too many, the endpoints are not checked one by one', () => {
    const endpoints = Array.from({ length: 1001 }, () => ep('0.0.0.0'));
    expect(createErrors(slice('IPv4', endpoints))).toEqual([
      'endpoints: Too many: 1001: must have at most 1000 items',
    ]);
  });
});

// pkg/apis/networking/validation/validation.go (index id 322846700): ValidateIPAddress, validateIPAddressParentReference
describe('IPAddress', () => {
  const ip = (parentRef: Record<string, unknown>): any => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IPAddress',
    metadata: { name: '10.96.0.10' },
    spec: { parentRef },
  });

  it('parentRef resource, name and namespace are path segments (a dotted or upper-case name is fine)', () => {
    expect(
      createErrors(ip({ group: '', resource: 'services', name: 'My.Service', namespace: 'Default' })),
    ).toEqual([]);
    expect(createErrors(ip({ resource: 'a/b', name: '..', namespace: 'x%y' }))).toEqual([
      `spec.parentRef.resource: Invalid value: "a/b": may not contain '/'`,
      `spec.parentRef.name: Invalid value: "..": may not be '..'`,
      `spec.parentRef.namespace: Invalid value: "x%y": may not contain '%'`,
    ]);
    expect(createErrors(ip({}))).toEqual([
      'spec.parentRef.resource: Required value',
      'spec.parentRef.name: Required value',
    ]);
  });
});
