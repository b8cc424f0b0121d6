// One long-running `nft -i` for the proxier's small transactions, so a partial sync costs no process start (exec,
// dynamic linking, libnftables' set-up: most of a small sync's time). Each transaction is written as ONE line
// (its commands joined with ` ; `), which nft parses and commits as one batch: all of it or none, as `nft -f`.
// nft prints nothing on success and its errors on stderr, so after every transaction we write a marker line that
// is a syntax error naming itself: whatever stderr holds before the marker's own error is the transaction's.
import { spawn, type ChildProcess } from 'node:child_process';
import { NftCommandError } from './nft-errors.js';

export interface NftSessionOptions {
  /** argv that runs nft, e.g. ['nft'] or ['ip', 'netns', 'exec', NS, 'nft'] */
  command: string[];
  /** a transaction without an answer in this time kills the session, default 30 s */
  timeoutMs?: number;
  /** nft keeps every line in its (libedit) history: the session is restarted after this many bytes, default 4 MiB */
  maxBytes?: number;
}

/** the session itself failed (died, hung, could not start), as opposed to nft rejecting a transaction */
export class NftSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NftSessionError';
  }
}

interface InFlight {
  marker: RegExp;
  resolve: () => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  line: string;
}

export class NftSession {
  private readonly opts: Required<NftSessionOptions>;
  private child: ChildProcess | undefined;
  private stderr = '';
  private current: InFlight | undefined;
  private written = 0;
  private seq = 0;
  /** transactions wait for the one before (the proxier sends one at a time anyway) */
  private tail: Promise<void> = Promise.resolve();
  /** transactions committed through this session, for tests */
  applied = 0;

  constructor(opts: NftSessionOptions) {
    this.opts = { timeoutMs: 30_000, maxBytes: 4 << 20, ...opts };
  }

  /** the running nft's PID (undefined between sessions), for benches that read its CPU time */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Applies `script` (newline-separated commands, none holding a newline itself) as one transaction. Rejects
   * with NftCommandError when nft refused it (nothing applied), NftSessionError when the session failed.
   */
  apply(script: string): Promise<void> {
    const run = this.tail.then(() => this.send(script));
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** ends the session; nft exits on end of input (it also does when our process dies: its stdin closes) */
  close(): void {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    child.stdin?.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }

  private send(script: string): Promise<void> {
    const line = script
      .split('\n')
      .filter((l) => l.trim())
      .join(' ; ');
    if (!line) return Promise.resolve();
    if (this.written > this.opts.maxBytes) this.close();
    const child = this.child ?? this.start();
    const name = `kubemu-sync-${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.child === child) this.child = undefined;
        child.kill('SIGKILL');
        this.fail(new NftSessionError(`nft -i gave no answer in ${this.opts.timeoutMs} ms`));
      }, this.opts.timeoutMs);
      // nft's answer to the marker: `Error: syntax error, ...`, the marker line, a caret line under it
      const marker = new RegExp(`Error:[^\\n]*\\n${name}\\n[ \\t]*\\^+\\n`);
      this.current = { marker, resolve, reject, timer, line };
      const text = `${line}\n${name}\n`;
      this.written += text.length;
      child.stdin!.write(text);
      this.check();
    });
  }

  private start(): ChildProcess {
    const [cmd, ...args] = this.opts.command;
    // HOME=/proc: nft -i reads and writes its history in $HOME/.nft.history; /proc takes no new files
    const child = spawn(cmd, [...args, '-i'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HOME: '/proc' },
    });
    this.child = child;
    this.stderr = '';
    this.written = 0;
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => {
      if (this.child !== child) return;
      this.stderr += c.toString();
      this.check();
    });
    child.stdin.on('error', () => undefined);
    child.on('error', (err) => {
      if (this.child === child) this.child = undefined;
      this.fail(new NftSessionError(`cannot run ${this.opts.command.join(' ')} -i: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      const said = this.stderr.trim().slice(0, 500);
      this.fail(
        new NftSessionError(
          `nft -i exited (${signal ?? `status ${code}`})${said ? `: ${said}` : ''} before answering`,
        ),
      );
    });
    return child;
  }

  private check(): void {
    const cur = this.current;
    if (!cur) return;
    const m = cur.marker.exec(this.stderr);
    if (!m) return;
    const said = this.stderr.slice(0, m.index).trim();
    this.stderr = this.stderr.slice(m.index + m[0].length);
    this.current = undefined;
    clearTimeout(cur.timer);
    if (!said) {
      this.applied++;
      cur.resolve();
      return;
    }
    // nft echoes the failing line (ours: every command of the transaction) under its error: keep the message short
    const message = said
      .split('\n')
      .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l))
      .join('\n');
    cur.reject(new NftCommandError(`nft rejected the transaction: ${message.slice(0, 2000)}`, said));
  }

  private fail(err: Error): void {
    const cur = this.current;
    if (!cur) return;
    this.current = undefined;
    clearTimeout(cur.timer);
    cur.reject(err);
  }
}
