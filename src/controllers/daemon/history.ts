// A DaemonSet's ControllerRevision history (upstream pkg/controller/daemon/update.go: constructHistory, snapshot,
// dedupCurHistories, cleanupHistory, Match, getPatch): one revision per template, each holding the strategic merge
// patch that restores it, which is what `kubectl rollout history|undo daemonset/NAME` read and apply.
import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ApiError } from '../../api/errors.js';
import type { ResourceClient } from '../../client/index.js';
import { deepEqual } from '../../util/objects.js';
import { getControllerOf, isNotFound, newControllerRef } from '../common/controller-ref.js';
import { computeHash } from '../deployment/util.js';
import { CONTROLLER_REVISION_HASH_LABEL } from './util.js';

/**
 * getPatch: `{"spec":{"template":{...,"$patch":"replace"}}}` — applied as a strategic merge patch it puts the
 * template back whole. Keys are sorted at every level, as Go's json.Marshal of a map writes them (kubectl builds
 * the same bytes to tell whether a rollback is a no-op).
 */
export function revisionPatch(ds: DaemonSet): Record<string, unknown> {
  const template = structuredClone(ds.spec?.template ?? {}) as Record<string, unknown>;
  template['$patch'] = 'replace';
  return sortKeys({ spec: { template } }) as Record<string, unknown>;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** Match: the revision holds this DaemonSet's current template */
export function revisionMatches(ds: DaemonSet, revision: ControllerRevision): boolean {
  return deepEqual(revisionPatch(ds), revision.data);
}

/** maxRevision: the highest revision number, 0 for none */
export function maxRevision(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((max, r) => Math.max(max, r.revision ?? 0), 0);
}

export interface HistoryContext {
  revisions: ResourceClient<ControllerRevision>;
  daemonSets: ResourceClient<DaemonSet>;
  /** the revisions the DaemonSet controls, read from the cache */
  controlled(ds: DaemonSet): ControllerRevision[];
  /** the DaemonSet's pods, to keep the revisions still in use */
  pods(ds: DaemonSet): Pod[];
  relabelPod(pod: Pod, hash: string): Promise<void>;
}

/**
 * constructHistory: the current revision (made, or renumbered to come after every old one) and the old ones.
 * Revisions without the hash label get their name as the label first, as upstream does for old clusters.
 */
export async function constructHistory(
  ctx: HistoryContext,
  ds: DaemonSet,
): Promise<{ current: ControllerRevision; old: ControllerRevision[] }> {
  const current: ControllerRevision[] = [];
  const old: ControllerRevision[] = [];
  for (let revision of ctx.controlled(ds)) {
    if (revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === undefined) {
      const copy = structuredClone(revision);
      (copy.metadata!.labels ??= {})[CONTROLLER_REVISION_HASH_LABEL] = copy.metadata!.name ?? '';
      revision = await ctx.revisions.update(copy);
    }
    (revisionMatches(ds, revision) ? current : old).push(revision);
  }
  const next = maxRevision(old) + 1;
  if (current.length === 0) return { current: await snapshot(ctx, ds, next), old };
  let cur = await dedupCurrent(ctx, ds, current);
  if ((cur.revision ?? 0) < next)
    cur = await ctx.revisions.update({ ...structuredClone(cur), revision: next });
  return { current: cur, old };
}

/** dedupCurHistories: keep the highest-numbered of several equal revisions, moving pods onto its hash */
async function dedupCurrent(
  ctx: HistoryContext,
  ds: DaemonSet,
  current: ControllerRevision[],
): Promise<ControllerRevision> {
  if (current.length === 1) return current[0];
  const keep = current.reduce((a, b) => ((b.revision ?? 0) > (a.revision ?? 0) ? b : a));
  const keepHash = keep.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
  for (const dup of current) {
    if (dup === keep) continue;
    const dupHash = dup.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    for (const pod of ctx.pods(ds)) {
      if (pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === dupHash)
        await ctx.relabelPod(pod, keepHash);
    }
    await deleteRevision(ctx, dup);
  }
  return keep;
}

/**
 * snapshot: a new revision named `<ds>-<hash>`. A name taken by a different template is a hash collision: the
 * DaemonSet's status.collisionCount goes up (so the next hash differs) and the sync fails to be retried.
 */
async function snapshot(ctx: HistoryContext, ds: DaemonSet, revision: number): Promise<ControllerRevision> {
  const hash = computeHash(ds.spec?.template, ds.status?.collisionCount);
  const name = `${ds.metadata?.name ?? ''}-${hash}`;
  const namespace = ds.metadata?.namespace;
  const body: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name,
      namespace,
      labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ...(ds.metadata?.annotations ? { annotations: { ...ds.metadata.annotations } } : {}),
      ownerReferences: [newControllerRef(ds, 'apps/v1', 'DaemonSet')],
    },
    data: revisionPatch(ds),
    revision,
  };
  try {
    return await ctx.revisions.create(body);
  } catch (err) {
    if (!(ApiError.isApiError(err) && err.code === 409)) throw err;
    const existing = await ctx.revisions.get(name, namespace);
    if (revisionMatches(ds, existing) && getControllerOf(existing)?.uid === ds.metadata?.uid) return existing;
    const fresh = await ctx.daemonSets.get(ds.metadata?.name ?? '', namespace);
    if ((fresh.status?.collisionCount ?? undefined) !== (ds.status?.collisionCount ?? undefined)) {
      throw new Error(
        `found a stale collision count (${ds.status?.collisionCount ?? 0}, expected ${fresh.status?.collisionCount ?? 0}) of DaemonSet "${ds.metadata?.name}" while processing; will retry until it is updated`,
        { cause: err },
      );
    }
    await ctx.daemonSets.updateStatus({
      ...fresh,
      status: { ...fresh.status!, collisionCount: (fresh.status?.collisionCount ?? 0) + 1 },
    });
    throw err;
  }
}

/**
 * cleanupHistory: delete the oldest revisions beyond spec.revisionHistoryLimit (default 10), never one a live
 * pod of the DaemonSet still carries the hash of.
 */
export async function cleanupHistory(
  ctx: HistoryContext,
  ds: DaemonSet,
  old: readonly ControllerRevision[],
): Promise<void> {
  const limit = ds.spec?.revisionHistoryLimit ?? 10;
  const toKill = old.length - limit;
  if (toKill <= 0) return;
  const live = new Set<string>();
  for (const pod of ctx.pods(ds)) {
    const hash = pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    if (hash !== undefined) live.add(hash);
  }
  const sorted = [...old].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
  let killed = 0;
  for (const revision of sorted) {
    if (killed >= toKill) break;
    if (live.has(revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '')) continue;
    await deleteRevision(ctx, revision);
    killed++;
  }
}

async function deleteRevision(ctx: HistoryContext, revision: ControllerRevision): Promise<void> {
  try {
    await ctx.revisions.delete(revision.metadata?.name ?? '', { namespace: revision.metadata?.namespace });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
