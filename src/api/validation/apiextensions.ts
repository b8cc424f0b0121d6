// apiextensions.k8s.io/v1 CustomResourceDefinition validation: upstream's main rules
// (apiextensions-apiserver pkg/apis/apiextensions/validation/validation.go): name = plural.group, names, scope,
// exactly one storage version, a structural schema for every version, stored versions in spec.versions.
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  JSONSchemaProps,
} from 'kubernetes-types/apiextensions/v1.js';
import { fe, type FieldError } from '../errors.js';
import { immutable, validateObjectMeta, validateObjectMetaUpdate, type NameValidator } from './meta.js';
import { isDNS1035Label, isDNS1123Subdomain } from './names.js';

const SCOPES = ['Cluster', 'Namespaced'];

function crdName(crd: CustomResourceDefinition): NameValidator {
  return (name, prefix) => {
    const errs = isDNS1123Subdomain(name);
    if (!prefix && name !== `${crd.spec?.names?.plural ?? ''}.${crd.spec?.group ?? ''}`)
      errs.push('must be spec.names.plural+"."+spec.group');
    return errs;
  };
}

function validateNames(names: CustomResourceDefinitionNames | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const n = names ?? ({} as CustomResourceDefinitionNames);
  const dns1035 = (value: string | undefined, field: string): void => {
    if (!value) return;
    const problems = isDNS1035Label(value);
    if (problems.length) errs.push(fe.invalid(`${path}.${field}`, value, problems.join(',')));
  };
  dns1035(n.plural, 'plural');
  dns1035(n.singular, 'singular');
  const mixedCase = (value: string | undefined, field: string): void => {
    if (!value) return;
    const problems = isDNS1035Label(value.toLowerCase());
    if (problems.length)
      errs.push(
        fe.invalid(
          `${path}.${field}`,
          value,
          `may have mixed case, but should otherwise match: ${problems.join(',')}`,
        ),
      );
  };
  mixedCase(n.kind, 'kind');
  mixedCase(n.listKind, 'listKind');
  (n.shortNames ?? []).forEach((s, i) => {
    const problems = isDNS1035Label(s);
    if (problems.length) errs.push(fe.invalid(`${path}.shortNames[${i}]`, s, problems.join(',')));
  });
  if (n.kind && n.listKind && n.kind === n.listKind)
    errs.push(fe.invalid(`${path}.listKind`, n.listKind, 'kind and listKind may not be the same'));
  if (!n.plural) errs.push(fe.required(`${path}.plural`));
  if (!n.singular) errs.push(fe.required(`${path}.singular`));
  if (!n.kind) errs.push(fe.required(`${path}.kind`));
  if (!n.listKind) errs.push(fe.required(`${path}.listKind`));
  return errs;
}

/** the structural-schema rules a user meets first: a type everywhere (object at the root) */
function validateStructural(s: JSONSchemaProps, path: string, root: boolean, errs: FieldError[]): void {
  const ext = s as JSONSchemaProps & {
    'x-kubernetes-int-or-string'?: boolean;
    'x-kubernetes-preserve-unknown-fields'?: boolean;
  };
  const untyped = ext['x-kubernetes-int-or-string'] || ext['x-kubernetes-preserve-unknown-fields'];
  if (root) {
    if (!s.type) errs.push(fe.required(`${path}.type`, 'must not be empty at the root'));
    else if (s.type !== 'object') errs.push(fe.invalid(`${path}.type`, s.type, 'must be object at the root'));
  } else if (!s.type && !untyped) {
    errs.push(fe.required(`${path}.type`, 'must not be empty for specified object fields'));
  }
  for (const [name, child] of Object.entries(s.properties ?? {}))
    validateStructural(child, `${path}.properties[${name}]`, false, errs);
  const items = s.items;
  if (items && !Array.isArray(items)) validateStructural(items, `${path}.items`, false, errs);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    validateStructural(s.additionalProperties, `${path}.additionalProperties`, false, errs);
}

