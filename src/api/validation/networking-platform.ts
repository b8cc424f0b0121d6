// networking.k8s.io/v1 NetworkPolicy, IPAddress and ServiceCIDR validation (upstream's
// pkg/apis/networking/validation/validation.go).
import { BlockList } from 'node:net';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { fe, type FieldError } from '../errors.js';
import {
  immutable,
  nameIsDNSSubdomain,
  validateLabelSelector,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type NameValidator,
} from './meta.js';
import {
  isDNS1123Subdomain,
  isIPv4,
  isIPv6,
  isValidIP,
  isValidPathSegmentName,
  isValidPortName,
  isValidPortNum,
} from './names.js';

interface NetworkPolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr?: string; except?: string[] };
}
interface NetworkPolicy {
  metadata?: { name?: string };
  spec?: {
    podSelector?: LabelSelector;
    ingress?: { ports?: NetworkPolicyPort[]; from?: NetworkPolicyPeer[] }[];
    egress?: { ports?: NetworkPolicyPort[]; to?: NetworkPolicyPeer[] }[];
    policyTypes?: string[];
  };
}

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const CIDR_EXAMPLE = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

/** netutils.ParseCIDRSloppy: address/prefix with a prefix the family allows */
export function parseCidr(cidr: string): { v6: boolean; prefix: number; ip: string } | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = cidr.slice(0, slash);
  const prefixText = cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (isIPv4(ip)) return prefix <= 32 ? { v6: false, prefix, ip } : undefined;
  if (isIPv6(ip)) return prefix <= 128 ? { v6: true, prefix, ip } : undefined;
  return undefined;
}

/** ValidateNetworkPolicyPort */
function validatePort(port: NetworkPolicyPort, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol))
    errs.push(fe.notSupported(`${path}.protocol`, port.protocol, ['TCP', 'UDP', 'SCTP']));
  if (port.port === undefined) {
    if (port.endPort !== undefined) {
      errs.push(
        fe.invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is not specified'),
      );
    }
  } else if (typeof port.port === 'number') {
    for (const m of isValidPortNum(port.port)) errs.push(fe.invalid(`${path}.port`, port.port, m));
    if (port.endPort !== undefined) {
      // (upstream reports the port, not the endPort, as the value)
      if (port.endPort < port.port)
        errs.push(fe.invalid(`${path}.endPort`, port.port, 'must be greater than or equal to `port`'));
      for (const m of isValidPortNum(port.endPort)) errs.push(fe.invalid(`${path}.endPort`, port.endPort, m));
    }
  } else {
    if (port.endPort !== undefined) {
      errs.push(
        fe.invalid(`${path}.endPort`, port.endPort, 'may not be specified when `port` is non-numeric'),
      );
    }
    for (const m of isValidPortName(port.port)) errs.push(fe.invalid(`${path}.port`, port.port, m));
  }
  return errs;
}

/** ValidateIPBlock: valid CIDRs, each `except` a strict subset of `cidr` */
function validateIPBlock(block: { cidr?: string; except?: string[] }, path: string): FieldError[] {
  const cidr = block.cidr ?? '';
  if (!cidr) return [fe.required(`${path}.cidr`)];
  const errs: FieldError[] = [];
  const net = parseCidr(cidr);
  if (!net) errs.push(fe.invalid(`${path}.cidr`, cidr, CIDR_EXAMPLE));
  (block.except ?? []).forEach((e, i) => {
    const ep = `${path}.except[${i}]`;
    const except = parseCidr(e);
    if (!except) {
      errs.push(fe.invalid(ep, e, CIDR_EXAMPLE));
      return;
    }
    if (!net) return;
    const family = net.v6 ? 'ipv6' : 'ipv4';
    const list = new BlockList();
    list.addSubnet(net.ip, net.prefix, family);
    const sameFamily = except.v6 === net.v6;
    if (!sameFamily || !list.check(except.ip, family) || net.prefix >= except.prefix) {
      errs.push(fe.invalid(ep, e, 'must be a strict subset of `cidr`'));
    }
  });
  return errs;
}

function validatePeer(peer: NetworkPolicyPeer, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let peers = 0;
  if (peer.podSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.podSelector, `${path}.podSelector`));
  }
  if (peer.namespaceSelector) {
    peers++;
    errs.push(...validateLabelSelector(peer.namespaceSelector, `${path}.namespaceSelector`));
  }
  if (peer.ipBlock) {
    peers++;
    errs.push(...validateIPBlock(peer.ipBlock, `${path}.ipBlock`));
  }
  if (peers === 0) errs.push(fe.required(path, 'must specify a peer'));
  else if (peer.ipBlock && peers > 1)
    errs.push(fe.forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

export function validateNetworkPolicy(np: NetworkPolicy): FieldError[] {
  const errs = validateObjectMeta(np.metadata, true, nameIsDNSSubdomain);
  const spec = np.spec ?? {};
  errs.push(...validateLabelSelector(spec.podSelector, 'spec.podSelector'));
  (spec.ingress ?? []).forEach((rule, i) => {
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `spec.ingress[${i}].ports[${j}]`)));
    (rule.from ?? []).forEach((p, j) => errs.push(...validatePeer(p, `spec.ingress[${i}].from[${j}]`)));
  });
  (spec.egress ?? []).forEach((rule, i) => {
    (rule.ports ?? []).forEach((p, j) => errs.push(...validatePort(p, `spec.egress[${i}].ports[${j}]`)));
    (rule.to ?? []).forEach((p, j) => errs.push(...validatePeer(p, `spec.egress[${i}].to[${j}]`)));
  });
  const types = spec.policyTypes ?? [];
  if (types.length > 2) {
    errs.push(fe.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress')
      errs.push(fe.notSupported(`spec.policyTypes[${i}]`, t, ['Ingress', 'Egress']));
  });
  return errs;
}

