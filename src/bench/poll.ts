// Polling for the benchmark suites: the check's first defined answer, or an error naming what never came.
export async function pollUntil<T>(
  what: string,
  ms: number,
  check: () => Promise<T | undefined>,
  everyMs: number,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
