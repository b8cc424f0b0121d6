// ValidatingAdmissionWebhook (upstream's admission/plugin/webhook/validating): every matching webhook of every
// ValidatingWebhookConfiguration is called at once; the first refusal (or failed call under failurePolicy Fail)
// refuses the request with upstream's status. Calls that fail under Ignore are let through.
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

async function callOne(
  h: Webhook,
  a: AdmissionAttributes,
  store: AdmissionStore,
  index: number,
): Promise<Error | undefined> {
  try {
    if (!(await shouldCall(h, a, store))) return undefined;
    checkDryRun(h, a);
    const r = await review(h, a, store);
    record(h, a, r);
    if (!r.allowed) return rejection(h, a, r.status);
    return undefined;
  } catch (e) {
    if (e instanceof CallError) {
      if (h.failurePolicy === 'Ignore') {
        (a.auditAnnotations ??= {})[
          `failed-open.validating.webhook.admission.k8s.io/round_0_index_${index}`
        ] = h.name;
        return undefined;
      }
      return internalError(e.message);
    }
    return e as Error;
  }
}

export class ValidatingAdmissionWebhookPlugin implements AdmissionPlugin {
  readonly name = 'ValidatingAdmissionWebhook';

  async validate(a: AdmissionAttributes, store: AdmissionStore): Promise<void> {
    const hooks = await webhooksOf(store, 'validatingwebhookconfigurations');
    if (hooks.length === 0) return;
    const results = await Promise.all(hooks.map((h, i) => callOne(h, a, store, i)));
    const first = results.find((e) => e !== undefined);
    if (first) throw first;
  }
}

export const validatingAdmissionWebhookPlugin = new ValidatingAdmissionWebhookPlugin();
