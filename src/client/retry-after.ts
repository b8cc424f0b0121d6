// client-go's answer to 429 Too Many Requests: wait as long as the server's Retry-After says, then send again.
import { ApiError } from '../api/errors.js';
import type { Clock } from '../util/clock.js';

/** client-go's default maxRetries for a request answered 429 */
export const MAX_RETRY_AFTER_RETRIES = 10;

/** the seconds a 429 asks to wait (upstream's Retry-After, details.retryAfterSeconds), or undefined */
export function retryAfterSeconds(err: unknown): number | undefined {
  if (!ApiError.isApiError(err) || err.code !== 429) return undefined;
  const seconds = err.details?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds > 0 ? seconds : undefined;
}

/**
 * Run `attempt`, and again after the server's Retry-After each time it is refused with 429, at most `maxRetries`
 * times. A refused request was never processed, so this is safe for every verb, as in client-go.
 */
export async function withRetryAfter<T>(
  attempt: () => Promise<T>,
  clock: Clock,
  maxRetries = MAX_RETRY_AFTER_RETRIES,
): Promise<T> {
  for (let retries = 0; ; retries++) {
    try {
      return await attempt();
    } catch (err) {
      const seconds = retryAfterSeconds(err);
      if (seconds === undefined || retries >= maxRetries) throw err;
      await new Promise<void>((resolve) => clock.setTimeout(resolve, Math.min(seconds, 60) * 1000));
    }
  }
}
