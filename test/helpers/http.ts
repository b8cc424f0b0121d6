// A tiny HTTPS client for tests: the raw REST face, as kubectl sees it.
import { request } from 'node:https';

export interface HttpResponse<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
  text: string;
}

export interface Api {
  <T = any>(
    method: string,
    path: string,
    body?: unknown,
    opts?: { contentType?: string; accept?: string; raw?: Buffer | string; token?: string | null },
  ): Promise<HttpResponse<T>>;
}

export function apiClient(server: { url: string; token: string; ca: string }): Api {
  return (method, path, body, opts = {}) =>
    new Promise((resolve, reject) => {
      const payload =
        opts.raw !== undefined ? opts.raw : body !== undefined ? JSON.stringify(body) : undefined;
      const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
      const token = opts.token === undefined ? server.token : opts.token;
      if (token) headers['Authorization'] = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['Content-Type'] = opts.contentType ?? 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      const req = request(
        `${server.url}${path}`,
        { method, ca: server.ca, headers, timeout: 15_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed as never, text });
          });
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
}

/** Open a watch stream and collect its events as they arrive. */
export function watchStream(
  server: { url: string; token: string; ca: string },
  path: string,
): { events: any[]; close(): void; waitFor(pred: (events: any[]) => boolean, ms?: number): Promise<any[]> } {
  const events: any[] = [];
  let buf = '';
  const req = request(
    `${server.url}${path}`,
    { method: 'GET', ca: server.ca, headers: { Authorization: `Bearer ${server.token}` } },
    (res) => {
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line));
        }
      });
    },
  );
  req.on('error', () => undefined);
  req.end();
  return {
    events,
    close: () => req.destroy(),
    async waitFor(pred, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!pred(events)) {
        if (Date.now() > deadline)
          throw new Error(
            `watch condition not met in ${ms} ms; events: ${JSON.stringify(events.map((e) => [e.type, e.object?.metadata?.name]))}`,
          );
        await new Promise((r) => setTimeout(r, 20));
      }
      return events;
    },
  };
}
