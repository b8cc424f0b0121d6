// What every kind's printer is built from: typed cells over the untyped object, and the NAME and AGE cells.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/request.js';
import { since } from './format.js';
import type { KindPrinter, PrintContext, TableCell } from './types.js';

export interface HasMeta {
  metadata?: ObjectMeta;
}

export const objectName = (o: HasMeta): string => o.metadata?.name ?? '';

export const objectAge = (o: HasMeta, ctx: PrintContext): string =>
  since(o.metadata?.creationTimestamp, ctx.now);

/** a kind's printer: `cells` (and the optional row `order`) see the object as its kubernetes-types view `T` */
export function printer<T>(
  columns: KindPrinter['columns'],
  cells: (obj: T, ctx: PrintContext) => TableCell[],
  order?: (a: T, b: T) => number,
): KindPrinter {
  return {
    columns,
    cells: (obj, ctx) => cells(obj as unknown as T, ctx),
    ...(order
      ? { order: (a: KubeObject, b: KubeObject) => order(a as unknown as T, b as unknown as T) }
      : {}),
  };
}
