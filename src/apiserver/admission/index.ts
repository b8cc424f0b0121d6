// The admission plugins the apiserver enables, in upstream's order (kube-apiserver's AllOrderedPlugins, restricted
// to the plugins kubemu has), and `--enable-admission-plugins` / `--disable-admission-plugins`. Add a plugin by
// writing src/apiserver/admission/<plugin>.ts against ./interface.ts and listing it here at its place in that order.
import { alwaysAllow } from '../auth/authorizer.js';
import { certificateApprovalPlugin } from './certificate-approval.js';
import { certificateSigningPlugin } from './certificate-signing.js';
import { certificateSubjectRestrictionPlugin } from './certificate-subject-restriction.js';
import { defaultIngressClassPlugin } from './default-ingress-class.js';
import { defaultStorageClassPlugin } from './default-storage-class.js';
import { DefaultTolerationSeconds } from './default-toleration-seconds.js';
import type { AdmissionDeps, AdmissionPlugin } from './interface.js';
import { limitRangerPlugin } from './limit-ranger.js';
import { namespaceLifecyclePlugin } from './namespace-lifecycle.js';
import { nodeRestrictionPlugin } from './node-restriction.js';
import { podSecurityPlugin } from './pod-security.js';
import { priorityPlugin } from './priority.js';
import { resourceQuotaPlugin } from './resource-quota.js';
import { serviceAccountPlugin, type ServiceAccountPluginOptions } from './service-account.js';
import { storageObjectInUseProtectionPlugin } from './storage-object-in-use-protection.js';
import { mutatingAdmissionWebhookPlugin } from './mutating-admission-webhook.js';
import { validatingAdmissionPolicyPlugin } from './validating-admission-policy.js';
import { validatingAdmissionWebhookPlugin } from './validating-admission-webhook.js';

export * from './interface.js';

export interface AdmissionConfig {
  /** upstream's --enable-admission-plugins (every plugin here is on by default; names are checked) */
  enable?: readonly string[];
  /** upstream's --disable-admission-plugins */
  disable?: readonly string[];
  serviceAccount?: ServiceAccountPluginOptions;
}

type PluginDeps = Pick<AdmissionDeps, 'notReadyTolerationSeconds' | 'authorizer'>;

function orderedPlugins(deps: PluginDeps, config: AdmissionConfig) {
  // without an authorizer (tests of the registry alone) every user may approve and sign, as --authorization-mode=AlwaysAllow
  const authorizer = deps.authorizer ?? (() => alwaysAllow);
  return [
    namespaceLifecyclePlugin,
    limitRangerPlugin,
    serviceAccountPlugin(config.serviceAccount),
    nodeRestrictionPlugin,
    podSecurityPlugin,
    priorityPlugin,
    new DefaultTolerationSeconds(deps.notReadyTolerationSeconds),
    defaultStorageClassPlugin,
    storageObjectInUseProtectionPlugin,
    certificateApprovalPlugin(authorizer),
    certificateSigningPlugin(authorizer),
    certificateSubjectRestrictionPlugin,
    defaultIngressClassPlugin,
    // webhook, resourcequota and deny plugins go at the end (upstream's AllOrderedPlugins)
    mutatingAdmissionWebhookPlugin,
    validatingAdmissionPolicyPlugin,
    validatingAdmissionWebhookPlugin,
    resourceQuotaPlugin,
  ];
}

/** the plugin names, in order */
export const ADMISSION_PLUGINS: readonly string[] = orderedPlugins({ notReadyTolerationSeconds: 0 }, {}).map(
  (p) => p.name,
);

/** the enabled plugins in upstream's order; an unknown name in `enable`/`disable` is a TypeError */
export function defaultAdmissionPlugins(deps: PluginDeps, config: AdmissionConfig = {}): AdmissionPlugin[] {
  for (const name of [...(config.enable ?? []), ...(config.disable ?? [])])
    if (!ADMISSION_PLUGINS.includes(name))
      throw new TypeError(`admission plugin "${name}" is unknown (known: ${ADMISSION_PLUGINS.join(', ')})`);
  const disabled = new Set(config.disable ?? []);
  return orderedPlugins(deps, config).filter((p) => !disabled.has(p.name));
}

/** parse a comma-separated plugin list flag */
export function pluginList(flag: string | undefined): string[] {
  return (flag ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
