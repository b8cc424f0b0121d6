// The gateway's access log: one JSON line per request, the very line pino writes (same fields, same order, same
// stream), formatted here and written in batches, like nginx's `access_log ... buffer=16k flush=…`. Through pino's
// generic path (redaction, serializers, child bindings, a write per line) a line cost the gateway about a sixth
// of the CPU of proxying the request it tells about.
import { pino } from 'pino';
import type { Logger } from '../util/logger.js';

export interface AccessEntry {
  method: string | undefined;
  host: string | undefined;
  path: string;
  status: number;
  upstream: string;
  /** milliseconds, to the microsecond */
  duration: number;
  requestId: string;
  ingress: string;
  service: string;
  completed: boolean;
}

interface Writable {
  write(line: string): unknown;
}

const INFO = 30;
/** written when this much is waiting, or FLUSH_MS after the first line waiting, or at close */
const BUFFER_BYTES = 16 * 1024;
const FLUSH_MS = 100;

/** a JSON string literal; the common case (no quote, backslash or control character) needs no escaping */
function str(s: string | undefined): string {
  if (s === undefined) return 'null';
  // eslint-disable-next-line no-control-regex
  return /["\\\u0000-\u001f\u2028\u2029]/.test(s) ? JSON.stringify(s) : `"${s}"`;
}

export class AccessLog {
  private readonly stream: Writable | undefined;
  private readonly bindings: string;
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private lastMs = 0;
  private lastIso = '';

  /** writes through `logger`'s own stream with its bindings, or not at all when it does not log at info */
  constructor(logger: Logger) {
    const symbols = pino.symbols as unknown as { streamSym: symbol; chindingsSym: symbol };
    const l = logger as unknown as Record<symbol, unknown>;
    const stream = l[symbols.streamSym] as Writable | undefined;
    this.stream = logger.isLevelEnabled('info') && typeof stream?.write === 'function' ? stream : undefined;
    this.bindings = (l[symbols.chindingsSym] as string | undefined) ?? '';
  }

  write(e: AccessEntry): void {
    if (!this.stream) return;
    const now = Date.now();
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastIso = new Date(now).toISOString();
    }
    this.pending +=
      `{"level":${INFO},"time":"${this.lastIso}"${this.bindings},"method":${str(e.method)},` +
      (e.host === undefined ? '' : `"host":${str(e.host)},`) +
      `"path":${str(e.path)},"status":${e.status},"upstream":${str(e.upstream)},` +
      `"duration":${e.duration},"requestId":${str(e.requestId)},"ingress":${str(e.ingress)},` +
      `"service":${str(e.service)},"completed":${e.completed},"msg":"access"}\n`;
    if (this.pending.length >= BUFFER_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  /** writes what is waiting */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.pending || !this.stream) return;
    const lines = this.pending;
    this.pending = '';
    this.stream.write(lines);
  }
}
