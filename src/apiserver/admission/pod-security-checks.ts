// The Pod Security Standards checks of k8s.io/pod-security-admission (policy/check_*.go) as of Kubernetes 1.33:
// each returns upstream's forbidden reason and detail, and they run in upstream's order (baseline checks sorted
// by ID, then restricted checks sorted by ID; a restricted check replaces the baseline check it overrides).

export type Level = 'privileged' | 'baseline' | 'restricted';

interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  runAsNonRoot?: boolean;
  runAsUser?: number;
  seccompProfile?: { type?: string };
  appArmorProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  procMount?: string;
  windowsOptions?: { hostProcess?: boolean };
}

interface Container {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}

export interface PodSpecLike {
  containers?: Container[];
  initContainers?: Container[];
  ephemeralContainers?: Container[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  os?: { name?: string };
  volumes?: ({ name: string } & Record<string, unknown>)[];
  securityContext?: SecurityContext & { sysctls?: { name: string }[] };
}

export interface PodMetaLike {
  annotations?: Record<string, string>;
}

export interface CheckResult {
  reason: string;
  detail: string;
}

/** the policy version a check runs for: the minor of `v1.N`, Infinity for `latest` */
type CheckFn = (meta: PodMetaLike, spec: PodSpecLike, minor: number) => CheckResult | undefined;

const joinQuote = (items: string[]): string => (items.length ? `"${items.join('", "')}"` : '');
const pluralize = (singular: string, plural: string, n: number): string => (n === 1 ? singular : plural);
/** Go's sort.Strings / sets.List: byte order */
const sorted = (s: Iterable<string>): string[] => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
const containersPhrase = (names: string[]): string =>
  `${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`;

function visitContainers(spec: PodSpecLike, fn: (c: Container) => void): void {
  for (const c of spec.initContainers ?? []) fn(c);
  for (const c of spec.containers ?? []) fn(c);
  for (const c of spec.ephemeralContainers ?? []) fn(c);
}

/** restricted checks exempt Windows pods from policy v1.25 on (upstream's versioned checks) */
const isWindows = (spec: PodSpecLike, minor: number): boolean => minor >= 25 && spec.os?.name === 'windows';

// ---------------------------------------------------------------- baseline

const appArmorProfile: CheckFn = (meta, spec) => {
  const allowedType = (t: string | undefined): boolean => t === 'RuntimeDefault' || t === 'Localhost';
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const podType = spec.securityContext?.appArmorProfile;
  if (podType && !allowedType(podType.type)) {
    badSetters.push('pod');
    badValues.add(podType.type ?? '');
  }
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    const p = c.securityContext?.appArmorProfile;
    if (p && !allowedType(p.type)) {
      bad.push(c.name);
      badValues.add(p.type ?? '');
    }
  });
  if (bad.length) badSetters.push(containersPhrase(bad));
  const forbiddenAnnotations: string[] = [];
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    const ok = v === '' || v === 'runtime/default' || v.startsWith('localhost/');
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && !ok)
      forbiddenAnnotations.push(`${k}=${JSON.stringify(v)}`);
  }
  const values = sorted(badValues);
  if (forbiddenAnnotations.length) {
    values.push(...sorted(forbiddenAnnotations));
    badSetters.push(pluralize('annotation', 'annotations', forbiddenAnnotations.length));
  }
  if (!badSetters.length) return undefined;
  return {
    reason: pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length),
    detail: `${badSetters.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`,
  };
};

const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

const capabilitiesBaseline: CheckFn = (_meta, spec) => {
  const bad: string[] = [];
  const caps = new Set<string>();
  visitContainers(spec, (c) => {
    let valid = true;
    for (const cap of c.securityContext?.capabilities?.add ?? [])
      if (!BASELINE_CAPABILITIES.has(cap)) {
        valid = false;
        caps.add(cap);
      }
    if (!valid) bad.push(c.name);
  });
  if (!bad.length) return undefined;
  return {
    reason: 'non-default capabilities',
    detail: `${containersPhrase(bad)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`,
  };
};

