// The three PATCH flavours of the apiserver (JSON patch, JSON merge patch, strategic merge patch) and their metadata.
export { applyJsonPatch, MAX_JSON_PATCH_OPERATIONS } from './json-patch.js';
export { applyMergePatch } from './merge-patch.js';
export {
  applyStrategicMergePatch,
  strategicMergePatchWithMeta,
  StrategicMergeError,
} from './strategic-merge-patch.js';
export {
  EMPTY_PATCH_META,
  PATCH_META_TABLE,
  fieldPatchInfo,
  patchMetaFor,
  patchMetaForDefinition,
  patchMetaFromTable,
  type FieldPatchInfo,
  type FieldPatchMeta,
  type PatchMeta,
} from './patch-meta.js';
