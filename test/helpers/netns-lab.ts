// Network namespaces a test makes for itself (`ip netns add`, names with a unique prefix), the veths and bridges
// inside them, and the processes it runs in them; cleanup kills those processes by PID and deletes the
// namespaces. Nothing here touches the host's own namespace: every link is created inside a test namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from './process.js';

export interface LabProcess {
  child: ChildProcess;
  output(): string;
}

export class NetnsLab {
  private readonly made: string[] = [];
  private readonly procs: ChildProcess[] = [];

  /** `prefix` makes the names unique to one test run (`h19nft-<pid>`, say) */
  constructor(readonly prefix: string) {}

  ns(short: string): string {
    return `${this.prefix}-${short}`;
  }

  add(short: string): string {
    const name = this.ns(short);
    execFileSync('ip', ['netns', 'add', name]);
    this.made.push(name);
    this.ip(short, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** `ip -n NS ...` */
  ip(short: string, ...args: string[]): string {
    return execFileSync('ip', ['-n', this.ns(short), ...args], { encoding: 'utf8' });
  }

  /** runs a command inside the namespace and returns its stdout; throws on a non-zero exit */
  exec(short: string, cmd: string, args: string[], input?: string): string {
    return execFileSync('ip', ['netns', 'exec', this.ns(short), cmd, ...args], {
      encoding: 'utf8',
      ...(input !== undefined ? { input } : {}),
    });
  }

  /** a veth from `from` (named `fromIf`) to `to` (named `toIf`), created inside `from`, never in the host */
  veth(from: string, fromIf: string, to: string, toIf: string): void {
    this.ip(from, 'link', 'add', fromIf, 'type', 'veth', 'peer', 'name', toIf, 'netns', this.ns(to));
  }

  /** a long-running process in the namespace, stopped by cleanup */
  spawn(short: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): LabProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(short), cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    const keep = (c: Buffer): void => {
      out += c.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.procs.push(child);
    return { child, output: () => out };
  }

  async cleanup(): Promise<void> {
    // `ip netns exec` execs the command, so the child's PID is the process itself
    await Promise.all(this.procs.map((p) => stopChild(p, 'SIGTERM', 3000)));
    for (const name of this.made.reverse()) {
      try {
        execFileSync('ip', ['netns', 'del', name]);
      } catch {
        /* already gone */
      }
    }
  }
}
