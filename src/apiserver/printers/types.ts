// The meta.k8s.io Table that `kubectl get` asks for, and the shape of one kind's printer.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../../api/request.js';

export interface TableColumnDefinition {
  name: string;
  /** an OpenAPI type: string, integer, number, boolean, date */
  type: string;
  /** `name` for the column that names the object, else '' */
  format: string;
  description: string;
  /** 0: always shown; 1: shown by `-o wide` only */
  priority: number;
}

export type TableCell = string | number | boolean | null;

export interface TableRowCondition {
  type: 'Completed';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface PartialObjectMetadata {
  apiVersion: string;
  kind: 'PartialObjectMetadata';
  metadata: ObjectMeta;
}

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  object?: KubeObject | PartialObjectMetadata;
}

export interface Table {
  apiVersion: string;
  kind: 'Table';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

/** What a row printer gets: the time to measure ages against. */
export interface PrintContext {
  now: number;
}

/** One kind's printer: its columns and how one object becomes one row's cells (all columns, wide included). */
export interface KindPrinter {
  columns: TableColumnDefinition[];
  cells(obj: KubeObject, ctx: PrintContext): TableCell[];
  conditions?(obj: KubeObject): TableRowCondition[] | undefined;
  /** the order upstream's list printer sorts rows in (FlowSchemas by precedence); absent: as listed */
  order?(a: KubeObject, b: KubeObject): number;
}
