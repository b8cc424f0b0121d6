// Ingress, IngressClass (networking.k8s.io/v1) and EndpointSlice (discovery.k8s.io/v1) validation.
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type {
  HTTPIngressPath,
  Ingress,
  IngressBackend,
  IngressClass,
} from 'kubernetes-types/networking/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  immutable,
  isDomainPrefixedPath,
  nameIsDNSSubdomain,
  validateLabels,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './meta.js';
import {
  isDNS1035Label,
  isDNS1123Label,
  endpointIPProblems,
  isDNS1123Subdomain,
  isIPv4,
  isIPv6,
  isQualifiedName,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isValidPathSegmentName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
} from './names.js';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateBackend(b: IngressBackend, path: string, errs: FieldError[]): void {
  if (b.service && b.resource) {
    errs.push(fe.invalid(path, b, 'cannot set both resource and service backends'));
    return;
  }
  if (b.service) {
    const svc = b.service;
    if (!svc.name) errs.push(fe.required(`${path}.service.name`));
    else for (const m of isDNS1035Label(svc.name)) errs.push(fe.invalid(`${path}.service.name`, svc.name, m));
    const port = svc.port;
    const hasName = !!port?.name;
    const hasNumber = port?.number !== undefined && port.number !== 0;
    if (hasName && hasNumber)
      errs.push(fe.invalid(`${path}.service.port`, port, 'cannot set both port name & port number'));
    else if (hasName)
      for (const m of isValidPortName(port.name))
        errs.push(fe.invalid(`${path}.service.port.name`, port.name, m));
    else if (hasNumber)
      for (const m of isValidPortNum(port.number))
        errs.push(fe.invalid(`${path}.service.port.number`, port.number, m));
    else errs.push(fe.required(`${path}.service.port`, 'port name or number is required'));
  } else if (b.resource) {
    if (!b.resource.kind) errs.push(fe.required(`${path}.resource.kind`));
    if (!b.resource.name) errs.push(fe.required(`${path}.resource.name`));
  } else {
    errs.push(fe.invalid(path, b, 'resource or service backend is required'));
  }
}

function validateHttpPath(p: HTTPIngressPath, path: string, errs: FieldError[]): void {
  const value = p.path ?? '';
  if (!p.pathType) errs.push(fe.required(`${path}.pathType`, 'pathType must be specified'));
  else if (!PATH_TYPES.includes(p.pathType))
    errs.push(fe.notSupported(`${path}.pathType`, p.pathType, PATH_TYPES));
  else if (p.pathType === 'Exact' || p.pathType === 'Prefix') {
    if (!value.startsWith('/')) errs.push(fe.invalid(`${path}.path`, value, 'must be an absolute path'));
    if (value.length > 0) {
      for (const seq of INVALID_PATH_SEQUENCES) {
        if (value.includes(seq)) {
          errs.push(fe.invalid(`${path}.path`, value, `must not contain '${seq}'`));
          break;
        }
      }
      for (const suffix of INVALID_PATH_SUFFIXES) {
        if (value.endsWith(suffix)) {
          errs.push(fe.invalid(`${path}.path`, value, `cannot end with '${suffix}'`));
          break;
        }
      }
    }
  } else if (value.length > 0 && !value.startsWith('/')) {
    errs.push(fe.invalid(`${path}.path`, value, 'must be an absolute path'));
  }
  validateBackend(p.backend ?? {}, `${path}.backend`, errs);
}

