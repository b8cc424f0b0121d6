// Cooperative yielding for long requests on the apiserver's one event loop.

/**
 * Let the event loop run what is waiting (I/O, timers: /healthz, lease renewals) before the next step of a large
 * request: a step that takes 50 ms then delays others by 50 ms, not by the sum of all the steps.
 */
export function yieldEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
