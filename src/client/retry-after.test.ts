import { describe, expect, it } from 'vitest';
import { errors } from '../api/errors.js';
import { FakeClock } from '../util/clock.js';
import { MAX_RETRY_AFTER_RETRIES, retryAfterSeconds, withRetryAfter } from './retry-after.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('withRetryAfter', () => {
  it('reads the wait from a 429 only', () => {
    expect(retryAfterSeconds(errors.tooManyRequests(3))).toBe(3);
    expect(retryAfterSeconds(errors.timeout('slow'))).toBeUndefined();
    expect(retryAfterSeconds(new Error('x'))).toBeUndefined();
  });

  it(`gives up after ${MAX_RETRY_AFTER_RETRIES} retries and passes other errors straight on`, async () => {
    const clock = new FakeClock();
    let attempts = 0;
    let failure: unknown;
    void withRetryAfter(() => {
      attempts++;
      return Promise.reject(errors.tooManyRequests(1));
    }, clock).catch((err: unknown) => (failure = err));
    for (let i = 0; i < 20; i++) {
      await flush();
      clock.advance(1_000);
    }
    expect(attempts).toBe(MAX_RETRY_AFTER_RETRIES + 1);
    expect(failure).toMatchObject({ code: 429 });

    let other = 0;
    await expect(
      withRetryAfter(() => {
        other++;
        return Promise.reject(errors.badRequest('no'));
      }, clock),
    ).rejects.toMatchObject({ code: 400 });
    expect(other).toBe(1);
  });
});
