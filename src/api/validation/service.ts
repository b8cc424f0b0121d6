// Service and Endpoints validation (upstream pkg/apis/core/validation: ValidateService, ValidateEndpoints).
import type { Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  nameIsDNSSubdomain,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from './meta.js';
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isValidIP,
  isValidPortName,
  isValidPortNum,
} from './names.js';

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const TRAFFIC_POLICIES = ['Cluster', 'Local'];
/** the default --service-node-port-range */
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };

const nameIsDNS1035Label: NameValidator = (name, prefix) =>
  isDNS1035Label(prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name);

const isHeadless = (svc: Service): boolean => svc.spec?.clusterIP === 'None';

function validateServicePort(
  sp: ServicePort,
  requireName: boolean,
  path: string,
  names: Set<string>,
  errs: FieldError[],
): void {
  if (requireName && !sp.name) errs.push(fe.required(`${path}.name`));
  else if (sp.name) {
    for (const m of isDNS1123Label(sp.name)) errs.push(fe.invalid(`${path}.name`, sp.name, m));
    if (names.has(sp.name)) errs.push(fe.duplicate(`${path}.name`, sp.name));
    names.add(sp.name);
  }
  for (const m of isValidPortNum(sp.port)) errs.push(fe.invalid(`${path}.port`, sp.port, m));
  if (!sp.protocol) errs.push(fe.required(`${path}.protocol`));
  else if (!PROTOCOLS.includes(sp.protocol))
    errs.push(fe.notSupported(`${path}.protocol`, sp.protocol, PROTOCOLS));
  const tp = sp.targetPort;
  if (typeof tp === 'number') {
    for (const m of isValidPortNum(tp)) errs.push(fe.invalid(`${path}.targetPort`, tp, m));
  } else if (typeof tp === 'string') {
    for (const m of isValidPortName(tp)) errs.push(fe.invalid(`${path}.targetPort`, tp, m));
  }
  if (sp.nodePort !== undefined && sp.nodePort !== 0) {
    const valid = isValidPortNum(sp.nodePort);
    for (const m of valid) errs.push(fe.invalid(`${path}.nodePort`, sp.nodePort, m));
  }
}

function validateServiceSpec(svc: Service, errs: FieldError[]): void {
  const spec = svc.spec;
  if (!spec) {
    errs.push(fe.required('spec'));
    return;
  }
  const type = spec.type ?? '';
  if (!SERVICE_TYPES.includes(type)) errs.push(fe.notSupported('spec.type', type, SERVICE_TYPES));
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !isHeadless(svc) && type !== 'ExternalName') errs.push(fe.required('spec.ports'));
  const names = new Set<string>();
  const seen = new Map<string, number>();
  const nodePorts = new Set<string>();
  ports.forEach((sp, i) => {
    const p = `spec.ports[${i}]`;
    validateServicePort(sp, ports.length > 1, p, names, errs);
    const key = `${sp.protocol}/${sp.port}`;
    if (seen.has(key)) errs.push(fe.duplicate(p, { port: sp.port, protocol: sp.protocol }));
    seen.set(key, i);
    if (sp.nodePort) {
      if (type === 'ClusterIP' || type === 'ExternalName') {
        errs.push(fe.forbidden(`${p}.nodePort`, `may not be used when \`type\` is '${type}'`));
      } else if (sp.nodePort < NODE_PORT_RANGE.min || sp.nodePort > NODE_PORT_RANGE.max) {
        errs.push(
          fe.invalid(
            `${p}.nodePort`,
            sp.nodePort,
            `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`,
          ),
        );
      }
      const npKey = `${sp.protocol}/${sp.nodePort}`;
      if (nodePorts.has(npKey)) errs.push(fe.duplicate(`${p}.nodePort`, sp.nodePort));
      nodePorts.add(npKey);
    }
  });
  if (type === 'ExternalName') {
    if (!spec.externalName) errs.push(fe.required('spec.externalName'));
    else {
      const name = spec.externalName.endsWith('.') ? spec.externalName.slice(0, -1) : spec.externalName;
      for (const m of isDNS1123Subdomain(name))
        errs.push(fe.invalid('spec.externalName', spec.externalName, m));
    }
    if (spec.clusterIP) errs.push(fe.forbidden('spec.clusterIP', 'may not be set for ExternalName services'));
  }
  const clusterIPs = spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : []);
  if (spec.clusterIP && spec.clusterIPs?.length && spec.clusterIPs[0] !== spec.clusterIP) {
    errs.push(fe.invalid('spec.clusterIPs', spec.clusterIPs, 'first value must match `clusterIP`'));
  }
  clusterIPs.forEach((ip, i) => {
    if (ip === 'None' || ip === '') {
      if (ip === 'None' && i > 0)
        errs.push(
          fe.invalid(
            `spec.clusterIPs[${i}]`,
            ip,
            'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
          ),
        );
      return;
    }
    for (const m of isValidIP(ip)) errs.push(fe.invalid(`spec.clusterIPs[${i}]`, ip, m));
  });
  if (isHeadless(svc) && (type === 'NodePort' || type === 'LoadBalancer')) {
    errs.push(fe.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  }
  for (const [i, ip] of (spec.externalIPs ?? []).entries()) {
    for (const m of isValidIP(ip)) errs.push(fe.invalid(`spec.externalIPs[${i}]`, ip, m));
  }
  const affinity = spec.sessionAffinity ?? '';
  if (affinity !== 'None' && affinity !== 'ClientIP')
    errs.push(fe.notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (affinity === 'ClientIP' && timeout !== undefined && (timeout <= 0 || timeout > 86400)) {
    errs.push(
      fe.invalid(
        'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
        timeout,
        'must be greater than 0 and less than 86400',
      ),
    );
  }
  if (affinity === 'None' && spec.sessionAffinityConfig) {
    errs.push(
      fe.invalid(
        'spec.sessionAffinityConfig',
        spec.sessionAffinityConfig,
        'must not be set when session affinity is None',
      ),
    );
  }
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  if (spec.externalTrafficPolicy !== undefined && spec.externalTrafficPolicy !== '') {
    if (type !== 'NodePort' && type !== 'LoadBalancer') {
      errs.push(
        fe.invalid(
          'spec.externalTrafficPolicy',
          spec.externalTrafficPolicy,
          "may only be set when `type` is 'NodePort' or 'LoadBalancer'",
        ),
      );
    } else if (!TRAFFIC_POLICIES.includes(spec.externalTrafficPolicy)) {
      errs.push(fe.notSupported('spec.externalTrafficPolicy', spec.externalTrafficPolicy, TRAFFIC_POLICIES));
    }
  } else if (type === 'NodePort' || type === 'LoadBalancer') {
    errs.push(fe.required('spec.externalTrafficPolicy'));
  }
  if (spec.internalTrafficPolicy !== undefined && !TRAFFIC_POLICIES.includes(spec.internalTrafficPolicy)) {
    errs.push(fe.notSupported('spec.internalTrafficPolicy', spec.internalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort !== 0) {
    if (type !== 'LoadBalancer' || spec.externalTrafficPolicy !== 'Local') {
      errs.push(
        fe.invalid(
          'spec.healthCheckNodePort',
          spec.healthCheckNodePort,
          "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
        ),
      );
    }
  }
  if (
    spec.ipFamilyPolicy !== undefined &&
    !['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(spec.ipFamilyPolicy)
  ) {
    errs.push(
      fe.notSupported('spec.ipFamilyPolicy', spec.ipFamilyPolicy, [
        'PreferDualStack',
        'RequireDualStack',
        'SingleStack',
      ]),
    );
  }
  (spec.ipFamilies ?? []).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6')
      errs.push(fe.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']));
  });
}

export function validateService(svc: Service): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, true, nameIsDNS1035Label);
  validateServiceSpec(svc, errs);
  return errs;
}

/** ValidateServiceUpdate: a cluster IP, once set, may not change (unless to or from ExternalName) */
export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata, true, nameIsDNS1035Label);
  validateServiceSpec(svc, errs);
  const type = svc.spec?.type;
  const oldType = old.spec?.type;
  const oldIPs = old.spec?.clusterIPs ?? (old.spec?.clusterIP ? [old.spec.clusterIP] : []);
  const newIPs = svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : []);
  if (type !== 'ExternalName' && oldType !== 'ExternalName' && oldIPs.length > 0 && oldIPs[0] !== '') {
    if (newIPs[0] !== oldIPs[0])
      errs.push(fe.invalid('spec.clusterIPs[0]', newIPs, 'may not change once set'));
  }
  return errs;
}

