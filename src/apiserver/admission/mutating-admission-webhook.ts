// MutatingAdmissionWebhook (upstream's admission/plugin/webhook/mutating): the matching webhooks of every
// MutatingWebhookConfiguration are called one after another, each seeing the object as the previous ones left it;
// a JSONPatch answer is applied to the object. When a webhook changed the object, the webhooks called before it
// with reinvocationPolicy IfNeeded are called once more (upstream's reinvocation, for webhooks).
import { ApiError } from '../../api/errors.js';
import { applyJsonPatch } from '../../api/patch/index.js';
import type { KubeObject } from '../../api/request.js';
import type { AdmissionAttributes, AdmissionPlugin, AdmissionStore } from './interface.js';
import { CallError } from './webhook/client.js';
import {
  checkDryRun,
  internalError,
  record,
  rejection,
  review,
  shouldCall,
  webhooksOf,
  type Webhook,
} from './webhook/generic.js';

function replaceInPlace(target: KubeObject, next: KubeObject): void {
  for (const k of Object.keys(target)) delete (target as Record<string, unknown>)[k];
  Object.assign(target, next);
}

/** call one webhook; true when it changed the object */
async function admitOne(
  h: Webhook,
  a: AdmissionAttributes,
  store: AdmissionStore,
  round: number,
  index: number,
): Promise<boolean> {
  checkDryRun(h, a);
  let r;
  try {
    r = await review(h, a, store);
  } catch (e) {
    if (e instanceof CallError) {
      if (h.failurePolicy === 'Ignore') {
        (a.auditAnnotations ??= {})[
          `failed-open.mutation.webhook.admission.k8s.io/round_${round}_index_${index}`
        ] = h.name;
        return false;
      }
      throw internalError(e.message);
    }
    throw e;
  }
  record(h, a, r);
  if (!r.allowed) throw rejection(h, a, r.status);
  if (!r.patch) return false;
  let ops: unknown;
  try {
    ops = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8'));
  } catch (e) {
    const err = new CallError(
      h.name,
      `received undecodable patch in webhook response: ${(e as Error).message}`,
    );
    if (h.failurePolicy === 'Ignore') return false;
    throw internalError(err.message);
  }
  if (!Array.isArray(ops) || ops.length === 0) return false;
  if (!a.object)
    throw internalError(
      `admission webhook "${h.name}" attempted to modify the object, which is not supported for this operation`,
    );
  let next: KubeObject;
  try {
    next = applyJsonPatch(a.object, ops) as KubeObject;
  } catch (e) {
    throw internalError(e instanceof ApiError ? e.message : (e as Error).message);
  }
  const changed = JSON.stringify(next) !== JSON.stringify(a.object);
  if (changed) replaceInPlace(a.object, next);
  (a.auditAnnotations ??= {})[`mutation.webhook.admission.k8s.io/round_${round}_index_${index}`] =
    JSON.stringify({
      configuration: '',
      webhook: h.name,
      mutated: changed,
    });
  return changed;
}

export class MutatingAdmissionWebhookPlugin implements AdmissionPlugin {
  readonly name = 'MutatingAdmissionWebhook';

  async admit(a: AdmissionAttributes, store: AdmissionStore): Promise<void> {
    const hooks = await webhooksOf(store, 'mutatingwebhookconfigurations');
    if (hooks.length === 0) return;
    const invokedReinvocable: number[] = [];
    let reinvoke = new Set<number>();
    for (let i = 0; i < hooks.length; i++) {
      const h = hooks[i];
      if (!(await shouldCall(h, a, store))) continue;
      const changed = await admitOne(h, a, store, 0, i);
      if (changed) reinvoke = new Set(invokedReinvocable);
      if (h.reinvocationPolicy === 'IfNeeded') invokedReinvocable.push(i);
    }
    // round 1: the IfNeeded webhooks called before a later change, once each, in order
    for (const i of [...reinvoke].sort((x, y) => x - y)) {
      const h = hooks[i];
      if (!(await shouldCall(h, a, store))) continue;
      await admitOne(h, a, store, 1, i);
    }
  }
}

export const mutatingAdmissionWebhookPlugin = new MutatingAdmissionWebhookPlugin();