export function validateNetworkPolicyUpdate(np: NetworkPolicy, old: NetworkPolicy): FieldError[] {
  return [
    ...validateNetworkPolicy(np),
    ...validateObjectMetaUpdate(np.metadata, old.metadata, true, nameIsDNSSubdomain),
  ];
}

interface IPAddress {
  metadata?: { name?: string };
  spec?: { parentRef?: { group?: string; resource?: string; namespace?: string; name?: string } };
}

/** ValidateIPAddressName: a valid IP in canonical form */
const ipAddressName: NameValidator = (name) => {
  const errs = isValidIP(name);
  if (errs.length) return errs;
  if (isIPv4(name) && name !== name.split('.').map(Number).join('.'))
    return [`must be in canonical form ("${name.split('.').map(Number).join('.')}")`];
  if (isIPv6(name) && name !== name.toLowerCase())
    return [`must be in canonical form ("${name.toLowerCase()}")`];
  return [];
};

export function validateIPAddress(ip: IPAddress): FieldError[] {
  const errs = validateObjectMeta(ip.metadata, false, ipAddressName);
  const ref = ip.spec?.parentRef;
  if (!ref) {
    errs.push(fe.required('spec.parentRef'));
    return errs;
  }
  if (ref.group)
    for (const m of isDNS1123Subdomain(ref.group))
      errs.push(fe.invalid('spec.parentRef.group', ref.group, m));
  // upstream's validateIPAddressParentReference: resource and name required, they and namespace path segments
  for (const field of ['resource', 'name', 'namespace'] as const) {
    const value = ref[field] ?? '';
    if (!value) {
      if (field !== 'namespace') errs.push(fe.required(`spec.parentRef.${field}`));
      continue;
    }
    for (const m of isValidPathSegmentName(value)) errs.push(fe.invalid(`spec.parentRef.${field}`, value, m));
  }
  return errs;
}

export function validateIPAddressUpdate(ip: IPAddress, old: IPAddress): FieldError[] {
  return [
    ...validateObjectMetaUpdate(ip.metadata, old.metadata, false, ipAddressName),
    ...immutable(ip.spec?.parentRef, old.spec?.parentRef, 'spec.parentRef'),
  ];
}

interface ServiceCIDR {
  metadata?: { name?: string };
  spec?: { cidrs?: string[] };
}

/**
 * ValidateServiceCIDR: one or two CIDRs; two must be of different families (checked before each CIDR's syntax, and an
 * unparsable one fails that check too, as netutils.IsDualStackCIDRStrings errs); the two list-wide errors carry the
 * spec as their value
 */
export function validateServiceCIDR(sc: ServiceCIDR): FieldError[] {
  return [...validateObjectMeta(sc.metadata, false, nameIsDNSSubdomain), ...validateServiceCIDRSpec(sc)];
}

function validateServiceCIDRSpec(sc: ServiceCIDR): FieldError[] {
  const errs: FieldError[] = [];
  const cidrs = sc.spec?.cidrs ?? [];
  if (cidrs.length === 0) {
    errs.push(fe.required('spec.cidrs', 'at least one CIDR required'));
    return errs;
  }
  if (cidrs.length > 2) {
    errs.push(fe.invalid('spec.cidrs', sc.spec, 'may only hold up to 2 values'));
    return errs;
  }
  if (cidrs.length === 2) {
    const [a, b] = cidrs.map(parseCidr);
    if (!a || !b || a.v6 === b.v6) {
      errs.push(
        fe.invalid(
          'spec.cidrs',
          sc.spec,
          'may specify no more than one IP for each IP family, i.e 192.168.0.0/24 and 2001:db8::/64',
        ),
      );
      return errs;
    }
  }
  cidrs.forEach((c, i) => {
    if (!parseCidr(c)) errs.push(fe.invalid(`spec.cidrs[${i}]`, c, CIDR_EXAMPLE));
  });
  return errs;
}

/**
 * ValidateServiceCIDRUpdate as of 1.33 (remembered, see docs/api-parity.md) (kubernetes#131261: a single-stack ServiceCIDR, the default `kubernetes` one
 * included, may gain the other family): same length → each CIDR immutable (path with its index); one → two → the
 * first unchanged (the second's family is ValidateServiceCIDR's); anything else → the list immutable
 */
export function validateServiceCIDRUpdate(sc: ServiceCIDR, old: ServiceCIDR): FieldError[] {
  // the strategy runs ValidateServiceCIDR too: its spec rules here, its metadata rules once (in the update's)
  const errs = [
    ...validateObjectMetaUpdate(sc.metadata, old.metadata, false, nameIsDNSSubdomain),
    ...validateServiceCIDRSpec(sc),
  ];
  const now = sc.spec?.cidrs ?? [];
  const before = old.spec?.cidrs ?? [];
  if (now.length === before.length) {
    before.forEach((c, i) => {
      if (now[i] !== c) errs.push(fe.invalid(`spec.cidrs[${i}]`, now[i], 'field is immutable'));
    });
  } else if (before.length === 1 && now.length === 2) {
    if (now[0] !== before[0]) errs.push(fe.invalid('spec.cidrs[0]', now[0], 'field is immutable'));
  } else {
    errs.push(fe.invalid('spec.cidrs', now, 'field is immutable'));
  }
  return errs;
}

export function validateServiceCIDRStatusUpdate(sc: ServiceCIDR, old: ServiceCIDR): FieldError[] {
  return validateObjectMetaUpdate(sc.metadata, old.metadata, false, nameIsDNSSubdomain);
}
