// What the apiserver's authenticators and the Node authorizer read on every request, mirrored from its own registry:
// ServiceAccounts, pods, secrets and nodes as far as bound tokens need them (uid, deletion), the Secret tokens of
// legacy ServiceAccount tokens, and the Node authorizer's graph fed by pods and PVCs.
import type { PersistentVolumeClaim, Pod } from 'kubernetes-types/core/v1.js';
import type { ApiHandler, KubeObject } from '../../api/request.js';
import type { Logger } from '../../util/logger.js';
import { NodeGraph, podEdges, type PodEdges } from './node/graph.js';
import { RegistryMirror } from './registry-mirror.js';
import type { LiveObject, LiveSecret, ServiceAccountObjects } from './serviceaccount/token-authenticator.js';

const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token';

function live(o: KubeObject): LiveObject {
  const deletion = o.metadata?.deletionTimestamp;
  return { uid: o.metadata?.uid ?? '', ...(deletion ? { deletionTimestamp: Date.parse(deletion) } : {}) };
}

function liveSecret(o: KubeObject): LiveSecret {
  const out: LiveSecret = live(o);
  const data = (o as { data?: Record<string, string>; type?: string }).data;
  if ((o as { type?: string }).type === SERVICE_ACCOUNT_TOKEN_TYPE && data?.['token'])
    out.token = Buffer.from(data['token'], 'base64').toString('utf8');
  return out;
}

interface LivePod extends LiveObject {
  edges?: PodEdges;
}

export class AuthObjects implements ServiceAccountObjects {
  readonly graph = new NodeGraph();
  private readonly mirrors: RegistryMirror<unknown>[];
  private readonly serviceAccounts: RegistryMirror<LiveObject>;
  private readonly pods: RegistryMirror<LivePod>;
  private readonly secrets: RegistryMirror<LiveSecret>;
  private readonly nodes: RegistryMirror<LiveObject>;
  private readonly pvcs: RegistryMirror<string>;

  constructor(api: ApiHandler, log: Logger) {
    const base = { api, group: '', version: 'v1', log };
    this.serviceAccounts = new RegistryMirror({ ...base, resource: 'serviceaccounts', slim: live });
    this.secrets = new RegistryMirror({ ...base, resource: 'secrets', slim: liveSecret });
    this.nodes = new RegistryMirror({ ...base, resource: 'nodes', slim: live });
    this.pods = new RegistryMirror<LivePod>({
      ...base,
      resource: 'pods',
      slim: (o) => {
        const edges = podEdges(o as Pod);
        return { ...live(o), ...(edges ? { edges } : {}) };
      },
      onChange: (_key, before, after) => this.graph.setPod(before?.edges, after?.edges),
      onReset: () => {
        this.graph.clear();
        for (const p of this.pods.values()) this.graph.setPod(undefined, p.edges);
      },
    });
    this.pvcs = new RegistryMirror<string>({
      ...base,
      resource: 'persistentvolumeclaims',
      slim: (o) => (o as PersistentVolumeClaim).spec?.volumeName ?? '',
      onChange: (key, _before, after) => {
        const [ns, name] = key.split('/');
        this.graph.setPvc(ns, name, after || undefined);
      },
      onReset: () => {
        this.graph.clearPvcs();
        for (const [key, volume] of this.pvcs.entries()) {
          const [ns, name] = key.split('/');
          this.graph.setPvc(ns, name, volume || undefined);
        }
      },
    });
    this.mirrors = [
      this.serviceAccounts,
      this.secrets,
      this.nodes,
      this.pods,
      this.pvcs,
    ] as RegistryMirror<unknown>[];
  }

  async start(): Promise<void> {
    await Promise.all(this.mirrors.map((m) => m.start()));
  }

  stop(): void {
    for (const m of this.mirrors) m.stop();
  }

  serviceAccount(namespace: string, name: string): LiveObject | undefined {
    return this.serviceAccounts.get(namespace, name);
  }

  pod(namespace: string, name: string): LiveObject | undefined {
    return this.pods.get(namespace, name);
  }

  secret(namespace: string, name: string): LiveSecret | undefined {
    return this.secrets.get(namespace, name);
  }

  node(name: string): LiveObject | undefined {
    return this.nodes.get('', name);
  }
}
