// Durations on the command line, as Go's flags take them.

/** Go's time.ParseDuration for what flags use: `3s`, `500ms`, `1m30s`, `0.5s`; a bare number is seconds */
export function parseDuration(text: string): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) throw new TypeError(`invalid duration "${text}"`);
    total += Number(m[1]) * unitMs[m[2]];
    at = re.lastIndex;
  }
  if (text.length === 0) throw new TypeError('empty duration');
  return total;
}
