// pods/eviction (upstream's EvictionREST, pkg/registry/core/pod/storage/eviction.go): a delete of the pod that
// honours the PodDisruptionBudget selecting it — the budget's disruptionsAllowed is checked and decremented (the
// pod noted in status.disruptedPods) before the pod is deleted, and a pod the budget cannot spare is refused with
// 429 TooManyRequests; the pod gets the DisruptionTarget condition (EvictionByEvictionAPI) before its delete.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { Pod, PodCondition } from 'kubernetes-types/core/v1.js';
import { ApiError, errors } from '../../../api/errors.js';
import { selectorMatches } from '../../../api/labels.js';
import type { ApiRequest, ApiResult, KubeObject, RequestOptions } from '../../../api/request.js';
import { deepCopy, isObject, rfc3339 } from '../../../util/objects.js';
import type { GenericStore, Target } from '../store.js';
import { CREATED } from './binding.js';
import { updateDisruptionAllowedCondition } from '../../../api/poddisruptionbudget.js';

/** upstream's MaxDisruptedPodSize: evictions approved but not yet seen by the disruption controller */
export const MAX_DISRUPTED_POD_SIZE = 2000;
/** upstream's EvictionsRetry has 20 steps */
const EVICTION_RETRIES = 20;
export const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";
/** policyv1.DisruptionBudgetCause */
export const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';

/** the apiserver's loopback identity, which upstream's PDB client uses */
const LOOPBACK = { username: 'system:apiserver', groups: ['system:masters'] };

interface DeleteOptionsBody {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: RequestOptions['propagationPolicy'];
  orphanDependents?: boolean;
  dryRun?: string[];
}

interface EvictionBody {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  deleteOptions?: DeleteOptionsBody | null;
}

const ACCEPTED_VERSIONS = ['policy/v1', 'policy/v1beta1'];

function parseBody(req: ApiRequest): EvictionBody {
  if (!isObject(req.body)) throw errors.badRequest('not a Eviction object: the request has no body');
  const body = req.body as EvictionBody;
  if (body.kind !== undefined && body.kind !== 'Eviction')
    throw errors.badRequest(`not a Eviction object: ${body.kind}`);
  if (body.apiVersion !== undefined && !ACCEPTED_VERSIONS.includes(body.apiVersion))
    throw errors.badRequest(
      `the API version in the data (${body.apiVersion}) does not match the expected API version (policy/v1)`,
    );
  if ((body.metadata?.name ?? '') !== req.name)
    throw errors.badRequest('name in URL does not match name in Eviction object');
  return body;
}

/** propagateDryRun: the request's dryRun and the body's must agree; the delete options the eviction uses */
function deleteOptionsOf(req: ApiRequest, body: EvictionBody): RequestOptions {
  const d = body.deleteOptions ?? {};
  const bodyDryRun = d.dryRun ?? [];
  for (const v of bodyDryRun)
    if (v !== 'All')
      throw errors.badRequest(`unsupported dryRun value "${v}" in deleteOptions; only "All" is supported`);
  const queryDryRun = req.options.dryRun === true;
  const bodySays = bodyDryRun.length > 0;
  if (bodySays && req.options.dryRun !== undefined && !queryDryRun)
    throw errors.badRequest(
      `Non-matching dry-run options in request and content: [] and [${bodyDryRun.join(' ')}]`,
    );
  const opts: RequestOptions = {};
  if (queryDryRun || bodySays) opts.dryRun = true;
  if (d.gracePeriodSeconds !== undefined && d.gracePeriodSeconds !== null)
    opts.gracePeriodSeconds = d.gracePeriodSeconds;
  if (d.preconditions) {
    const pre: NonNullable<RequestOptions['preconditions']> = {};
    if (d.preconditions.uid) pre.uid = d.preconditions.uid;
    if (d.preconditions.resourceVersion) pre.resourceVersion = d.preconditions.resourceVersion;
    opts.preconditions = pre;
  }
  if (d.propagationPolicy) opts.propagationPolicy = d.propagationPolicy;
  if (d.orphanDependents !== undefined && d.orphanDependents !== null)
    opts.orphanDependents = d.orphanDependents;
  return opts;
}

const rvUnset = (o: RequestOptions): boolean => !o.preconditions?.resourceVersion;
const withRV = (o: RequestOptions, rv: string): RequestOptions => ({
  ...o,
  preconditions: { ...o.preconditions, resourceVersion: rv },
});

const isConflict = (e: unknown): boolean => e instanceof ApiError && e.reason === 'Conflict';

function phaseOf(pod: Pod): string | undefined {
  return pod.status?.phase;
}

/** canIgnorePDB: a terminal, pending or terminating pod disrupts nothing more by going */
function canIgnorePDB(pod: Pod): boolean {
  const phase = phaseOf(pod);
  return (
    phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || !!pod.metadata?.deletionTimestamp
  );
}

function shouldEnforceResourceVersion(pod: Pod): boolean {
  const phase = phaseOf(pod);
  return !(phase === 'Succeeded' || phase === 'Failed' || pod.metadata?.deletionTimestamp);
}

function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
}

