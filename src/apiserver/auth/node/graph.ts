// The Node authorizer's graph (upstream plugin/pkg/auth/authorizer/node/graph.go and graph_populator.go), reduced to
// what it answers: which secrets, configmaps, PVCs, PVs and ServiceAccounts a node may reach through the pods bound
// to it. Each pod with spec.nodeName contributes edges object → pod → node; a PVC adds PVC → PV through its
// spec.volumeName. Edges are counted per node, so two pods naming one Secret keep it reachable until both are gone.
import type { Container, EphemeralContainer, Pod, Volume } from 'kubernetes-types/core/v1.js';

export type VertexType = 'secret' | 'configmap' | 'pvc' | 'pv' | 'serviceAccount';

/** what the graph keeps of a pod: its node and the namespaced objects it references */
export interface PodEdges {
  nodeName: string;
  namespace: string;
  /** `type/name` within the pod's namespace */
  refs: string[];
}

type AnyContainer = Container | EphemeralContainer;

function containers(pod: Pod): AnyContainer[] {
  const spec = pod.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
}

/** upstream's VisitPodSecretNames: pull secrets, env and envFrom, and every volume kind that names a Secret */
function secretNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const s of pod.spec?.imagePullSecrets ?? []) if (s.name) names.push(s.name);
  for (const c of containers(pod)) {
    for (const e of c.envFrom ?? []) if (e.secretRef?.name) names.push(e.secretRef.name);
    for (const e of c.env ?? [])
      if (e.valueFrom?.secretKeyRef?.name) names.push(e.valueFrom.secretKeyRef.name);
  }
  for (const v of pod.spec?.volumes ?? []) names.push(...volumeSecretNames(v));
  return names;
}

function volumeSecretNames(v: Volume): string[] {
  const names: string[] = [];
  const add = (n: string | undefined): void => {
    if (n) names.push(n);
  };
  add(v.secret?.secretName);
  for (const s of v.projected?.sources ?? []) add(s.secret?.name);
  add(v.azureFile?.secretName);
  add(v.cephfs?.secretRef?.name);
  add(v.cinder?.secretRef?.name);
  add(v.flexVolume?.secretRef?.name);
  add(v.iscsi?.secretRef?.name);
  add(v.rbd?.secretRef?.name);
  add(v.scaleIO?.secretRef?.name);
  add(v.storageos?.secretRef?.name);
  add(v.csi?.nodePublishSecretRef?.name);
  return names;
}

/** upstream's VisitPodConfigmapNames */
function configMapNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const c of containers(pod)) {
    for (const e of c.envFrom ?? []) if (e.configMapRef?.name) names.push(e.configMapRef.name);
    for (const e of c.env ?? [])
      if (e.valueFrom?.configMapKeyRef?.name) names.push(e.valueFrom.configMapKeyRef.name);
  }
  for (const v of pod.spec?.volumes ?? []) {
    if (v.configMap?.name) names.push(v.configMap.name);
    for (const s of v.projected?.sources ?? []) if (s.configMap?.name) names.push(s.configMap.name);
  }
  return names;
}

/** persistentVolumeClaim volumes, and the PVC a generic ephemeral volume gets (`<pod>-<volume>`) */
function pvcNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim?.claimName) names.push(v.persistentVolumeClaim.claimName);
    if (v.ephemeral) names.push(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return names;
}

/** The edges a pod contributes, or undefined for a pod on no node (upstream adds only bound pods). */
export function podEdges(pod: Pod): PodEdges | undefined {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) return undefined;
  const refs = new Set<string>();
  for (const n of secretNames(pod)) refs.add(`secret/${n}`);
  for (const n of configMapNames(pod)) refs.add(`configmap/${n}`);
  for (const n of pvcNames(pod)) refs.add(`pvc/${n}`);
  refs.add(`serviceAccount/${pod.spec?.serviceAccountName || 'default'}`);
  return { nodeName, namespace: pod.metadata?.namespace ?? '', refs: [...refs] };
}

/** Reachability from each node, maintained incrementally from pod and PVC changes. */
export class NodeGraph {
  /** node → `type/namespace/name` → how many of its pods reference it */
  private readonly reach = new Map<string, Map<string, number>>();
  /** `namespace/name` of a PVC → its PV */
  private readonly pvcVolume = new Map<string, string>();
  /** PV → the PVCs bound to it (normally one) */
  private readonly pvClaims = new Map<string, Set<string>>();

  /** a pod changed: its old edges (if any) go, its new ones come */
  setPod(before: PodEdges | undefined, after: PodEdges | undefined): void {
    if (before) this.count(before, -1);
    if (after) this.count(after, 1);
  }

  /** a PVC changed: which PV it is bound to (undefined: none, or the PVC is gone) */
  setPvc(namespace: string, name: string, volumeName: string | undefined): void {
    const key = `${namespace}/${name}`;
    const old = this.pvcVolume.get(key);
    if (old) this.pvClaims.get(old)?.delete(key);
    if (volumeName) {
      this.pvcVolume.set(key, volumeName);
      let claims = this.pvClaims.get(volumeName);
      if (!claims) this.pvClaims.set(volumeName, (claims = new Set()));
      claims.add(key);
    } else this.pvcVolume.delete(key);
  }

  clear(): void {
    this.reach.clear();
  }

  clearPvcs(): void {
    this.pvcVolume.clear();
    this.pvClaims.clear();
  }

  /** upstream's hasPathFrom: whether `node` reaches the object through one of its pods */
  hasPath(node: string, type: VertexType, namespace: string, name: string): boolean {
    const reach = this.reach.get(node);
    if (!reach) return false;
    if (type === 'pv') {
      for (const claim of this.pvClaims.get(name) ?? []) if (reach.has(`pvc/${claim}`)) return true;
      return false;
    }
    return reach.has(`${type}/${namespace}/${name}`);
  }

  private count(edges: PodEdges, delta: number): void {
    let reach = this.reach.get(edges.nodeName);
    if (!reach) this.reach.set(edges.nodeName, (reach = new Map<string, number>()));
    for (const ref of edges.refs) {
      const slash = ref.indexOf('/');
      const key = `${ref.slice(0, slash)}/${edges.namespace}/${ref.slice(slash + 1)}`;
      const n = (reach.get(key) ?? 0) + delta;
      if (n > 0) reach.set(key, n);
      else reach.delete(key);
    }
    if (reach.size === 0) this.reach.delete(edges.nodeName);
  }
}
