// The pure, CPU-heavy steps of a request that may run on the offload worker: each takes and returns plain,
// structured-cloneable values and throws ApiError for what the client did wrong.
import { serverSideApply, trackUpdate, type ApplyOptions, type TrackOptions } from '../../api/apply/index.js';
import type { KubeObject } from '../../api/request.js';
import { parseYamlBody } from '../rest/yaml-body.js';
import {
  decodeChunks,
  encodeChunks,
  isJsonSafe,
  type JsonChunk,
  type Slicer,
} from '../../util/json-slices.js';

export const JOBS = {
  /** a YAML request body's value (400 naming the broken line or the repeated key) */
  decodeYaml: (text: string): unknown => parseYamlBody(text),
  /** server-side apply of a configuration onto the live object (undefined: create) */
  serverSideApply: (live: KubeObject | undefined, config: KubeObject, opts: ApplyOptions): KubeObject =>
    serverSideApply(live, config, opts).object,
  /** managedFields bookkeeping of an ordinary write */
  trackUpdate: (old: KubeObject | undefined, next: KubeObject, opts: TrackOptions): KubeObject =>
    trackUpdate(old, next, opts),
} as const;

export type JobName = keyof typeof JOBS;
export type JobArgs<N extends JobName> = Parameters<(typeof JOBS)[N]>;
export type JobResult<N extends JobName> = ReturnType<(typeof JOBS)[N]>;

/**
 * A value crossing between the threads: as JSON chunks when that loses nothing (a megabyte object is then
 * rebuilt a slice at a time, where a structured clone is one long turn of the receiving event loop), else
 * structured-cloned.
 */
export type Carried = { chunks: JsonChunk[] | null } | { clone: unknown };

/** A job as posted to the worker, and its answer: a value, an ApiError's parts, or another error's message. */
export interface JobMessage {
  id: number;
  name: JobName;
  args: Carried[];
}

export type JobReply =
  | { id: number; value: Carried }
  | { id: number; apiError: { reason: string; message: string; details?: unknown } }
  | { id: number; error: string };

/** A value as carried to the other thread (undefined is `{ chunks: null }`); with a slicer, in slices. */
export async function carry(value: unknown, slicer?: Slicer): Promise<Carried> {
  if (value === undefined) return { chunks: null };
  if (!(await isJsonSafe(value, slicer))) return { clone: value };
  return { chunks: (await encodeChunks(value, slicer)) ?? null };
}

/** The value carried. */
export async function unpack(c: Carried, slicer?: Slicer): Promise<unknown> {
  if ('clone' in c) return c.clone;
  return c.chunks === null ? undefined : decodeChunks(c.chunks, slicer);
}