function validateSpec(crd: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec ?? ({} as CustomResourceDefinition['spec']);
  if (!spec.group) errs.push(fe.required('spec.group'));
  else {
    const problems = isDNS1123Subdomain(spec.group);
    if (problems.length) errs.push(fe.invalid('spec.group', spec.group, problems.join(',')));
    else if (spec.group.split('.').length < 2)
      errs.push(fe.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  }
  if (!spec.scope) errs.push(fe.required('spec.scope'));
  else if (!SCOPES.includes(spec.scope)) errs.push(fe.notSupported('spec.scope', spec.scope, SCOPES));

  const versions = spec.versions ?? [];
  const seen = new Set<string>();
  let storage = 0;
  versions.forEach((v, i) => {
    const vp = `spec.versions[${i}]`;
    if (v.storage) storage++;
    if (seen.has(v.name))
      errs.push(fe.invalid('spec.versions', versions, 'must contain unique version names'));
    seen.add(v.name);
    for (const m of isDNS1035Label(v.name ?? '')) errs.push(fe.invalid(`${vp}.name`, v.name ?? '', m));
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) errs.push(fe.required(`${vp}.schema.openAPIV3Schema`, 'schemas are required'));
    else validateStructural(schema, `${vp}.schema.openAPIV3Schema`, true, errs);
    const scale = v.subresources?.scale;
    if (scale) {
      if (!scale.specReplicasPath) errs.push(fe.required(`${vp}.subresources.scale.specReplicasPath`));
      if (!scale.statusReplicasPath) errs.push(fe.required(`${vp}.subresources.scale.statusReplicasPath`));
    }
  });
  if (storage !== 1)
    errs.push(
      fe.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'),
    );
  if (versions.length > 0 && !versions.some((v) => v.served))
    errs.push(fe.invalid('spec.versions', versions, 'must have at least one version marked as served'));

  errs.push(...validateNames(spec.names, 'spec.names'));
  const conversion = spec.conversion;
  if (conversion) {
    const strategies = ['None', 'Webhook'];
    if (!strategies.includes(conversion.strategy))
      errs.push(fe.notSupported('spec.conversion.strategy', conversion.strategy, strategies));
    if (conversion.strategy === 'Webhook') {
      const cc = conversion.webhook?.clientConfig;
      if (!cc)
        errs.push(
          fe.required('spec.conversion.webhook.clientConfig', 'required when strategy is set to Webhook'),
        );
      else if ((cc.url === undefined) === (cc.service === undefined))
        errs.push(
          fe.required('spec.conversion.webhook.clientConfig', 'exactly one of url or service is required'),
        );
      if (!conversion.webhook?.conversionReviewVersions?.length)
        errs.push(
          fe.required('spec.conversion.webhook.conversionReviewVersions', 'must specify one of v1, v1beta1'),
        );
    } else if (conversion.webhook) {
      errs.push(
        fe.forbidden('spec.conversion.webhook', 'should not be set when strategy is not set to Webhook'),
      );
    }
  }
  return errs;
}

function validateStoredVersions(crd: CustomResourceDefinition): FieldError[] {
  const errs: FieldError[] = [];
  const stored = crd.status?.storedVersions ?? [];
  const names = new Set((crd.spec?.versions ?? []).map((v) => v.name));
  stored.forEach((v, i) => {
    if (!names.has(v))
      errs.push(fe.invalid(`status.storedVersions[${i}]`, v, 'must appear in spec.versions'));
  });
  const storageVersion = (crd.spec?.versions ?? []).find((v) => v.storage)?.name;
  if (stored.length && storageVersion && !stored.includes(storageVersion))
    errs.push(fe.invalid('status.storedVersions', stored, `must have the storage version ${storageVersion}`));
  return errs;
}

export function validateCrd(crd: CustomResourceDefinition): FieldError[] {
  return [...validateObjectMeta(crd.metadata, false, crdName(crd)), ...validateSpec(crd)];
}

export function validateCrdUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): FieldError[] {
  const errs = [
    ...validateObjectMetaUpdate(crd.metadata, old.metadata, false, crdName(crd)),
    ...validateSpec(crd),
    ...validateStoredVersions(crd),
  ];
  const established = (old.status?.conditions ?? []).some(
    (c) => c.type === 'Established' && c.status === 'True',
  );
  if (established) {
    errs.push(...immutable(crd.spec?.scope, old.spec?.scope, 'spec.scope'));
    errs.push(...immutable(crd.spec?.names?.plural, old.spec?.names?.plural, 'spec.names.plural'));
  }
  return errs;
}

export function validateCrdStatusUpdate(
  crd: CustomResourceDefinition,
  old: CustomResourceDefinition,
): FieldError[] {
  return [
    ...validateObjectMetaUpdate(crd.metadata, old.metadata, false, crdName(crd)),
    ...validateStoredVersions(crd),
  ];
}
