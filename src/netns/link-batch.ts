// One `ip -force -batch -` run for the node-side commands of many pods: a burst of pods costs one `ip` process
// on the node, not one each. Requests made while a run is in flight wait for the next run, which takes all of
// them. `-force` goes on past a failing line and names it ("Command failed -:N"), so only the pods whose own lines
// failed get the error.
import { NamespaceError, runCommand } from './holder.js';

interface Request {
  commands: string[];
  resolve: () => void;
  reject: (err: Error) => void;
}

export class IpBatcher {
  private queue: Request[] = [];
  private running = false;
  private scheduled = false;
  /** `ip` runs done, for tests and benches */
  runs = 0;

  /** `prefix`: what runs a command in the namespace (an nsenter), [] for our own */
  constructor(private readonly prefix: string[]) {}

  /** runs `commands` (in order, in one `ip` run with whatever else is queued); rejects with their errors */
  run(commands: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ commands, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.running || this.scheduled || !this.queue.length) return;
    this.scheduled = true;
    // every request this turn of the event loop makes goes into the same run
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.running || !this.queue.length) return;
    this.running = true;
    const batch = this.queue;
    this.queue = [];
    /** line number (1-based) → the request it belongs to */
    const owner: Request[] = [];
    const lines: string[] = [];
    for (const r of batch)
      for (const c of r.commands) {
        lines.push(c);
        owner[lines.length] = r;
      }
    this.runs++;
    try {
      await runCommand([...this.prefix, 'ip', '-force', '-batch', '-'], lines.join('\n') + '\n');
      for (const r of batch) r.resolve();
    } catch (err) {
      const text = (err as Error).message;
      const failed = new Map<Request, string[]>();
      // ip prints each failing line's message, then "Command failed -:N"
      const out = text.split('\n');
      for (let i = 0; i < out.length; i++) {
        const m = /Command failed -:(\d+)/.exec(out[i]);
        const r = m ? owner[Number(m[1])] : undefined;
        if (!r) continue;
        const why = (out[i - 1] ?? '').replace(/^.* failed: /, '').trim();
        failed.set(r, [...(failed.get(r) ?? []), `${lines[Number(m![1]) - 1]}: ${why}`]);
      }
      for (const r of batch) {
        const mine = failed.get(r);
        if (mine) r.reject(new NamespaceError(`ip -batch: ${mine.join('; ')}`));
        // no line named: the run itself failed (ip missing, killed), which is everyone's error
        else if (!failed.size) r.reject(err as Error);
        else r.resolve();
      }
    } finally {
      this.running = false;
      this.kick();
    }
  }
}
