// The admission chain: upstream's default-enabled plugins, in upstream's order (kube-apiserver's
// AllOrderedPlugins), `--enable-admission-plugins` / `--disable-admission-plugins`, and one call for each phase.
import { defaultIngressClassPlugin } from './default-ingress-class.js';
import { defaultStorageClassPlugin } from './default-storage-class.js';
import { limitRangerPlugin } from './limit-ranger.js';
import { namespaceLifecyclePlugin } from './namespace-lifecycle.js';
import { podSecurityPlugin } from './pod-security.js';
import { priorityPlugin } from './priority.js';
import { resourceQuotaPlugin } from './resource-quota.js';
import { serviceAccountPlugin, type ServiceAccountPluginOptions } from './service-account.js';
import type { AdmissionAttributes, AdmissionPlugin, AdmissionStore } from './types.js';

export interface AdmissionConfig {
  /** upstream's --enable-admission-plugins (every plugin here is on by default; names are checked) */
  enable?: readonly string[];
  /** upstream's --disable-admission-plugins */
  disable?: readonly string[];
  serviceAccount?: ServiceAccountPluginOptions;
}

function orderedPlugins(config: AdmissionConfig): AdmissionPlugin[] {
  return [
    namespaceLifecyclePlugin,
    limitRangerPlugin,
    serviceAccountPlugin(config.serviceAccount),
    podSecurityPlugin,
    priorityPlugin,
    defaultStorageClassPlugin,
    defaultIngressClassPlugin,
    resourceQuotaPlugin,
  ];
}

/** the plugin names, in order */
export const ADMISSION_PLUGINS: readonly string[] = orderedPlugins({}).map((p) => p.name);

export class AdmissionChain {
  readonly plugins: readonly AdmissionPlugin[];

  constructor(
    private readonly store: AdmissionStore,
    config: AdmissionConfig = {},
  ) {
    for (const name of [...(config.enable ?? []), ...(config.disable ?? [])])
      if (!ADMISSION_PLUGINS.includes(name))
        throw new TypeError(`admission plugin "${name}" is unknown (known: ${ADMISSION_PLUGINS.join(', ')})`);
    const disabled = new Set(config.disable ?? []);
    this.plugins = orderedPlugins(config).filter((p) => !disabled.has(p.name));
  }

  /** mutating admission: every plugin's admit(), in order */
  async admit(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(attrs, this.store);
  }

  /** validating admission: every plugin's validate(), in order */
  async validate(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(attrs, this.store);
  }
}

/** parse a comma-separated plugin list flag */
export function pluginList(flag: string | undefined): string[] {
  return (flag ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
