// APIServices through the real registry (SQLite in memory): the local ones every cluster has (kube-aggregator's
// autoregister with upstream's priorities), upstream's validation messages, and the Available condition: Local
// ones True, one pointing at a Service (which kubemu does not proxy to) False with upstream's reason.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/errors.js';
import type { ApiRequest, KubeObject } from '../../api/request.js';
import { SqliteStorage } from '../storage/sqlite-storage.js';
import { Registry } from './registry.js';

let storage: SqliteStorage;
let registry: Registry;
const user = { username: 'alice', uid: 'u-1', groups: ['system:masters', 'system:authenticated'] };

beforeEach(async () => {
  storage = SqliteStorage.open({ path: ':memory:', freezeObjects: true });
  registry = new Registry({ storage });
  await registry.init();
});

afterEach(() => storage.close());

type Req = Pick<ApiRequest, 'verb'> & Partial<ApiRequest>;

const api = (req: Req): Promise<KubeObject> =>
  registry
    .handle({
      group: 'apiregistration.k8s.io',
      version: 'v1',
      resource: 'apiservices',
      options: {},
      user,
      ...req,
    })
    .then((r) => r.body as KubeObject);

async function invalid(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ApiError);
  expect((e as ApiError).reason).toBe('Invalid');
  return (e as ApiError).message;
}

const apiService = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apiregistration.k8s.io/v1',
  kind: 'APIService',
  metadata: { name },
  spec,
});

describe('APIService', () => {
  it('registers every served group-version as a Local, available APIService with upstream priorities', async () => {
    const list = (await api({ verb: 'list' })) as { items?: KubeObject[] };
    const names = (list.items ?? []).map((i) => i.metadata!.name);
    for (const n of [
      'v1.',
      'v1.apps',
      'v2.autoscaling',
      'v1.autoscaling',
      'v1.batch',
      'v1.apiextensions.k8s.io',
    ])
      expect(names).toContain(n);
    expect(names).not.toContain('v1.apiregistration.k8s.io');
    const core = (list.items ?? []).find((i) => i.metadata!.name === 'v1.')!;
    expect(core.metadata!.labels).toEqual({ 'kube-aggregator.kubernetes.io/automanaged': 'onstart' });
    expect(core['spec']).toEqual({
      group: '',
      version: 'v1',
      groupPriorityMinimum: 18000,
      versionPriority: 1,
    });
    const hpa = (list.items ?? []).find((i) => i.metadata!.name === 'v2.autoscaling')!;
    expect(hpa['spec']).toMatchObject({ groupPriorityMinimum: 17500, versionPriority: 30 });
    expect((core['status'] as { conditions: unknown[] }).conditions).toEqual([
      expect.objectContaining({
        type: 'Available',
        status: 'True',
        reason: 'Local',
        message: 'Local APIServices are always available',
      }),
    ]);
  });

  it('stores one that points at a Service as not available, with a reason, and defaults its port', async () => {
    const created = await api({
      verb: 'create',
      body: apiService('v1beta1.metrics.example.com', {
        group: 'metrics.example.com',
        version: 'v1beta1',
        service: { namespace: 'kube-system', name: 'example-metrics' },
        insecureSkipTLSVerify: true,
        groupPriorityMinimum: 100,
        versionPriority: 100,
      }),
    });
    expect((created['spec'] as { service: unknown }).service).toEqual({
      namespace: 'kube-system',
      name: 'example-metrics',
      port: 443,
    });
    const [available] = (created['status'] as { conditions: Record<string, string>[] }).conditions;
    expect(available).toMatchObject({ type: 'Available', status: 'False', reason: 'FailedDiscoveryCheck' });
    expect(available.message).toContain('service/example-metrics in "kube-system"');
  });

  it('refuses what upstream refuses, with its messages', async () => {
    let msg = await invalid(
      api({
        verb: 'create',
        body: apiService('v1.wrong', {
          group: 'example.com',
          version: 'v1',
          groupPriorityMinimum: 1,
          versionPriority: 1,
        }),
      }),
    );
    expect(msg).toContain(
      'metadata.name: Invalid value: "v1.wrong": must be `spec.version+"."+spec.group`: "v1.example.com"',
    );
    msg = await invalid(
      api({
        verb: 'create',
        body: apiService('v1.example.com', {
          group: 'example.com',
          version: 'v1',
          groupPriorityMinimum: 0,
          versionPriority: 1001,
        }),
      }),
    );
    expect(msg).toContain(
      'spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000',
    );
    expect(msg).toContain('spec.versionPriority: Invalid value: 1001: must be positive and less than 1000');
    msg = await invalid(
      api({
        verb: 'create',
        body: apiService('v2.', {
          group: '',
          version: 'v2',
          groupPriorityMinimum: 1,
          versionPriority: 1,
          insecureSkipTLSVerify: true,
        }),
      }),
    );
    expect(msg).toContain(
      'spec.group: Required value: only v1 may have an empty group and it better be legacy kube',
    );
    expect(msg).toContain(
      'spec.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify',
    );
  });

  it('stores nothing on dryRun=All and refuses unknown fields under fieldValidation=Strict', async () => {
    const body = apiService('v1.dry.example.com', {
      group: 'dry.example.com',
      version: 'v1',
      groupPriorityMinimum: 100,
      versionPriority: 10,
    });
    const dry = await api({ verb: 'create', body, options: { dryRun: true } });
    expect((dry['status'] as { conditions: { reason: string }[] }).conditions[0].reason).toBe('Local');
    const e = await api({ verb: 'get', name: 'v1.dry.example.com' }).then(
      () => undefined,
      (err: unknown) => err as ApiError,
    );
    expect(e?.reason).toBe('NotFound');
    const strict = await api({
      verb: 'create',
      body: { ...body, spec: { ...(body['spec'] as object), bogus: 1 } },
      options: { fieldValidation: 'Strict' },
    }).then(
      () => undefined,
      (err: unknown) => err as ApiError,
    );
    expect(strict?.message).toContain('unknown field "spec.bogus"');
  });
});