/** createTooManyRequestsError: the budget has not been processed yet, or a race; retry after 10 s */
export function tooManyRequests(message: string, cause: string, retryAfterSeconds: number): ApiError {
  return new ApiError('TooManyRequests', message, {
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
    causes: [{ reason: DISRUPTION_BUDGET_CAUSE, message: cause }],
  });
}

function pdbForbidden(name: string, why: string): ApiError {
  return new ApiError('Forbidden', `poddisruptionbudget.policy "${name}" is forbidden: ${why}`, {
    name,
    group: 'policy',
    kind: 'poddisruptionbudget',
  });
}

class Eviction {
  private readonly pdbTarget: Target;

  constructor(
    private readonly store: GenericStore,
    private readonly req: ApiRequest,
    private readonly t: Target,
  ) {
    this.pdbTarget = store.resolve({
      verb: 'list',
      group: 'policy',
      version: 'v1',
      resource: 'poddisruptionbudgets',
      options: {},
      user: LOOPBACK,
    });
  }

  private get name(): string {
    return this.req.name!;
  }

  async getPod(): Promise<Pod & KubeObject> {
    const r = await this.store.get(
      { ...this.req, verb: 'get', subresource: undefined, options: {}, body: undefined },
      this.t,
    );
    return r.body as Pod & KubeObject;
  }

  private async deletePod(opts: RequestOptions): Promise<void> {
    await this.store.delete(
      { ...this.req, verb: 'delete', subresource: undefined, body: undefined, options: opts },
      this.t,
    );
  }

  /**
   * addConditionAndDeletePod: DisruptionTarget=True (EvictionByEvictionAPI) on the latest pod — checked against the
   * delete's preconditions — then the delete; a resourceVersion precondition moves to the version this wrote.
   */
  async addConditionAndDeletePod(opts: RequestOptions): Promise<void> {
    if (!opts.dryRun) {
      const latest = await this.getPod();
      const pre = opts.preconditions;
      const ref = this.store.ref(this.t, this.name);
      if (pre?.uid && pre.uid !== latest.metadata?.uid)
        throw errors.conflict(
          ref,
          `the UID in the precondition (${pre.uid}) does not match the UID in record (${latest.metadata?.uid ?? ''}). The object might have been deleted and then recreated`,
        );
      if (pre?.resourceVersion && pre.resourceVersion !== latest.metadata?.resourceVersion)
        throw errors.conflict(
          ref,
          `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${latest.metadata?.resourceVersion ?? ''}). The object might have been modified`,
        );
      const next = deepCopy(latest);
      setPodCondition(next, {
        type: 'DisruptionTarget',
        status: 'True',
        reason: 'EvictionByEvictionAPI',
        message: 'Eviction API: evicting',
        lastTransitionTime: rfc3339(this.store.clock.now()),
      });
      const updated = await this.store.update(
        {
          ...this.req,
          verb: 'update',
          subresource: 'status',
          body: next,
          options: {},
          user: LOOPBACK,
        },
        this.t,
        'status',
      );
      if (!rvUnset(opts)) {
        const rv = (updated.body as KubeObject).metadata?.resourceVersion ?? '';
        opts = withRV(opts, rv);
      }
    }
    await this.deletePod(opts);
  }

  /** the PDBs of the pod's namespace whose (non-empty) selector selects it */
  async budgetsFor(pod: Pod): Promise<PodDisruptionBudget[]> {
    const listed = await this.store.list(
      {
        verb: 'list',
        group: 'policy',
        version: 'v1',
        resource: 'poddisruptionbudgets',
        namespace: pod.metadata?.namespace ?? '',
        options: { limit: 0 },
        user: LOOPBACK,
      },
      this.pdbTarget,
    );
    const items = (listed.body as { items: PodDisruptionBudget[] }).items;
    return items.filter((pdb) => {
      const sel = pdb.spec?.selector;
      // a nil or empty selector matches nothing here, not everything
      if (!sel || (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length))
        return false;
      return selectorMatches(sel, pod.metadata?.labels);
    });
  }

  async getBudget(namespace: string, name: string): Promise<PodDisruptionBudget> {
    const r = await this.store.get(
      {
        verb: 'get',
        group: 'policy',
        version: 'v1',
        resource: 'poddisruptionbudgets',
        namespace,
        name,
        options: {},
        user: LOOPBACK,
      },
      this.pdbTarget,
    );
    return r.body as PodDisruptionBudget;
  }