const hostNamespaces: CheckFn = (_meta, spec) => {
  const ns: string[] = [];
  if (spec.hostNetwork) ns.push('hostNetwork=true');
  if (spec.hostPID) ns.push('hostPID=true');
  if (spec.hostIPC) ns.push('hostIPC=true');
  return ns.length ? { reason: 'host namespaces', detail: ns.join(', ') } : undefined;
};

const hostPathVolumes: CheckFn = (_meta, spec) => {
  const vols = (spec.volumes ?? []).filter((v) => v['hostPath'] != null).map((v) => v.name);
  if (!vols.length) return undefined;
  return {
    reason: 'hostPath volumes',
    detail: `${pluralize('volume', 'volumes', vols.length)} ${joinQuote(vols)}`,
  };
};

const hostPorts: CheckFn = (_meta, spec) => {
  const bad: string[] = [];
  const ports = new Set<string>();
  visitContainers(spec, (c) => {
    let valid = true;
    for (const p of c.ports ?? [])
      if (p.hostPort) {
        valid = false;
        ports.add(String(p.hostPort));
      }
    if (!valid) bad.push(c.name);
  });
  if (!bad.length) return undefined;
  return {
    reason: 'hostPort',
    detail: `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', ports.size)} ${sorted(ports).join(', ')}`,
  };
};

const privileged: CheckFn = (_meta, spec) => {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.privileged) bad.push(c.name);
  });
  if (!bad.length) return undefined;
  return {
    reason: 'privileged',
    detail: `${containersPhrase(bad)} must not set securityContext.privileged=true`,
  };
};

const procMount: CheckFn = (_meta, spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  visitContainers(spec, (c) => {
    const pm = c.securityContext?.procMount;
    if (pm !== undefined && pm !== 'Default') {
      bad.push(c.name);
      types.add(pm);
    }
  });
  if (!bad.length) return undefined;
  return {
    reason: 'procMount',
    detail: `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sorted(types))}`,
  };
};

const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

const seLinuxOptions: CheckFn = (_meta, spec) => {
  const badSetters: string[] = [];
  const badTypes = new Set<string>();
  let setUser = false;
  let setRole = false;
  const valid = (o: NonNullable<SecurityContext['seLinuxOptions']>): boolean => {
    let ok = true;
    if (!SELINUX_TYPES.has(o.type ?? '')) {
      ok = false;
      badTypes.add(o.type ?? '');
    }
    if (o.user) {
      ok = false;
      setUser = true;
    }
    if (o.role) {
      ok = false;
      setRole = true;
    }
    return ok;
  };
  const podOpts = spec.securityContext?.seLinuxOptions;
  if (podOpts && !valid(podOpts)) badSetters.push('pod');
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    const o = c.securityContext?.seLinuxOptions;
    if (o && !valid(o)) bad.push(c.name);
  });
  if (bad.length) badSetters.push(containersPhrase(bad));
  if (!badSetters.length) return undefined;
  const data: string[] = [];
  if (badTypes.size) data.push(`${pluralize('type', 'types', badTypes.size)} ${joinQuote(sorted(badTypes))}`);
  if (setUser) data.push('user may not be set');
  if (setRole) data.push('role may not be set');
  return {
    reason: 'seLinuxOptions',
    detail: `${badSetters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`,
  };
};

const validSeccomp = (t: string | undefined): boolean => t === 'Localhost' || t === 'RuntimeDefault';

