// Polling for tests: wait until a check gives an answer, or fail saying what was awaited and the last error.

/**
 * A wait that succeeds after this long is reported on stderr (`[slow wait]`, in the test's output): a generous
 * timeout hid a 30-s path once (a refused watch, the change arriving through a periodic resync).
 */
const SLOW_WAIT_MS = Number(process.env['KUBEMU_TEST_SLOW_WAIT_MS'] ?? 10_000);

/**
 * Calls `check` every `everyMs` until it returns something other than undefined or false (thrown errors count
 * as not yet); after `ms`, fails naming `what` and the last error.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms = 30_000,
  everyMs = 200,
): Promise<T> {
  const started = Date.now();
  const deadline = started + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) {
        const took = Date.now() - started;
        if (took >= SLOW_WAIT_MS)
          process.stderr.write(
            `[slow wait] ${what}: ${(took / 1000).toFixed(1)} s (of ${ms / 1000} s allowed)\n`,
          );
        return v;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail =
        last === undefined ? '' : `: ${last instanceof Error ? last.message : JSON.stringify(last)}`;
      throw new Error(`timed out after ${ms} ms waiting for ${what}${detail}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