  /** checkAndDecrement: refuse when the budget allows no disruption, else take one and note the pod */
  async checkAndDecrement(podName: string, budget: PodDisruptionBudget, dryRun: boolean): Promise<void> {
    const pdb = deepCopy(budget);
    const name = pdb.metadata?.name ?? '';
    const status = (pdb.status ??= {
      currentHealthy: 0,
      desiredHealthy: 0,
      disruptionsAllowed: 0,
      expectedPods: 0,
    });
    if ((status.observedGeneration ?? 0) < (pdb.metadata?.generation ?? 0))
      throw tooManyRequests(
        EVICTION_REFUSED,
        `The disruption budget ${name} is still being processed by the server.`,
        10,
      );
    if (status.disruptionsAllowed < 0) throw pdbForbidden(name, 'pdb disruptions allowed is negative');
    if (Object.keys(status.disruptedPods ?? {}).length > MAX_DISRUPTED_POD_SIZE)
      throw pdbForbidden(
        name,
        'DisruptedPods map too big - too many evictions not confirmed by PDB controller',
      );
    if (status.disruptionsAllowed === 0)
      throw tooManyRequests(
        EVICTION_REFUSED,
        `The disruption budget ${name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently`,
        0,
      );
    status.disruptionsAllowed--;
    if (status.disruptionsAllowed === 0) updateDisruptionAllowedCondition(pdb, this.store.clock.now());
    if (dryRun) return;
    status.disruptedPods = { ...status.disruptedPods, [podName]: rfc3339(this.store.clock.now()) };
    // pinned to the version read: a concurrent eviction makes this a Conflict, and the caller re-reads
    await this.store.update(
      {
        verb: 'update',
        group: 'policy',
        version: 'v1',
        resource: 'poddisruptionbudgets',
        subresource: 'status',
        namespace: pdb.metadata?.namespace ?? '',
        name,
        body: pdb,
        options: {},
        user: LOOPBACK,
      },
      this.pdbTarget,
      'status',
    );
  }
}

/** podutil.UpdatePodCondition: replace the condition of that type; lastTransitionTime moves only with status */
export function setPodCondition(pod: Pod, cond: PodCondition): void {
  const writable = pod as { status?: { conditions?: PodCondition[] } };
  const status = (writable.status ??= {});
  const conditions: PodCondition[] = (status.conditions ??= []);
  const i = conditions.findIndex((c) => c.type === cond.type);
  if (i < 0) {
    conditions.push(cond);
    return;
  }
  const old = conditions[i];
  conditions[i] = {
    ...cond,
    lastTransitionTime: old.status === cond.status ? old.lastTransitionTime : cond.lastTransitionTime,
  };
}

async function retryOnConflict<T>(fn: () => Promise<T>, shouldRetry = isConflict): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (attempt >= EVICTION_RETRIES || !shouldRetry(e)) throw e;
    }
  }
}

export async function eviction(store: GenericStore, req: ApiRequest, t: Target): Promise<ApiResult> {
  const body = parseBody(req);
  const original = deleteOptionsOf(req, body);
  await store.validateAdmission({
    ...store.attributes('CREATE', req, t, { object: body as KubeObject }),
    kind: { group: 'policy', version: 'v1', kind: 'Eviction' },
  });
  const ev = new Eviction(store, req, t);

  // a pod the budget need not guard is deleted at once; a conflict (it changed meanwhile) is retried
  let pod: Pod | undefined;
  let deleted = false;
  await retryOnConflict(
    async () => {
      pod = await ev.getPod();
      if (!canIgnorePDB(pod)) return;
      let opts = original;
      if (shouldEnforceResourceVersion(pod) && rvUnset(original))
        opts = withRV(original, pod.metadata?.resourceVersion ?? '');
      await ev.addConditionAndDeletePod(opts);
      deleted = true;
    },
    (e) => rvUnset(original) && isConflict(e),
  );
  if (deleted) return CREATED;

  const budgets = await ev.budgetsFor(pod!);
  if (budgets.length > 1) {
    // upstream answers a bare Failure Status with code 500 and no reason: StatusReasonUnknown
    throw new ApiError(
      'Unknown',
      'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    );
  }
  let unhealthyAllowed = false;
  const pdb = budgets[0];
  if (pdb) {
    const status = pdb.status;
    if (!isPodReady(pod!)) {
      // an unready pod does not count as healthy: deleting it takes nothing from the budget
      if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') unhealthyAllowed = true;
      else if (
        (status?.currentHealthy ?? 0) >= (status?.desiredHealthy ?? 0) &&
        (status?.desiredHealthy ?? 0) > 0
      )
        unhealthyAllowed = true;
    }
    if (!unhealthyAllowed) {
      const pdbName = pdb.metadata?.name ?? '';
      let current = pdb;
      let refresh = false;
      await retryOnConflict(async () => {
        if (refresh) current = await ev.getBudget(pod!.metadata?.namespace ?? '', pdbName);
        refresh = true;
        await ev.checkAndDecrement(pod!.metadata?.name ?? '', current, original.dryRun === true);
      }).catch((e: unknown) => {
        if (isConflict(e))
          throw errors.timeout(`couldn't update PodDisruptionBudget "${pdbName}" due to conflicts`);
        throw e;
      });
    }
  }

  // the pod must not have become ready since it was judged unhealthy: pin its version
  const opts = unhealthyAllowed ? withRV(original, pod!.metadata?.resourceVersion ?? '') : original;
  try {
    await ev.addConditionAndDeletePod(opts);
  } catch (e) {
    if (isConflict(e) && unhealthyAllowed && rvUnset(original))
      throw tooManyRequests(
        EVICTION_REFUSED,
        `The disruption budget ${pdb?.metadata?.name ?? ''} is still being processed by the server.`,
        10,
      );
    throw e;
  }
  return CREATED;
}