const seccompProfileBaseline: CheckFn = (_meta, spec) => {
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  const pod = spec.securityContext?.seccompProfile;
  if (pod && !validSeccomp(pod.type)) {
    badSetters.push('pod');
    badValues.add(pod.type ?? '');
  }
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    const p = c.securityContext?.seccompProfile;
    if (p && !validSeccomp(p.type)) {
      bad.push(c.name);
      badValues.add(p.type ?? '');
    }
  });
  if (bad.length) badSetters.push(containersPhrase(bad));
  if (!badSetters.length) return undefined;
  return {
    reason: 'seccompProfile',
    detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(badValues))}`,
  };
};

/** check_sysctls.go: the safe sysctls of each policy version that added some */
const SAFE_SYSCTLS: [number, string[]][] = [
  [
    0,
    [
      'kernel.shm_rmid_forced',
      'net.ipv4.ip_local_port_range',
      'net.ipv4.tcp_syncookies',
      'net.ipv4.ping_group_range',
    ],
  ],
  [27, ['net.ipv4.ip_unprivileged_port_start']],
  [
    29,
    [
      'net.ipv4.ip_local_reserved_ports',
      'net.ipv4.tcp_keepalive_time',
      'net.ipv4.tcp_fin_timeout',
      'net.ipv4.tcp_keepalive_intvl',
      'net.ipv4.tcp_keepalive_probes',
    ],
  ],
  [32, ['net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem']],
];

const sysctls: CheckFn = (_meta, spec, minor) => {
  const safe = new Set(SAFE_SYSCTLS.filter(([v]) => v <= minor).flatMap(([, names]) => names));
  const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !safe.has(n));
  return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
};

const windowsHostProcess: CheckFn = (_meta, spec) => {
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.windowsOptions?.hostProcess) bad.push(c.name);
  });
  const setters: string[] = [];
  if (spec.securityContext?.windowsOptions?.hostProcess) setters.push('pod');
  if (bad.length) setters.push(containersPhrase(bad));
  if (!setters.length) return undefined;
  return {
    reason: 'hostProcess',
    detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`,
  };
};

// ---------------------------------------------------------------- restricted

const allowPrivilegeEscalation: CheckFn = (_meta, spec, minor) => {
  if (isWindows(spec, minor)) return undefined;
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.allowPrivilegeEscalation !== false) bad.push(c.name);
  });
  if (!bad.length) return undefined;
  return {
    reason: 'allowPrivilegeEscalation != false',
    detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
  };
};

const capabilitiesRestricted: CheckFn = (_meta, spec, minor) => {
  if (isWindows(spec, minor)) return undefined;
  const missingDropAll: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  visitContainers(spec, (c) => {
    const capabilities = c.securityContext?.capabilities;
    if (!capabilities) {
      missingDropAll.push(c.name);
      return;
    }
    if (!(capabilities.drop ?? []).includes('ALL')) missingDropAll.push(c.name);
    let added = false;
    for (const cap of capabilities.add ?? [])
      if (cap !== 'NET_BIND_SERVICE') {
        added = true;
        caps.add(cap);
      }
    if (added) adding.push(c.name);
  });
  const details: string[] = [];
  if (missingDropAll.length)
    details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length)
    details.push(
      `${containersPhrase(adding)} must not include ${joinQuote(sorted(caps))} in securityContext.capabilities.add`,
    );
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
};

const ALLOWED_VOLUME_SOURCES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'image',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
const RESTRICTED_VOLUME_TYPES = [
  'hostPath',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
];

const restrictedVolumes: CheckFn = (_meta, spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of spec.volumes ?? []) {
    if (ALLOWED_VOLUME_SOURCES.some((s) => v[s] != null)) continue;
    bad.push(v.name);
    types.add(RESTRICTED_VOLUME_TYPES.find((t) => v[t] != null) ?? 'unknown');
  }
  if (!bad.length) return undefined;
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote(sorted(types))}`,
  };
};

const runAsNonRoot: CheckFn = (_meta, spec) => {
  const badSetters: string[] = [];
  let podRunAsNonRoot = false;
  const pod = spec.securityContext?.runAsNonRoot;
  if (pod !== undefined) {
    if (!pod) badSetters.push('pod');
    else podRunAsNonRoot = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  visitContainers(spec, (c) => {
    const v = c.securityContext?.runAsNonRoot;
    if (v !== undefined) {
      if (!v) explicit.push(c.name);
    } else if (!podRunAsNonRoot) implicit.push(c.name);
  });
  if (explicit.length) badSetters.push(containersPhrase(explicit));
  if (badSetters.length)
    return {
      reason: 'runAsNonRoot != true',
      detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false`,
    };
  if (implicit.length)
    return {
      reason: 'runAsNonRoot != true',
      detail: `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true`,
    };
  return undefined;
};