function validateIngressSpec(ing: Ingress, errs: FieldError[]): void {
  const spec = ing.spec ?? {};
  const rules = spec.rules ?? [];
  if (rules.length === 0 && !spec.defaultBackend) {
    errs.push(fe.invalid('spec', spec, 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) validateBackend(spec.defaultBackend, 'spec.defaultBackend', errs);
  rules.forEach((rule, i) => {
    const p = `spec.rules[${i}]`;
    if (rule.host) {
      if (isIPv4(rule.host) || isIPv6(rule.host))
        errs.push(fe.invalid(`${p}.host`, rule.host, 'must be a DNS name, not an IP address'));
      const problems = rule.host.startsWith('*.')
        ? isWildcardDNS1123Subdomain(rule.host)
        : isDNS1123Subdomain(rule.host);
      for (const m of problems) errs.push(fe.invalid(`${p}.host`, rule.host, m));
    }
    if (rule.http) {
      const paths = rule.http.paths ?? [];
      if (paths.length === 0) errs.push(fe.required(`${p}.http.paths`));
      paths.forEach((hp, j) => validateHttpPath(hp, `${p}.http.paths[${j}]`, errs));
    }
  });
  (spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((host, j) => {
      const problems = host.startsWith('*.') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      for (const m of problems) errs.push(fe.invalid(`spec.tls[${i}].hosts[${j}]`, host, m));
    });
    if (tls.secretName)
      for (const m of isDNS1123Subdomain(tls.secretName))
        errs.push(fe.invalid(`spec.tls[${i}].secretName`, tls.secretName, m));
  });
  if (spec.ingressClassName !== undefined) {
    for (const m of isDNS1123Subdomain(spec.ingressClassName))
      errs.push(fe.invalid('spec.ingressClassName', spec.ingressClassName, m));
  }
}

export function validateIngress(ing: Ingress, old?: Ingress): FieldError[] {
  const errs = old
    ? validateObjectMetaUpdate(ing.metadata, old.metadata, true, nameIsDNSSubdomain)
    : validateObjectMeta(ing.metadata, true, nameIsDNSSubdomain);
  validateIngressSpec(ing, errs);
  return errs;
}

export function validateIngressStatusUpdate(ing: Ingress, old: Ingress): FieldError[] {
  const errs = validateObjectMetaUpdate(ing.metadata, old.metadata, true, nameIsDNSSubdomain);
  (ing.status?.loadBalancer?.ingress ?? []).forEach((lb, i) => {
    if (lb.ip)
      for (const m of isValidIP(lb.ip))
        errs.push(fe.invalid(`status.loadBalancer.ingress[${i}].ip`, lb.ip, m));
  });
  return errs;
}

/**
 * upstream's ValidateIngressClass / ValidateIngressClassUpdate (pkg/apis/networking/validation): the controller is a
 * domain-prefixed path of at most 250 characters, immutable; parameters as validateIngressClassParametersReference
 */
export function validateIngressClass(ic: IngressClass, old?: IngressClass): FieldError[] {
  const errs = old
    ? validateObjectMetaUpdate(ic.metadata, old.metadata, false, nameIsDNSSubdomain)
    : validateObjectMeta(ic.metadata, false, nameIsDNSSubdomain);
  if (old) errs.push(...immutable(ic.spec?.controller, old.spec?.controller, 'spec.controller'));
  const controller = ic.spec?.controller ?? '';
  if (controller.length > 250) errs.push(fe.tooLong('spec.controller', '', 250));
  errs.push(...isDomainPrefixedPath(controller, 'spec.controller'));
  if (ic.spec?.parameters)
    errs.push(...validateIngressClassParameters(ic.spec.parameters, 'spec.parameters'));
  return errs;
}

const PARAMETER_SCOPES = ['Cluster', 'Namespace'];

function validateIngressClassParameters(
  params: NonNullable<NonNullable<IngressClass['spec']>['parameters']>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (params.apiGroup !== undefined)
    for (const m of isDNS1123Subdomain(params.apiGroup))
      errs.push(fe.invalid(`${path}.apiGroup`, params.apiGroup, m));
  for (const field of ['kind', 'name'] as const) {
    const value = params[field] ?? '';
    if (!value) errs.push(fe.required(`${path}.${field}`, `${field} is required`));
    else for (const m of isValidPathSegmentName(value)) errs.push(fe.invalid(`${path}.${field}`, value, m));
  }
  const scope = params.scope;
  if (scope === undefined) return [...errs, fe.required(`${path}.scope`)];
  if (!PARAMETER_SCOPES.includes(scope))
    return [...errs, fe.notSupported(`${path}.scope`, scope, PARAMETER_SCOPES)];
  if (scope === 'Namespace') {
    if (params.namespace === undefined)
      errs.push(fe.required(`${path}.namespace`, "`parameters.scope` is set to 'Namespace'"));
    else
      for (const m of isDNS1123Label(params.namespace))
        errs.push(fe.invalid(`${path}.namespace`, params.namespace, m));
  }
  if (scope === 'Cluster' && params.namespace !== undefined)
    errs.push(fe.forbidden(`${path}.namespace`, "`parameters.scope` is set to 'Cluster'"));
  return errs;
}

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

const tooMany = (field: string, value: number, max: number): FieldError => ({
  type: 'FieldValueTooMany',
  field,
  value,
  detail: `must have at most ${max} items`,
});

/** apimachinery's IsFullyQualifiedDomainName: a DNS subdomain of at least two labels, a trailing dot allowed */
function fullyQualifiedDomainName(value: string, path: string): FieldError[] {
  if (value.length === 0) return [fe.required(path)];
  const name = value.endsWith('.') ? value.slice(0, -1) : value;
  const subdomain = isDNS1123Subdomain(name);
  if (subdomain.length > 0) return [fe.invalid(path, name, subdomain.join(','))];
  const labels = name.split('.');
  if (labels.length < 2)
    return [fe.invalid(path, name, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const problems = isDNS1123Label(label);
    if (problems.length > 0) return [fe.invalid(path, label, problems.join(','))];
  }
  return [];
}

/**
 * upstream's ValidateEndpointSlice / ValidateEndpointSliceUpdate (pkg/apis/discovery/validation): address type,
 * endpoints (addresses by type, nodeName, deprecatedTopology, hostname, zone hints), ports
 */
export function validateEndpointSlice(slice: EndpointSlice, old?: EndpointSlice): FieldError[] {
  const errs = old
    ? validateObjectMetaUpdate(slice.metadata, old.metadata, true, nameIsDNSSubdomain)
    : validateObjectMeta(slice.metadata, true, nameIsDNSSubdomain);
  const type = slice.addressType;
  if (!type) errs.push(fe.required('addressType'));
  else if (!ADDRESS_TYPES.includes(type)) errs.push(fe.notSupported('addressType', type, ADDRESS_TYPES));
  const endpoints = slice.endpoints ?? [];
  if (endpoints.length > MAX_ENDPOINTS) errs.push(tooMany('endpoints', endpoints.length, MAX_ENDPOINTS));
  else
    endpoints.forEach((ep, i) => {
      const p = `endpoints[${i}]`;
      const addrs = ep.addresses ?? [];
      if (addrs.length === 0) errs.push(fe.required(`${p}.addresses`, 'must contain at least 1 address'));
      else if (addrs.length > MAX_ADDRESSES)
        errs.push(tooMany(`${p}.addresses`, addrs.length, MAX_ADDRESSES));
      addrs.forEach((a, j) => {
        const ap = `${p}.addresses[${j}]`;
        if (type === 'IPv4' || type === 'IPv6') {
          if (type === 'IPv4' ? !isIPv4(a) : !isIPv6(a))
            errs.push(fe.invalid(ap, a, `must be a valid ${type} address`));
          else for (const m of endpointIPProblems(a)) errs.push(fe.invalid(ap, a, m));
        } else if (type === 'FQDN') errs.push(...fullyQualifiedDomainName(a, ap));
      });
      if (ep.nodeName !== undefined)
        for (const m of isDNS1123Subdomain(ep.nodeName))
          errs.push(fe.invalid(`${p}.nodeName`, ep.nodeName, m));
      const topology = ep.deprecatedTopology ?? {};
      if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS)
        errs.push(tooMany(`${p}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
      errs.push(...validateLabels(ep.deprecatedTopology, `${p}.deprecatedTopology`));
      if (ep.hostname !== undefined)
        for (const m of isDNS1123Label(ep.hostname)) errs.push(fe.invalid(`${p}.hostname`, ep.hostname, m));
      const zones = ep.hints?.forZones ?? [];
      if (zones.length > MAX_ZONE_HINTS)
        errs.push(tooMany(`${p}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
      else {
        const seen = new Set<string>();
        zones.forEach((z, k) => {
          const zp = `${p}.hints.forZones[${k}].name`;
          if (seen.has(z.name)) errs.push(fe.duplicate(zp, z.name));
          seen.add(z.name);
          for (const m of isValidLabelValue(z.name)) errs.push(fe.invalid(zp, z.name, m));
        });
      }
    });
  const ports = slice.ports ?? [];
  if (ports.length > MAX_PORTS) errs.push(tooMany('ports', ports.length, MAX_PORTS));
  else {
    const names = new Set<string>();
    ports.forEach((port, i) => {
      const p = `ports[${i}]`;
      const name = port.name ?? '';
      if (name) for (const m of isDNS1123Label(name)) errs.push(fe.invalid(`${p}.name`, name, m));
      if (names.has(name)) errs.push(fe.duplicate(`${p}.name`, name));
      names.add(name);
      if (!port.protocol) errs.push(fe.required(`${p}.protocol`));
      else if (!PROTOCOLS.includes(port.protocol))
        errs.push(fe.notSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
      // upstream's validatePorts checks no port number
      if (port.appProtocol !== undefined)
        for (const m of isQualifiedName(port.appProtocol))
          errs.push(fe.invalid(`${p}.appProtocol`, port.appProtocol, m));
    });
  }
  if (old) errs.push(...immutable(slice.addressType, old.addressType, 'addressType'));
  return errs;
}