export function validateServiceStatusUpdate(svc: Service, old: Service): FieldError[] {
  const errs = validateObjectMetaUpdate(svc.metadata, old.metadata, true, nameIsDNS1035Label);
  (svc.status?.loadBalancer?.ingress ?? []).forEach((ing, i) => {
    if (ing.ip)
      for (const m of isValidIP(ing.ip))
        errs.push(fe.invalid(`status.loadBalancer.ingress[${i}].ip`, ing.ip, m));
    if (ing.hostname)
      for (const m of isDNS1123Subdomain(ing.hostname))
        errs.push(fe.invalid(`status.loadBalancer.ingress[${i}].hostname`, ing.hostname, m));
  });
  return errs;
}

export function validateEndpoints(ep: Endpoints, old?: Endpoints): FieldError[] {
  const errs = old
    ? validateObjectMetaUpdate(ep.metadata, old.metadata, true, nameIsDNSSubdomain)
    : validateObjectMeta(ep.metadata, true, nameIsDNSSubdomain);
  (ep.subsets ?? []).forEach((subset, i) => {
    const p = `subsets[${i}]`;
    if (
      (subset.addresses?.length ?? 0) + (subset.notReadyAddresses?.length ?? 0) === 0 &&
      (subset.ports?.length ?? 0) > 0
    ) {
      errs.push(fe.required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      (subset[list] ?? []).forEach((a, j) => {
        for (const m of isValidIP(a.ip)) errs.push(fe.invalid(`${p}.${list}[${j}].ip`, a.ip, m));
        if (a.hostname)
          for (const m of isDNS1123Label(a.hostname))
            errs.push(fe.invalid(`${p}.${list}[${j}].hostname`, a.hostname, m));
      });
    }
    const names = new Set<string>();
    (subset.ports ?? []).forEach((port, j) => {
      const pp = `${p}.ports[${j}]`;
      if ((subset.ports?.length ?? 0) > 1 && !port.name) errs.push(fe.required(`${pp}.name`));
      if (port.name) {
        for (const m of isDNS1123Label(port.name)) errs.push(fe.invalid(`${pp}.name`, port.name, m));
        if (names.has(port.name)) errs.push(fe.duplicate(`${pp}.name`, port.name));
        names.add(port.name);
      }
      for (const m of isValidPortNum(port.port)) errs.push(fe.invalid(`${pp}.port`, port.port, m));
      if (!port.protocol) errs.push(fe.required(`${pp}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol))
        errs.push(fe.notSupported(`${pp}.protocol`, port.protocol, PROTOCOLS));
    });
  });
  return errs;
}