const runAsUser: CheckFn = (_meta, spec) => {
  const badSetters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) badSetters.push('pod');
  const bad: string[] = [];
  visitContainers(spec, (c) => {
    if (c.securityContext?.runAsUser === 0) bad.push(c.name);
  });
  if (bad.length) badSetters.push(containersPhrase(bad));
  if (!badSetters.length) return undefined;
  return { reason: 'runAsUser=0', detail: `${badSetters.join(' and ')} must not set runAsUser=0` };
};

const seccompProfileRestricted: CheckFn = (_meta, spec, minor) => {
  if (isWindows(spec, minor)) return undefined;
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  let podSet = false;
  const pod = spec.securityContext?.seccompProfile;
  if (pod) {
    if (!validSeccomp(pod.type)) {
      badSetters.push('pod');
      badValues.add(pod.type ?? '');
    } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  visitContainers(spec, (c) => {
    const p = c.securityContext?.seccompProfile;
    if (p) {
      if (!validSeccomp(p.type)) {
        explicit.push(c.name);
        badValues.add(p.type ?? '');
      }
    } else if (!podSet) implicit.push(c.name);
  });
  if (explicit.length) badSetters.push(containersPhrase(explicit));
  if (badSetters.length)
    return {
      reason: 'seccompProfile',
      detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sorted(badValues))}`,
    };
  if (implicit.length)
    return {
      reason: 'seccompProfile',
      detail: `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    };
  return undefined;
};

/** baseline checks by ID, in Go's sorted order */
const BASELINE: [string, CheckFn][] = [
  ['appArmorProfile', appArmorProfile],
  ['capabilities_baseline', capabilitiesBaseline],
  ['hostNamespaces', hostNamespaces],
  ['hostPathVolumes', hostPathVolumes],
  ['hostPorts', hostPorts],
  ['privileged', privileged],
  ['procMount', procMount],
  ['seLinuxOptions', seLinuxOptions],
  ['seccompProfile_baseline', seccompProfileBaseline],
  ['sysctls', sysctls],
  ['windowsHostProcess', windowsHostProcess],
];

/**
 * restricted checks, each with the policy version that introduced it (a version before it does not run it, and runs
 * the baseline check it overrides instead) and the baseline check it overrides
 */
const RESTRICTED: [string, number, CheckFn, string?][] = [
  ['allowPrivilegeEscalation', 8, allowPrivilegeEscalation],
  ['capabilities_restricted', 22, capabilitiesRestricted, 'capabilities_baseline'],
  ['restrictedVolumes', 0, restrictedVolumes, 'hostPathVolumes'],
  ['runAsNonRoot', 0, runAsNonRoot],
  ['runAsUser', 23, runAsUser],
  ['seccompProfile_restricted', 19, seccompProfileRestricted, 'seccompProfile_baseline'],
];

/** `latest` or `v1.N` (labels are validated before) as the minor version the checks compare with */
export function policyMinor(version: string): number {
  const m = /^v1\.(\d+)$/.exec(version);
  return m ? Number(m[1]) : Infinity;
}

/** the failed checks of a pod at a level and policy version (default latest), in upstream's order */
export function evaluatePod(
  level: Level,
  meta: PodMetaLike,
  spec: PodSpecLike,
  version = 'latest',
): CheckResult[] {
  if (level === 'privileged') return [];
  const minor = policyMinor(version);
  const restricted = level === 'restricted' ? RESTRICTED.filter(([, since]) => since <= minor) : [];
  const overridden = new Set(restricted.map(([, , , o]) => o).filter(Boolean));
  const checks: CheckFn[] = BASELINE.filter(([id]) => !overridden.has(id)).map(([, fn]) => fn);
  checks.push(...restricted.map(([, , fn]) => fn));
  return checks.map((fn) => fn(meta, spec, minor)).filter((r): r is CheckResult => r !== undefined);
}

/** AggregateCheckResult.ForbiddenDetail: `reason (detail), reason (detail)` */
export function forbiddenDetail(results: readonly CheckResult[]): string {
  return results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
}

/** AggregateCheckResult.ForbiddenReason */
export function forbiddenReason(results: readonly CheckResult[]): string {
  return results.map((r) => r.reason).join(', ');
}
