// The apiserver's offload worker thread: runs the jobs of jobs.ts so that a megabyte of YAML or a 30,000-key
// server-side apply takes its CPU time here while the main event loop keeps answering (/healthz, lease renewals).
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../api/errors.js';
import { carry, JOBS, unpack, type JobMessage, type JobReply } from './jobs.js';

// jobs run one at a time, in order: each is unpacked, run and packed without a pause, so no other job interleaves
let queue = Promise.resolve();
parentPort?.on('message', (job: JobMessage) => {
  queue = queue.then(() => runJob(job));
});

async function runJob(job: JobMessage): Promise<void> {
  let reply: JobReply;
  try {
    const run = JOBS[job.name] as (...args: unknown[]) => unknown;
    const args = await Promise.all(job.args.map((a) => unpack(a)));
    reply = { id: job.id, value: await carry(run(...args)) };
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
}
