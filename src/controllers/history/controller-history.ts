// ControllerRevision history (upstream pkg/controller/history): the named, hashed snapshots a StatefulSet or DaemonSet
// keeps of its pod template, so pods can say which revision they run and `kubectl rollout undo` can go back.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { ApiError } from '../../api/errors.js';
import type { Informer, KubeClient, ObjectWithMeta, ResourceClient } from '../../client/index.js';
import { getControllerOf, newControllerRef } from '../common/controller-ref.js';
import { fnv32, safeEncodeString } from '../common/hash.js';
import { NAMESPACE_INDEX, type SharedInformerFactory } from '../common/informers.js';
import { selectorMatches } from '../common/selectors.js';

/** history.ControllerRevisionHashLabel: the hash of a revision's data, on the revision */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

/** how many times a name collision is retried with a bumped collision count before giving up */
const MAX_COLLISIONS = 100;

export function controllerRevisionsClient(client: KubeClient): ResourceClient<ControllerRevision> {
  return client.resource<ControllerRevision>('apps', 'v1', 'controllerrevisions');
}

export function controllerRevisionInformer(informers: SharedInformerFactory): Informer<ControllerRevision> {
  return informers.forResource('controllerrevisions.apps', controllerRevisionsClient(informers.client));
}

/**
 * encoding/json's Marshal of a decoded JSON value: map keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped. The
 * bytes a revision's `data` is hashed and compared by.
 */
