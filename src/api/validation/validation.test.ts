import { describe, it, expect } from 'vitest';
import { errors, fieldErrorString, type FieldError } from '../errors.js';
import { applyDefaults } from '../defaults/index.js';
import type { KubeObject } from '../request.js';
import { decodeObject, type Gvk } from '../schema/index.js';
import { FIXTURES } from './fixtures.js';
import { validateObject } from './index.js';

/** decode + defaults, as the apiserver does before validating */
function prepared(gvk: Gvk, body: unknown): KubeObject {
  const { object } = decodeObject(gvk, body, 'Strict');
  applyDefaults(gvk, object);
  return object;
}
const fixture = (kind: string, version = 'v1') =>
  FIXTURES.find((f) => f.gvk.kind === kind && f.gvk.version === version)!;
const errs = (kind: string, mutate: (o: any) => void, version = 'v1'): FieldError[] => {
  const f = fixture(kind, version);
  const body = f.object();
  mutate(body);
  return validateObject(f.gvk, prepared(f.gvk, body));
};
const fields = (e: FieldError[]) => e.map((x) => x.field);
const lines = (e: FieldError[]) => e.map(fieldErrorString);

describe('valid objects', () => {
  it.each(FIXTURES.map((f) => [`${f.gvk.kind} ${f.gvk.version}`, f] as const))(
    '%s validates clean',
    (_name, f) => {
      expect(validateObject(f.gvk, prepared(f.gvk, f.object()))).toEqual([]);
    },
  );
});

