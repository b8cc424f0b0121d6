// The pure, CPU-heavy steps of a request that may run on the offload worker: each takes and returns plain,
// structured-cloneable values and throws ApiError for what the client did wrong.
import { serverSideApply, trackUpdate, type ApplyOptions, type TrackOptions } from '../../api/apply/index.js';
import type { KubeObject } from '../../api/request.js';
import { parseYamlBody } from '../rest/yaml-body.js';

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

/** A job as posted to the worker, and its answer: a value, an ApiError's parts, or another error's message. */
export interface JobMessage {
  id: number;
  name: JobName;
  args: unknown[];
}

export type JobReply =
  | { id: number; value: unknown }
  | { id: number; apiError: { reason: string; message: string; details?: unknown } }
  | { id: number; error: string };
