// A terminal for `kubectl exec -it`: the command runs on a pseudo-terminal made by util-linux's `script` (on every
// Linux with the kubelet's other tools; a native pty module would need a compiler at install time), and window
// sizes are set on that terminal with `stty -F` (coreutils), which delivers SIGWINCH to its foreground job as a
// real resize does. Ctrl-C is the byte 0x03 on the terminal: its line discipline turns it into SIGINT.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { TerminalSize } from './command-streams.js';

export interface CommandLine {
  file: string;
  args: string[];
  env: Record<string, string>;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** `line` run on a new pseudo-terminal; its exit status is the command's (`script -e`). */
export function onTerminal(line: CommandLine): CommandLine {
  const command = `exec ${[line.file, ...line.args].map(shellQuote).join(' ')}`;
  return {
    file: 'script',
    args: ['--quiet', '--return', '--echo', 'always', '--command', command, '/dev/null'],
    // script runs the command with $SHELL; runtimes give a TTY exec TERM=xterm unless the container sets one
    env: { TERM: 'xterm', ...line.env, SHELL: '/bin/sh' },
  };
}

function childOf(pid: number): number | undefined {
  try {
    const first = Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    return first > 0 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** The terminal a `script` process made: its child's stdin, `/dev/pts/N`. */
function terminalOf(scriptPid: number): { device: string; session: number } | undefined {
  const child = childOf(scriptPid);
  if (child === undefined) return undefined;
  try {
    const device = fs.readlinkSync(`/proc/${child}/fd/0`);
    return device.startsWith('/dev/pts/') ? { device, session: child } : undefined;
  } catch {
    return undefined;
  }
}

/** Sizes and ends the terminal of one `script` process. */
export class TerminalControl {
  private pending: TerminalSize | undefined;
  private timer: NodeJS.Timeout | undefined;
  private tries = 0;
  private terminal: { device: string; session: number } | undefined;

  constructor(private readonly script: ChildProcess) {}

  resize(size: TerminalSize): void {
    if (size.width === 0 && size.height === 0) return;
    this.pending = size;
    this.apply();
  }

  private apply(): void {
    if (this.timer || !this.pending || this.script.exitCode !== null || this.script.pid === undefined) return;
    this.terminal ??= terminalOf(this.script.pid);
    if (!this.terminal) {
      // the terminal appears once script has forked; sizes sent before are applied then
      if (this.tries++ < 200) this.timer = setTimeout(() => ((this.timer = undefined), this.apply()), 10);
      return;
    }
    const { width, height } = this.pending;
    this.pending = undefined;
    const stty = spawn('stty', ['-F', this.terminal.device, 'rows', String(height), 'cols', String(width)], {
      stdio: 'ignore',
    });
    stty.once('error', () => undefined);
  }

  /** SIGKILL to the terminal's session (the command and its jobs get SIGHUP as their terminal goes). */
  kill(): void {
    if (this.timer) clearTimeout(this.timer);
    const session = this.terminal?.session ?? (this.script.pid ? childOf(this.script.pid) : undefined);
    if (session !== undefined) {
      try {
        process.kill(-session, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
