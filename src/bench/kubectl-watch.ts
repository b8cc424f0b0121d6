// What kubectl sees: `kubectl get pods -w --output-watch-events -o json`, parsed as it streams, for benchmarks that
// stop the clock when a user watching with kubectl would.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Pod } from 'kubernetes-types/core/v1.js';

export interface PodWatch {
  /** resolves with performance.now() of the first moment `pred` holds for the pods kubectl has shown */
  until(pred: (pods: Pod[]) => boolean, timeoutMs: number): Promise<number>;
  stop(): void;
}

/** Splits a stream of concatenated (pretty-printed) JSON objects into the objects. */
export class JsonObjectStream {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  push(chunk: string): unknown[] {
    const out: unknown[] = [];
    const from = this.buf.length;
    this.buf += chunk;
    for (let i = from; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{') {
        if (this.depth++ === 0) this.start = i;
      } else if (c === '}' && --this.depth === 0) {
        out.push(JSON.parse(this.buf.slice(this.start, i + 1)));
        this.buf = this.buf.slice(i + 1);
        i = -1;
      }
    }
    return out;
  }
}

export function watchPods(kubeconfig: string, selector: string, env: NodeJS.ProcessEnv): PodWatch {
  const child: ChildProcess = spawn(
    'kubectl',
    ['--kubeconfig', kubeconfig, 'get', 'pods', '-l', selector, '-w', '--output-watch-events', '-o', 'json'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pods = new Map<string, Pod>();
  const waiters: { pred: (pods: Pod[]) => boolean; resolve: (t: number) => void }[] = [];
  let stderr = '';
  const parser = new JsonObjectStream();
  const check = (): void => {
    const now = performance.now();
    for (const w of [...waiters]) {
      if (w.pred([...pods.values()])) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(now);
      }
    }
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    for (const ev of parser.push(chunk) as { type: string; object: Pod }[]) {
      const name = ev.object.metadata?.name ?? '';
      if (ev.type === 'DELETED') pods.delete(name);
      else pods.set(name, ev.object);
    }
    check();
  });
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return {
    until(pred, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`kubectl watch: timed out after ${timeoutMs} ms; stderr: ${stderr}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (t) => {
            clearTimeout(timer);
            resolve(t);
          },
        });
        check();
      });
    },
    stop: () => void child.kill('SIGKILL'),
  };
}
