// Paths inside a volume (subPath, subPathExpr): upstream's validateLocalDescendingPath, shared with the kubelet,
// which checks an expanded subPathExpr the same way before it mounts anything.
import { fe, type FieldError } from '../errors.js';

/** upstream's validatePathNoBacksteps message, also the kubelet's when it refuses a subPath */
export const BACKSTEPS_MESSAGE = "must not contain '..'";

/** true when some element of the path, split on `/`, is `..` */
export function hasBacksteps(targetPath: string): boolean {
  return targetPath.split('/').includes('..');
}

/** a path that stays below the directory it is relative to: not absolute, no `..` element (one error for many) */
export function validateLocalDescendingPath(targetPath: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (targetPath.startsWith('/')) errs.push(fe.invalid(field, targetPath, 'must be a relative path'));
  if (hasBacksteps(targetPath)) errs.push(fe.invalid(field, targetPath, BACKSTEPS_MESSAGE));
  return errs;
}
