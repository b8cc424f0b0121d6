// One served CustomResourceDefinition: its resource (for routing, discovery and OpenAPI), its versions' schemas,
// and the rules its objects follow (upstream's pkg/registry/customresource strategy.go and validator.go plus the
// crdHandler's codec): decode (pruning with fieldValidation, defaulting; conversion is ./conversion.ts),
// validation (metadata, structural schema, then CEL at one call site), the status and scale subresources.
import type { CustomResourceDefinition } from 'kubernetes-types/apiextensions/v1.js';
import { ApiError, errors, fe, type FieldError } from '../../api/errors.js';
import type { KubeObject } from '../../api/request.js';
import { ALL_VERBS, groupVersion, type ResourceInfo, type Subresource } from '../../api/resources.js';
import type { FieldValidationMode } from '../../api/schema/index.js';
import {
  nameIsDNSSubdomain,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from '../../api/validation/meta.js';
import { deepEqual, isObject } from '../../util/objects.js';
import type { Strategy, UpdatePart } from '../registry/strategies.js';
import { notSupported, type FieldLabels } from '../registry/selectors.js';
import { celRuleErrors } from './cel-rules.js';
import { applyDefaults, prune, validateValue, type Schema } from './structural.js';
import { sortVersions } from './versions.js';

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

interface VersionInfo {
  name: string;
  schema: Schema | undefined;
  status: boolean;
  scale: ScaleSpec | undefined;
  columns: PrinterColumn[];
  selectableFields: string[];
  deprecated: boolean;
  deprecationWarning: string | undefined;
}

const CRD_TERMINATING = 'Terminating';

export function crdCondition(
  crd: CustomResourceDefinition,
  type: string,
): { status?: string; reason?: string; message?: string } | undefined {
  return crd.status?.conditions?.find((c) => c.type === type);
}

/** a `.spec.replicas` JSON path as a field path (`spec.replicas`) */
const dotted = (jsonPath: string): string => jsonPath.replace(/^\./, '');

export function getPath(obj: unknown, jsonPath: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted(jsonPath).split('.')) {
    if (!isObject(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

export function setPath(obj: Record<string, unknown>, jsonPath: string, value: unknown): void {
  const parts = dotted(jsonPath).split('.');
  let cur = obj;
  for (const part of parts.slice(0, -1)) {
    if (!isObject(cur[part])) cur[part] = {};
    cur = cur[part] as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]] = value;
}

export class CustomResource {
  readonly crd: CustomResourceDefinition;
  readonly ri: ResourceInfo;
  /** the same resource with the storage version first, as the generic store expects of its storeRi */
  readonly storeRi: ResourceInfo;
  readonly storageVersion: string;
  readonly listKind: string;
  private readonly versions = new Map<string, VersionInfo>();
  readonly strategies = new Map<string, Strategy>();

  constructor(crd: CustomResourceDefinition) {
    this.crd = crd;
    const spec = crd.spec;
    const names = crd.status?.acceptedNames ?? spec.names;
    const topSchema = (spec as { validation?: { openAPIV3Schema?: Schema } }).validation?.openAPIV3Schema;
    for (const v of spec.versions ?? []) {
      const scale = v.subresources?.scale;
      this.versions.set(v.name, {
        name: v.name,
        schema: (v.schema?.openAPIV3Schema as Schema | undefined) ?? topSchema,
        status: v.subresources?.status !== undefined,
        scale: scale
          ? {
              specReplicasPath: scale.specReplicasPath,
              statusReplicasPath: scale.statusReplicasPath,
              ...(scale.labelSelectorPath ? { labelSelectorPath: scale.labelSelectorPath } : {}),
            }
          : undefined,
        columns: v.additionalPrinterColumns ?? [],
        selectableFields: (v.selectableFields ?? []).map((f) => dotted(f.jsonPath)),
        deprecated: v.deprecated === true,
        deprecationWarning: v.deprecationWarning,
      });
    }
    const served = sortVersions((spec.versions ?? []).filter((v) => v.served).map((v) => v.name));
    this.storageVersion = (spec.versions ?? []).find((v) => v.storage)?.name ?? served[0] ?? 'v1';
    const anyVersion = [...this.versions.values()][0];
    const subresources: Subresource[] = [];
    if (anyVersion?.status)
      subresources.push({ name: 'status', kind: '', verbs: ['get', 'patch', 'update'] });
    if (anyVersion?.scale)
      subresources.push({
        name: 'scale',
        kind: 'Scale',
        group: 'autoscaling',
        version: 'v1',
        verbs: ['get', 'patch', 'update'],
      });
    this.listKind = names.listKind ?? `${names.kind}List`;
    this.ri = {
      group: spec.group,
      versions: served,
      kind: names.kind,
      resource: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      shortNames: [...(names.shortNames ?? [])],
      namespaced: spec.scope === 'Namespaced',
      categories: [...(names.categories ?? [])],
      verbs: [...ALL_VERBS],
      subresources,
    };
    this.storeRi = { ...this.ri, versions: [this.storageVersion] };
  }

  get terminating(): boolean {
    return (
      crdCondition(this.crd, CRD_TERMINATING)?.status === 'True' || !!this.crd.metadata?.deletionTimestamp
    );
  }

  version(name: string): VersionInfo | undefined {
    return this.versions.get(name);
  }

  schema(version: string): Schema | undefined {
    return this.versions.get(version)?.schema;
  }

  hasStatus(version: string): boolean {
    return this.versions.get(version)?.status ?? false;
  }

  scaleSpec(version: string): ScaleSpec | undefined {
    return this.versions.get(version)?.scale;
  }

  columns(version: string): PrinterColumn[] {
    return this.versions.get(version)?.columns ?? [];
  }

  /** field selectors: metadata.name, metadata.namespace and the version's selectableFields */
  fieldLabels(version: string): FieldLabels {
    return {
      fields: [
        'metadata.name',
        'metadata.namespace',
        ...(this.versions.get(version)?.selectableFields ?? []),
      ],
      reject: notSupported,
    };
  }

  /** a deprecated version's warning, as upstream's handler adds to every response */
  deprecationWarning(version: string): string | undefined {
    const v = this.versions.get(version);
    if (!v?.deprecated) return undefined;
    return v.deprecationWarning ?? `${groupVersion(this.ri.group, version)} ${this.ri.kind} is deprecated`;
  }

  strategy(version: string): Strategy {
    let s = this.strategies.get(version);
    if (!s) {
      s = customStrategy(this.hasStatus(version));
      this.strategies.set(version, s);
    }
    return s;
  }

  /**
   * The request body (already checked for kind and apiVersion) in the request's version: unknown fields pruned
   * (an error under fieldValidation=Strict, warnings under Warn), defaults applied. The store validates it in this
   * version and converts it to the storage version (./conversion.ts) only to write it, as upstream's codec does.
   */
  decode(
    body: Record<string, unknown>,
    version: string,
    mode: FieldValidationMode,
  ): { obj: KubeObject; warnings: string[] } {
    const obj = body as KubeObject;
    if (obj.metadata !== undefined && !isObject(obj.metadata)) {
      throw errors.badRequest(
        `${this.ri.kind} in version "${version}" cannot be handled as a ${this.ri.kind}: json: cannot unmarshal ${Array.isArray(obj.metadata) ? 'array' : typeof obj.metadata} into Go struct field ${this.ri.kind}.metadata of type v1.ObjectMeta`,
      );
    }
    const schema = this.schema(version);
    const unknown = prune(obj, schema);
    const warnings: string[] = [];
    if (unknown.length > 0 && mode !== 'Ignore') {
      const messages = unknown.map((path) => `unknown field "${path}"`);
      if (mode === 'Strict') {
        throw new ApiError('BadRequest', `strict decoding error: ${messages.join(', ')}`, {
          kind: this.ri.kind,
          causes: unknown.map((field, i) => ({ reason: 'FieldValueUnknown', message: messages[i], field })),
        });
      }
      warnings.push(...messages);
    }
    applyDefaults(obj, schema);
    obj.apiVersion = groupVersion(this.ri.group, version);
    obj.kind = this.ri.kind;
    const deprecation = this.deprecationWarning(version);
    if (deprecation) warnings.push(deprecation);
    return { obj, warnings };
  }

  /** upstream's customResourceValidator with the version's schema, then the CEL rules */
  validate(
    obj: KubeObject,
    old: KubeObject | undefined,
    version: string,
    subresource?: string,
  ): FieldError[] {
    const namespaced = this.ri.namespaced;
    const errs = old
      ? validateObjectMetaUpdate(obj.metadata, old.metadata, namespaced, nameIsDNSSubdomain)
      : validateObjectMeta(obj.metadata, namespaced, nameIsDNSSubdomain);
    const schema = this.schema(version);
    if (schema) {
      // status writes are checked against the whole schema too (upstream's statusStrategy validates the object)
      const found = validateValue(obj, schema, '');
      errs.push(...found);
      errs.push(...celRuleErrors(schema, obj, old));
    }
    const scale = this.scaleSpec(version);
    if (scale) errs.push(...this.validateScale(obj, scale, subresource));
    return errs;
  }

  /** upstream's ValidateCustomResource scale checks: the replicas paths hold non-negative int32s */
  private validateScale(obj: KubeObject, scale: ScaleSpec, subresource: string | undefined): FieldError[] {
    const errs: FieldError[] = [];
    const check = (path: string): void => {
      const v = getPath(obj, path);
      if (v === undefined) return;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 2147483647)
        errs.push(fe.invalid(dotted(path), v, 'should be a non-negative integer'));
    };
    if (subresource !== 'status') check(scale.specReplicasPath);
    check(scale.statusReplicasPath);
    if (scale.labelSelectorPath) {
      const sel = getPath(obj, scale.labelSelectorPath);
      if (sel !== undefined && typeof sel !== 'string')
        errs.push(fe.invalid(dotted(scale.labelSelectorPath), sel, 'must be a string'));
    }
    return errs;
  }
}

/**
 * upstream's customResourceStrategy: with a status subresource a main write keeps the stored status and a status
 * write keeps everything else; generation moves on any change but metadata (and status, when it is a subresource).
 */
function customStrategy(status: boolean): Strategy {
  return {
    statusSubresource: status,
    tracksGeneration: true,
    allowUnconditionalUpdate: false,
    allowCreateOnUpdate: false,
    prepareForCreate(obj) {
      if (status) delete obj['status'];
    },
    generationChanged(next: KubeObject, old: KubeObject, part: UpdatePart): boolean {
      if (part !== 'main') return false;
      const strip = (o: KubeObject): Record<string, unknown> => {
        const { metadata: _m, status: st, ...rest } = o as Record<string, unknown>;
        return status ? rest : { ...rest, status: st };
      };
      return !deepEqual(strip(next), strip(old));
    },
  };
}
