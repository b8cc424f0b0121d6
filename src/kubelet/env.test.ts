import { describe, expect, it } from 'vitest';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { expand, mappingFuncFor } from './expansion.js';
import {
  ContainerConfigError,
  expandCommandAndArgs,
  makeEnvironment,
  serviceEnvFor,
  type EnvSources,
} from './env.js';

const vars = mappingFuncFor(
  new Map([
    ['VAR_A', 'A'],
    ['VAR_EMPTY', ''],
  ]),
);

describe('$(VAR) expansion (upstream expansion_test cases)', () => {
  it.each([
    ['$(VAR_A)', 'A'],
    ['___$(VAR_A)___', '___A___'],
    ['$(VAR_A)-$(VAR_A)', 'A-A'],
    ['$(VAR_EMPTY)', ''],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$(VAR_A', '$(VAR_A'],
    ['$VAR_A', '$VAR_A'],
    ['$', '$'],
    ['foo$', 'foo$'],
    ['$()', '$()'],
    ['$$$$', '$$'],
  ])('%s → %s', (input, want) => {
    expect(expand(input, vars)).toBe(want);
  });
});

const svc = (
  ns: string,
  name: string,
  ip: string,
  ports: Service['spec'] extends infer S ? (S extends { ports?: infer P } ? P : never) : never,
): Service => ({
  metadata: { namespace: ns, name },
  spec: { clusterIP: ip, ports },
});

const pod: Pod = {
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web' } },
  spec: { nodeName: 'node-1', serviceAccountName: 'default', containers: [] },
};

const services = [
  svc('default', 'kubernetes', '127.96.0.1', [{ name: 'https', port: 443, protocol: 'TCP' }]),
  svc('shop', 'redis-master', '127.96.0.11', [
    { port: 6379 },
    { name: 'metrics', port: 9121, protocol: 'TCP' },
  ]),
  svc('shop', 'headless', 'None', [{ port: 80 }]),
  svc('other', 'elsewhere', '127.96.0.12', [{ port: 80 }]),
];

describe('service link variables', () => {
  it('names, ports and docker-link variables as upstream', () => {
    const env = serviceEnvFor(pod, services);
    expect(Object.fromEntries(env)).toMatchObject({
      KUBERNETES_SERVICE_HOST: '127.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://127.96.0.1:443',
      KUBERNETES_PORT_443_TCP: 'tcp://127.96.0.1:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '127.96.0.1',
      REDIS_MASTER_SERVICE_HOST: '127.96.0.11',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_SERVICE_PORT_METRICS: '9121',
      REDIS_MASTER_PORT: 'tcp://127.96.0.11:6379',
      REDIS_MASTER_PORT_9121_TCP_ADDR: '127.96.0.11',
    });
    expect(env.has('HEADLESS_SERVICE_HOST')).toBe(false);
    expect(env.has('ELSEWHERE_SERVICE_HOST')).toBe(false);
  });

  it('enableServiceLinks=false keeps only the kubernetes service', () => {
    const env = serviceEnvFor({ ...pod, spec: { ...pod.spec!, enableServiceLinks: false } }, services);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('127.96.0.1');
    expect(env.has('REDIS_MASTER_SERVICE_HOST')).toBe(false);
  });
});

const sources = (extra: Partial<EnvSources> = {}): EnvSources => ({
  configMap: (_ns, name) =>
    Promise.resolve(
      name === 'cfg'
        ? { metadata: { name }, data: { COLOR: 'blue', 'bad name': 'x', SIZE: 'L' } }
        : undefined,
    ),
  secret: (_ns, name) =>
    Promise.resolve(
      name === 'creds'
        ? { metadata: { name }, data: { PASSWORD: Buffer.from('s3cret').toString('base64') } }
        : undefined,
    ),
  services,
  nodeAllocatable: { cpu: '2', memory: '4Gi' },
  ...extra,
});

describe('makeEnvironment', () => {
  const addrs = { podIP: '127.244.1.2', hostIP: '127.0.1.1' };

  it('envFrom, env in order with $(VAR), valueFrom, then service variables', async () => {
    const env = await makeEnvironment(
      pod,
      {
        name: 'c',
        envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'creds' } }],
        env: [
          { name: 'GREETING', value: 'hello $(COLOR) $(LATER) $(REDIS_MASTER_SERVICE_HOST)' },
          { name: 'LATER', value: 'x' },
          { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
          { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'x', optional: true } } },
          { name: 'KUBERNETES_SERVICE_HOST', value: 'mine' },
        ],
      },
      addrs,
      sources(),
    );
    expect(env.get('COLOR')).toBe('blue');
    expect(env.has('bad name')).toBe(false);
    expect(env.get('S_PASSWORD')).toBe('s3cret');
    expect(env.get('GREETING')).toBe('hello blue $(LATER) 127.96.0.11');
    expect(env.get('POD')).toBe('web-1');
    expect(env.get('NS')).toBe('shop');
    expect(env.get('APP')).toBe('web');
    expect(env.get('IP')).toBe('127.244.1.2');
    expect(env.get('HOST_IP')).toBe('127.0.1.1');
    expect(env.get('NODE')).toBe('node-1');
    expect(env.get('MEM')).toBe('4096');
    expect(env.get('PW')).toBe('s3cret');
    expect(env.has('OPT')).toBe(false);
    expect(env.get('KUBERNETES_SERVICE_HOST')).toBe('mine');
    expect(env.get('REDIS_MASTER_SERVICE_PORT')).toBe('6379');
  });

  it('a missing ConfigMap, Secret or key is CreateContainerConfigError with upstream wording', async () => {
    const run = (env: object[]) => makeEnvironment(pod, { name: 'c', env: env as never }, addrs, sources());
    await expect(
      run([{ name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }]),
    ).rejects.toThrow(new ContainerConfigError('configmap "nope" not found'));
    await expect(
      run([{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }]),
    ).rejects.toThrow("couldn't find key k in ConfigMap shop/cfg");
    await expect(
      run([{ name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }]),
    ).rejects.toThrow('secret "nope" not found');
  });

  it('expands command and args against the final environment', () => {
    const out = expandCommandAndArgs(
      { name: 'c', command: ['echo', '$(MSG)'], args: ['$(UNSET)', '$$(MSG)'] },
      new Map([['MSG', 'hi']]),
    );
    expect(out).toEqual({ command: ['echo', 'hi'], args: ['$(UNSET)', '$(MSG)'] });
  });
});
