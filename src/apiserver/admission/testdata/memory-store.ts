// An in-memory AdmissionStore for the plugins' unit tests, and attribute builders.
import type { KubeObject } from '../../../api/request.js';
import type { AdmissionAttributes, AdmissionStore, AdmissionOperation } from '../interface.js';

export class MemoryStore implements AdmissionStore {
  readonly objects = new Map<string, KubeObject>();
  writes = 0;

  private key(group: string, resource: string, namespace: string, name: string): string {
    return `${group}/${resource}/${namespace}/${name}`;
  }

  put(group: string, resource: string, obj: KubeObject): this {
    const m = obj.metadata ?? {};
    this.objects.set(this.key(group, resource, m.namespace ?? '', m.name ?? ''), structuredClone(obj));
    return this;
  }

  get(group: string, resource: string, namespace: string, name: string): Promise<KubeObject | undefined> {
    const o = this.objects.get(this.key(group, resource, namespace, name));
    return Promise.resolve(o && structuredClone(o));
  }

  list(group: string, resource: string, namespace: string): Promise<KubeObject[]> {
    const prefix = namespace ? this.key(group, resource, namespace, '') : `${group}/${resource}/`;
    return Promise.resolve(
      [...this.objects].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o)),
    );
  }

  async update(
    group: string,
    resource: string,
    namespace: string,
    name: string,
    mutate: (current: KubeObject) => KubeObject | undefined,
  ): Promise<KubeObject | undefined> {
    const cur = await this.get(group, resource, namespace, name);
    if (!cur) return undefined;
    const next = mutate(cur);
    if (!next) return undefined;
    this.writes++;
    this.put(group, resource, next);
    return next;
  }
}

export function attrs(
  operation: AdmissionOperation,
  resource: string,
  object: KubeObject | undefined,
  { group = '', ...more }: Partial<AdmissionAttributes> & { group?: string } = {},
): AdmissionAttributes {
  return {
    operation,
    kind: { group, version: 'v1', kind: '' },
    resource: { group, version: 'v1', resource },
    subresource: '',
    namespace: object?.metadata?.namespace ?? 'ns',
    name: object?.metadata?.name ?? '',
    ...(object ? { object } : {}),
    dryRun: false,
    user: { username: 'alice', groups: [] },
    options: {},
    warnings: [],
    ...more,
  };
}

export function pod(
  name: string,
  containers: Record<string, unknown>[],
  spec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns' },
    spec: { containers, ...spec },
  };
}

/** the ApiError a call throws (fails the test when it does not throw) */
export async function rejection(p: unknown): Promise<{ reason: string; message: string; code: number }> {
  try {
    await p;
  } catch (e) {
    return e as { reason: string; message: string; code: number };
  }
  throw new Error('expected a rejection');
}
