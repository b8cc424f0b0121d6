// Runs a request's CPU-heavy steps (jobs.ts) where they do not stall the apiserver: inline when the input is
// small (a thread hop costs more than the work), else on one worker thread, started on first use, which does
// not keep the process alive while idle and is replaced if it dies. Jobs run one at a time, in order.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Status } from 'kubernetes-types/meta/v1.js';
import { ApiError, errors, type StatusReason } from '../../api/errors.js';
import type { Logger } from '../../util/logger.js';
import { Slicer } from '../../util/json-slices.js';
import {
  carry,
  JOBS,
  unpack,
  type Carried,
  type JobArgs,
  type JobMessage,
  type JobName,
  type JobReply,
  type JobResult,
} from './jobs.js';

interface Pending {
  resolve(value: unknown): void;
  reject(e: Error): void;
}

export interface OffloadOptions {
  logger?: Logger;
  /**
   * the worker's script; default worker.js beside this module (absent when running from TypeScript sources);
   * null: no worker, every job runs inline
   */
  workerUrl?: URL | null;
}

export class Offload {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly workerUrl: URL | undefined;
  private closed = false;

  constructor(private readonly opts: OffloadOptions = {}) {
    const url = opts.workerUrl === undefined ? new URL('./worker.js', import.meta.url) : opts.workerUrl;
    // under vitest this module is TypeScript and has no compiled worker beside it: everything runs inline
    this.workerUrl = url && existsSync(fileURLToPath(url)) ? url : undefined;
  }

  /** Run the job inline (small input) or on the worker (`large`); ApiErrors keep their reason and details. */
  run<N extends JobName>(name: N, large: boolean, ...args: JobArgs<N>): Promise<JobResult<N>> {
    if (!large || !this.workerUrl || this.closed) {
      try {
        const run = JOBS[name] as (...a: unknown[]) => unknown;
        return Promise.resolve(run(...args) as JobResult<N>);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    return this.post(name, args);
  }

  /** run a job on the worker: its arguments and its result cross in slices (carry/unpack) */
  private async post<N extends JobName>(name: N, args: JobArgs<N>): Promise<JobResult<N>> {
    const slicer = new Slicer();
    const carried: Carried[] = [];
    for (const a of args as unknown[]) carried.push(await carry(a, slicer));
    if (this.closed) throw new ApiError('ServiceUnavailable', 'the apiserver is shutting down');
    const id = this.nextId++;
    const reply = await new Promise<Carried>((resolve, reject) => {
      this.pending.set(id, { resolve: (v) => resolve(v as Carried), reject });
      const worker = this.start(this.workerUrl!);
      worker.ref();
      worker.postMessage({ id, name, args: carried } satisfies JobMessage);
    });
    return (await unpack(reply, new Slicer())) as JobResult<N>;
  }

  /** Stop the worker; jobs still pending fail with a 503. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new ApiError('ServiceUnavailable', 'the apiserver is shutting down'));
    await worker?.terminate();
  }

  private start(url: URL): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(url);
    worker.on('message', (reply: JobReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('value' in reply) p.resolve(reply.value);
      else if ('apiError' in reply) {
        const { reason, message, details } = reply.apiError;
        p.reject(new ApiError(reason as StatusReason, message, details as Status['details']));
      } else p.reject(errors.internal(reply.error));
    });
    // a worker that dies (out of memory, say) fails what it held and is replaced on the next large job
    worker.on('error', (e) => this.lost(worker, e));
    worker.on('exit', (code) => this.lost(worker, new Error(`the offload worker exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private lost(worker: Worker, e: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.opts.logger?.error({ err: e }, 'offload worker lost');
    this.failAll(errors.internal(e.message, e));
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

export { hasMoreNodesThan } from '../../util/json-slices.js';

/** below this many nodes the field manager's walks take about a millisecond: not worth a thread hop */
export const OFFLOAD_NODES = 2000;
/** YAML below this size decodes in a few milliseconds */
export const OFFLOAD_YAML_CHARS = 64 * 1024;