export function goJsonMarshal(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(goJsonMarshal).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${goString(k)}:${goJsonMarshal(o[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return goString(v);
  return JSON.stringify(v);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** ControllerRevisionName: `<prefix>-<hash>`, the prefix cut to 223 bytes so the name stays within 253 */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** HashControllerRevision: FNV-32 of the data's bytes, then of the collision count's decimal, safe-encoded */
export function hashControllerRevision(revision: ControllerRevision, probe?: number): string {
  const enc = new TextEncoder();
  let h = fnv32(enc.encode(goJsonMarshal(revision.data ?? null)));
  if (probe !== undefined) h = fnv32(enc.encode(String(probe)), h);
  return safeEncodeString(String(h));
}

/** NewControllerRevision: the template's labels plus the hash label, a controllerRef to `parent`, named by hash */
export function newControllerRevision(
  parent: ObjectWithMeta,
  parentApiVersion: string,
  parentKind: string,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount: number,
): ControllerRevision {
  const cr: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      namespace: parent.metadata?.namespace,
      labels: { ...(templateLabels ?? {}) },
      ownerReferences: [newControllerRef(parent, parentApiVersion, parentKind)],
    },
    data: data as ControllerRevision['data'],
    revision,
  };
  const hash = hashControllerRevision(cr, collisionCount);
  cr.metadata!.name = controllerRevisionName(parent.metadata?.name ?? '', hash);
  cr.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL] = hash;
  return cr;
}

const creationMs = (cr: ControllerRevision): number => Date.parse(cr.metadata?.creationTimestamp ?? '') || 0;

/** SortControllerRevisions: by revision, then creation time, then name (a stable sort) */
export function sortControllerRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort((a, b) => {
    if (a.revision !== b.revision) return a.revision - b.revision;
    const ta = creationMs(a);
    const tb = creationMs(b);
    if (ta !== tb) return ta - tb;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** EqualRevision: the same hash label (when both parse) and the same data */
export function equalRevision(
  lhs: ControllerRevision | undefined,
  rhs: ControllerRevision | undefined,
): boolean {
  if (!lhs || !rhs) return lhs === rhs;
  const hashOf = (cr: ControllerRevision): number | undefined => {
    const v = cr.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
  };
  const lh = hashOf(lhs);
  const rh = hashOf(rhs);
  if (lh !== undefined && rh !== undefined && lh !== rh) return false;
  return goJsonMarshal(lhs.data ?? null) === goJsonMarshal(rhs.data ?? null);
}

/** FindEqualRevisions, in the order of `revisions` */
export function findEqualRevisions(
  revisions: readonly ControllerRevision[],
  needle: ControllerRevision,
): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

const isAlreadyExists = (err: unknown): boolean => ApiError.isApiError(err) && err.code === 409;

/** history.Interface over the API, with the shared informer's cache as lister (realHistory) */
export class History {
  private readonly revisions: ResourceClient<ControllerRevision>;

  constructor(
    client: KubeClient,
    private readonly informer: Informer<ControllerRevision>,
  ) {
    this.revisions = controllerRevisionsClient(client);
  }

  /** revisions in the parent's namespace matching `selector`, owned by the parent or by no controller */
  list(parent: ObjectWithMeta, selector: LabelSelector | undefined): ControllerRevision[] {
    return this.informer.store
      .byIndex(NAMESPACE_INDEX, parent.metadata?.namespace ?? '')
      .filter((cr) => selectorMatches(selector, cr.metadata?.labels))
      .filter((cr) => {
        const ref = getControllerOf(cr);
        return !ref || ref.uid === parent.metadata?.uid;
      });
  }

  /**
   * CreateControllerRevision: on a name collision with different data the collision count goes up and the name is
   * hashed again; an existing revision with the same data is returned as is. Returns the count it ended at.
   */
  async create(
    parent: ObjectWithMeta,
    revision: ControllerRevision,
    collisionCount: number,
  ): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    const ns = parent.metadata?.namespace;
    let count = collisionCount;
    for (let i = 0; i < MAX_COLLISIONS; i++) {
      const hash = hashControllerRevision(revision, count);
      const clone: ControllerRevision = structuredClone(revision);
      clone.metadata = {
        ...clone.metadata,
        namespace: ns,
        name: controllerRevisionName(parent.metadata?.name ?? '', hash),
      };
      try {
        return { revision: await this.revisions.create(clone), collisionCount: count };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const exists = await this.revisions.get(clone.metadata.name!, ns);
        if (goJsonMarshal(exists.data ?? null) === goJsonMarshal(clone.data ?? null))
          return { revision: exists, collisionCount: count };
        count++;
      }
    }
    throw new Error(`too many ControllerRevision name collisions for ${ns}/${parent.metadata?.name}`);
  }

  /** UpdateControllerRevision: set its revision number (a rollback to an earlier template), retrying conflicts */
  async updateRevision(revision: ControllerRevision, newRevision: number): Promise<ControllerRevision> {
    let clone: ControllerRevision = structuredClone(revision);
    for (let attempt = 0; ; attempt++) {
      if (clone.revision === newRevision) return clone;
      clone.revision = newRevision;
      try {
        return await this.revisions.update(clone);
      } catch (err) {
        if (!(ApiError.isApiError(err) && err.code === 409) || attempt >= 4) throw err;
        clone = await this.revisions.get(clone.metadata?.name ?? '', clone.metadata?.namespace);
      }
    }
  }

  async delete(revision: ControllerRevision): Promise<void> {
    try {
      await this.revisions.delete(revision.metadata?.name ?? '', { namespace: revision.metadata?.namespace });
    } catch (err) {
      if (!(ApiError.isApiError(err) && err.code === 404)) throw err;
    }
  }

  /** AdoptControllerRevision: a strategic merge patch adding the controllerRef, with the revision's uid as precondition */
  async adopt(
    parent: ObjectWithMeta,
    parentApiVersion: string,
    parentKind: string,
    revision: ControllerRevision,
  ): Promise<ControllerRevision> {
    const owner = getControllerOf(revision);
    if (owner) throw new Error(`attempt to adopt revision owned by ${owner.kind}/${owner.name}`);
    const patch = {
      metadata: {
        uid: revision.metadata?.uid,
        ownerReferences: [newControllerRef(parent, parentApiVersion, parentKind)],
      },
    };
    return this.revisions.patch(revision.metadata?.name ?? '', patch, 'strategic', {
      namespace: parent.metadata?.namespace,
    });
  }
}
