// The apiserver's offload worker thread: runs the jobs of jobs.ts so that a megabyte of YAML or a 30,000-key
// server-side apply takes its CPU time here while the main event loop keeps answering (/healthz, lease renewals).
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../api/errors.js';
import { JOBS, type JobMessage, type JobReply } from './jobs.js';

parentPort?.on('message', (job: JobMessage) => {
  let reply: JobReply;
  try {
    const run = JOBS[job.name] as (...args: unknown[]) => unknown;
    reply = { id: job.id, value: run(...job.args) };
  } catch (e) {
    reply =
      e instanceof ApiError
        ? {
            id: job.id,
            apiError: { reason: e.reason, message: e.message, ...(e.details ? { details: e.details } : {}) },
          }
        : { id: job.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(reply);
});