describe('metadata', () => {
  it('names must be RFC 1123 subdomains, worded as upstream', () => {
    const e = errs('ConfigMap', (o) => (o.metadata.name = 'Not_A_Name'));
    expect(lines(e)).toEqual([
      `metadata.name: Invalid value: "Not_A_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ]);
  });

  it('Namespaces need RFC 1123 labels; Services DNS-1035 labels', () => {
    expect(errs('Namespace', (o) => (o.metadata.name = 'a.b'))[0].detail).toContain(
      'a lowercase RFC 1123 label must consist of',
    );
    expect(errs('Service', (o) => (o.metadata.name = '1web'))[0].detail).toBe(
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    );
  });

  it('name or generateName is required; generateName may end with a dash', () => {
    expect(lines(errs('Pod', (o) => delete o.metadata.name))).toEqual([
      'metadata.name: Required value: name or generateName is required',
    ]);
    expect(errs('Pod', (o) => ((o.metadata.generateName = 'web-'), delete o.metadata.name))).toEqual([]);
  });

  it('namespace is required for namespaced kinds and forbidden for cluster-scoped ones', () => {
    expect(lines(errs('Pod', (o) => delete o.metadata.namespace))).toEqual([
      'metadata.namespace: Required value',
    ]);
    expect(lines(errs('Node', (o) => (o.metadata.namespace = 'default')))).toEqual([
      'metadata.namespace: Forbidden: not allowed on this type',
    ]);
  });

  it('labels and annotations keys and values', () => {
    const e = errs('Pod', (o) => (o.metadata.labels = { 'bad key!': 'ok', good: 'bad value!' }));
    expect(fields(e)).toEqual(['metadata.labels', 'metadata.labels']);
    expect(e[0].detail).toMatch(/^name part must consist of alphanumeric characters/);
    expect(e[1].detail).toMatch(
      /^a valid label must be an empty string or consist of alphanumeric characters/,
    );
    expect(errs('Pod', (o) => (o.metadata.labels = { a: 'x'.repeat(64) }))[0].detail).toBe(
      'must be no more than 63 characters',
    );
    expect(fields(errs('Pod', (o) => (o.metadata.annotations = { 'a/b/c': 'x' })))).toEqual([
      'metadata.annotations',
    ]);
  });
});

describe('Pod spec', () => {
  it('containers are required, with names and images', () => {
    expect(lines(errs('Pod', (o) => (o.spec.containers = [])))).toEqual(['spec.containers: Required value']);
    expect(
      fields(errs('Pod', (o) => (delete o.spec.containers[0].name, delete o.spec.containers[0].image))),
    ).toEqual(['spec.containers[0].name', 'spec.containers[0].image']);
    expect(lines(errs('Pod', (o) => o.spec.containers.push({ name: 'web', image: 'x' })))).toEqual([
      'spec.containers[1].name: Duplicate value: "web"',
    ]);
  });

  it('ports, probes, enums, mounts, resources', () => {
    expect(lines(errs('Pod', (o) => (o.spec.containers[0].ports[0].containerPort = 70000)))).toEqual([
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    expect(lines(errs('Pod', (o) => (o.spec.restartPolicy = 'Sometimes')))).toEqual([
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    expect(lines(errs('Pod', (o) => (o.spec.containers[0].volumeMounts[0].name = 'nope')))).toEqual([
      'spec.containers[0].volumeMounts[0].name: Not found: "nope"',
    ]);
    // upstream's validateLocalDescendingPath: a subPath stays inside its volume
    expect(
      lines(errs('Pod', (o) => (o.spec.containers[0].volumeMounts[0].subPath = '../../../../var/tmp/x'))),
    ).toEqual([
      `spec.containers[0].volumeMounts[0].subPath: Invalid value: "../../../../var/tmp/x": must not contain '..'`,
    ]);
    expect(lines(errs('Pod', (o) => (o.spec.containers[0].volumeMounts[0].subPath = '/etc')))).toEqual([
      'spec.containers[0].volumeMounts[0].subPath: Invalid value: "/etc": must be a relative path',
    ]);
    expect(errs('Pod', (o) => (o.spec.containers[0].volumeMounts[0].subPath = 'a/..b/c..'))).toEqual([]);
    expect(
      lines(
        errs('Pod', (o) => {
          o.spec.containers[0].volumeMounts[0].subPath = 'a';
          o.spec.containers[0].volumeMounts[0].subPathExpr = '$(POD_NAME)/../..';
        }),
      ),
    ).toEqual([
      'spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: "$(POD_NAME)/../..": subPathExpr and subPath are mutually exclusive',
      `spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: "$(POD_NAME)/../..": must not contain '..'`,
    ]);
    expect(
      lines(
        errs(
          'Pod',
          (o) => (o.spec.containers[0].resources = { limits: { cpu: '1' }, requests: { cpu: '2' } }),
        ),
      ),
    ).toEqual([
      'spec.containers[0].resources.requests[cpu]: Invalid value: "2": must be less than or equal to cpu limit of 1',
    ]);
    expect(
      lines(
        errs(
          'Pod',
          (o) => (o.spec.containers[0].livenessProbe = { httpGet: { port: 80 }, successThreshold: 2 }),
        ),
      ),
    ).toEqual(['spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1']);
    expect(lines(errs('Pod', (o) => (o.spec.containers[0].readinessProbe = { periodSeconds: 5 })))).toEqual([
      'spec.containers[0].readinessProbe: Required value: must specify a handler type',
    ]);
    expect(fields(errs('Pod', (o) => (o.spec.containers[0].env = [{ name: '1BAD' }])))).toEqual([
      'spec.containers[0].env[0].name',
    ]);
  });

  it('restartPolicy on a container: init containers only, Always only (native sidecars)', () => {
    const sidecar = {
      name: 'proxy',
      image: 'x',
      restartPolicy: 'Always',
      readinessProbe: { tcpSocket: { port: 80 } },
    };
    expect(lines(errs('Pod', (o) => (o.spec.initContainers = [sidecar])))).toEqual([]);
    expect(
      lines(
        errs('Pod', (o) => (o.spec.initContainers = [{ name: 'i', image: 'x', restartPolicy: 'OnFailure' }])),
      ),
    ).toEqual([
      'spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always"',
    ]);
    expect(lines(errs('Pod', (o) => (o.spec.containers[0].restartPolicy = 'Always')))).toEqual([
      'spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers',
    ]);
    expect(
      lines(
        errs(
          'Pod',
          (o) =>
            (o.spec.initContainers = [
              { name: 'i', image: 'x', startupProbe: { exec: { command: ['true'] } } },
            ]),
        ),
      ),
    ).toEqual([
      'spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always',
    ]);
  });
});

describe('Deployment and ReplicaSet', () => {
  it('the selector must match the template labels', () => {
    expect(lines(errs('Deployment', (o) => (o.spec.template.metadata.labels = { app: 'other' })))).toEqual([
      'spec.template.metadata.labels: Invalid value: {"app":"other"}: `selector` does not match template `labels`',
    ]);
    expect(
      fields(
        errs(
          'ReplicaSet',
          (o) =>
            (o.spec.selector = { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }),
        ),
      ),
    ).toEqual(['spec.template.metadata.labels']);
  });

  it('selector required and non-empty; replicas non-negative; template restartPolicy Always', () => {
    expect(fields(errs('Deployment', (o) => delete o.spec.selector))).toEqual(['spec.selector']);
    expect(lines(errs('Deployment', (o) => (o.spec.selector = {})))[0]).toMatch(
      /^spec\.selector: Invalid value: .*: empty selector is invalid for deployment$/,
    );
    expect(lines(errs('Deployment', (o) => (o.spec.replicas = -1)))).toEqual([
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    ]);
    expect(lines(errs('Deployment', (o) => (o.spec.template.spec.restartPolicy = 'Never')))).toEqual([
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ]);
    expect(fields(errs('Deployment', (o) => delete o.spec.template.spec.containers[0].image))).toEqual([
      'spec.template.spec.containers[0].image',
    ]);
  });

  it('rolling update bounds', () => {
    expect(
      lines(
        errs('Deployment', (o) => (o.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } })),
      ),
    ).toEqual([
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0',
    ]);
    expect(
      lines(errs('Deployment', (o) => (o.spec.strategy = { rollingUpdate: { maxUnavailable: '120%' } }))),
    ).toEqual([
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "120%": must not be greater than 100%',
    ]);
  });
});

describe('Service', () => {
  it('ports: range, names when several, nodePort range and type', () => {
    expect(lines(errs('Service', (o) => (o.spec.ports[0].port = 0)))).toEqual([
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
    expect(lines(errs('Service', (o) => o.spec.ports.push({ name: 'b', port: 81 })))).toEqual([
      'spec.ports[0].name: Required value',
    ]);
    expect(lines(errs('Service', (o) => (o.spec.ports[0].nodePort = 30080)))).toEqual([
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
    expect(
      lines(errs('Service', (o) => ((o.spec.type = 'NodePort'), (o.spec.ports[0].nodePort = 8080)))),
    ).toEqual([
      'spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    expect(errs('Service', (o) => ((o.spec.type = 'NodePort'), (o.spec.ports[0].nodePort = 30080)))).toEqual(
      [],
    );
    expect(lines(errs('Service', (o) => (o.spec.type = 'Magic')))).toEqual([
      'spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
  });
});

describe('Ingress', () => {
  it('pathType is required and paths must be absolute', () => {
    expect(lines(errs('Ingress', (o) => delete o.spec.rules[0].http.paths[0].pathType))).toEqual([
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    ]);
    expect(lines(errs('Ingress', (o) => (o.spec.rules[0].http.paths[0].path = 'api')))).toEqual([
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    ]);
    expect(fields(errs('Ingress', (o) => (o.spec.rules[0].host = 'Bad_Host')))).toEqual([
      'spec.rules[0].host',
    ]);
    expect(errs('Ingress', (o) => (o.spec.rules[0].host = '*.example.com'))).toEqual([]);
    expect(lines(errs('Ingress', (o) => (o.spec.rules[0].http.paths[0].backend.service.port = {})))).toEqual([
      'spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required',
    ]);
  });
});

describe('HPA', () => {
  it('min ≤ max, and min ≥ 1', () => {
    expect(
      lines(
        errs('HorizontalPodAutoscaler', (o) => ((o.spec.minReplicas = 6), (o.spec.maxReplicas = 3)), 'v2'),
      ),
    ).toEqual(['spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`']);
    expect(lines(errs('HorizontalPodAutoscaler', (o) => (o.spec.minReplicas = 0), 'v2'))).toEqual([
      'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    ]);
  });

  it('v1 objects are validated in their v2 form', () => {
    expect(
      fields(errs('HorizontalPodAutoscaler', (o) => (o.spec.targetCPUUtilizationPercentage = 0), 'v1')),
    ).toEqual(['spec.metrics[0].resource.target.averageUtilization']);
  });
});

describe('update rules', () => {
  const update = (kind: string, mutate: (o: any) => void, version = 'v1', subresource?: string) => {
    const f = fixture(kind, version);
    const old = prepared(f.gvk, f.object());
    const next = structuredClone(old) as any;
    mutate(next);
    return lines(validateObject(f.gvk, next, { old, ...(subresource ? { subresource } : {}) }));
  };

  it('an unchanged object is a valid update', () => {
    for (const f of FIXTURES) {
      const old = prepared(f.gvk, f.object());
      expect(validateObject(f.gvk, structuredClone(old), { old }), `${f.gvk.kind}`).toEqual([]);
    }
  });

  it('Deployment/ReplicaSet selectors are immutable', () => {
    const e = update('Deployment', (o) => {
      o.spec.selector = { matchLabels: { app: 'web', tier: 'x' } };
      o.spec.template.metadata.labels.tier = 'x';
    });
    expect(e).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable',
    ]);
    expect(update('ReplicaSet', (o) => (o.spec.selector.matchLabels.app = 'x'))).toContain(
      'spec.selector: Invalid value: {"matchLabels":{"app":"x"}}: field is immutable',
    );
  });

  it('pods: images may change, most of the spec may not', () => {
    expect(update('Pod', (o) => (o.spec.containers[0].image = 'kubemu/hello:v2'))).toEqual([]);
    const e = update('Pod', (o) => (o.spec.restartPolicy = 'Never'));
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(
      /^spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );
    expect(update('Pod', (o) => o.spec.containers.push({ name: 'b', image: 'x' }))).toEqual([
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    ]);
    expect(update('Pod', (o) => (o.metadata.labels.extra = 'yes'))).toEqual([]);
  });

  it('metadata.name and namespace are immutable', () => {
    expect(update('ConfigMap', (o) => (o.metadata.name = 'other'))).toEqual([
      'metadata.name: Invalid value: "other": field is immutable',
    ]);
  });

  it('Service clusterIP may not change once set', () => {
    const f = fixture('Service');
    const old = prepared(f.gvk, f.object()) as any;
    old.spec.clusterIP = '127.96.0.10';
    old.spec.clusterIPs = ['127.96.0.10'];
    const next = structuredClone(old);
    next.spec.clusterIP = '127.96.0.11';
    next.spec.clusterIPs = ['127.96.0.11'];
    expect(lines(validateObject(f.gvk, next, { old }))).toEqual([
      'spec.clusterIPs[0]: Invalid value: ["127.96.0.11"]: may not change once set',
    ]);
  });

  it('immutable ConfigMaps and Secrets', () => {
    const f = fixture('ConfigMap');
    const old = { ...prepared(f.gvk, f.object()), immutable: true } as any;
    const next = { ...structuredClone(old), data: { 'app.conf': 'x=2' } };
    expect(lines(validateObject(f.gvk, next, { old }))).toEqual([
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
    expect(update('Secret', (o) => (o.type = 'kubernetes.io/tls'))).toContain(
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
    );
  });

  it('status updates check status fields, not spec rules', () => {
    expect(
      update(
        'Pod',
        (o) => (o.status = { podIP: '127.244.1.2', podIPs: [{ ip: '127.244.1.2' }] }),
        'v1',
        'status',
      ),
    ).toEqual([]);
    expect(update('Pod', (o) => (o.status = { podIPs: [{ ip: 'nope' }] }), 'v1', 'status')).toEqual([
      'status.podIPs[0].ip: Invalid value: "nope": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ]);
    expect(update('Deployment', (o) => (o.status = { replicas: -1 }), 'v1', 'status')).toEqual([
      'status.replicas: Invalid value: -1: must be greater than or equal to 0',
    ]);
  });
});

describe('Secrets: the keys of each well-known type (upstream ValidateSecret)', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = (type: string, data: Record<string, string>) =>
    lines(errs('Secret', (o) => Object.assign(o, { type, data })));

  it('basic-auth needs username or password, and names both when neither is there', () => {
    expect(secret('kubernetes.io/basic-auth', { user: b64('x') })).toEqual([
      'data[username]: Required value',
      'data[password]: Required value',
    ]);
    expect(secret('kubernetes.io/basic-auth', { password: '' })).toEqual([]);
    expect(secret('kubernetes.io/basic-auth', { username: b64('u') })).toEqual([]);
  });

  it('ssh-auth needs a non-empty private key; tls needs both halves', () => {
    expect(secret('kubernetes.io/ssh-auth', { 'ssh-privatekey': '' })).toEqual([
      'data[ssh-privatekey]: Required value',
    ]);
    expect(secret('kubernetes.io/ssh-auth', { 'ssh-privatekey': b64('key') })).toEqual([]);
    expect(secret('kubernetes.io/tls', {})).toEqual([
      'data[tls.crt]: Required value',
      'data[tls.key]: Required value',
    ]);
  });

  it('docker config Secrets must hold a JSON object, with Go encoding/json messages', () => {
    expect(secret('kubernetes.io/dockerconfigjson', {})).toEqual(['data[.dockerconfigjson]: Required value']);
    expect(secret('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': b64('{"auths":{}}') })).toEqual(
      [],
    );
    expect(secret('kubernetes.io/dockerconfigjson', { '.dockerconfigjson': b64('{"auths":') })).toEqual([
      'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of JSON input',
    ]);
    expect(secret('kubernetes.io/dockercfg', { '.dockercfg': b64('[1]') })).toEqual([
      'data[.dockercfg]: Invalid value: "<secret contents redacted>": json: cannot unmarshal array into Go value of type map[string]interface {}',
    ]);
  });

  it('service-account-token Secrets name their ServiceAccount', () => {
    expect(secret('kubernetes.io/service-account-token', {})).toEqual([
      'metadata.annotations[kubernetes.io/service-account.name]: Required value',
    ]);
  });

  it('all values together hold at most 1 MiB, counted decoded', () => {
    const half = Buffer.alloc(512 * 1024, 1).toString('base64');
    expect(secret('Opaque', { a: half, b: half })).toEqual([]);
    expect(secret('Opaque', { a: half, b: half, c: b64('x') })).toEqual([
      'data: Too long: may not be more than 1048576 bytes',
    ]);
  });

  it('keys must be config keys', () => {
    expect(secret('Opaque', { 'a b': b64('x') })).toEqual([
      `data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
  });
});

describe('the Invalid Status the apiserver builds from these errors', () => {
  it('reads like upstream', () => {
    const e = errs('Deployment', (o) => (o.spec.replicas = -1));
    const err = errors.invalid(
      { group: 'apps', kind: 'Deployment', kindName: 'Deployment', resource: 'deployments', name: 'web' },
      e,
    );
    expect(err.message).toBe(
      'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
  });
});
