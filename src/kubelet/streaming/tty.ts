// The terminal of `kubectl exec -it` and of attaching to a `tty: true` container: the command runs on a
// pseudo-terminal made by util-linux's `script` (runtime/terminal.ts), and window sizes are set on that terminal
// with `stty -F` (coreutils), which delivers SIGWINCH to its foreground job as a real resize does. Ctrl-C is the
// byte 0x03 on the terminal: its line discipline turns it into SIGINT.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type { TerminalSize } from './command-streams.js';

export interface CommandLine {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export { onTerminal } from '../runtime/terminal.js';

function children(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The pseudo-terminal a process has as its controlling terminal, from /proc/PID/stat's tty_nr (majors 136–143 are
 * Unix98 ptys): its path in the host's /dev/pts, which containers share.
 */
function controllingPty(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ttyNr = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
    const major = (ttyNr >> 8) & 0xfff;
    const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
    if (major < 136 || major > 143) return undefined;
    return `/dev/pts/${(major - 136) * 256 + minor}`;
  } catch {
    return undefined;
  }
}

/** The terminal `script` made below `root` (nsenter, script, the command): the first process that has it. */
function terminalUnder(root: number): { device: string; session: number } | undefined {
  let level = children(root);
  for (let depth = 0; depth < 6 && level.length > 0; depth++) {
    for (const pid of level) {
      const device = controllingPty(pid);
      if (device) return { device, session: pid };
    }
    level = level.flatMap(children);
  }
  return undefined;
}

/** Sizes and ends the terminal of one `script` process. */
export class TerminalControl {
  private pending: TerminalSize | undefined;
  private timer: NodeJS.Timeout | undefined;
  private tries = 0;
  private terminal: { device: string; session: number } | undefined;

  /** `root`: the process the terminal's `script` runs under (the exec's spawned process, or a container's) */
  constructor(private readonly root: { pid?: number | undefined; running(): boolean }) {}

  resize(size: TerminalSize): void {
    if (size.width === 0 && size.height === 0) return;
    this.pending = size;
    this.apply();
  }

  private apply(): void {
    if (this.timer || !this.pending || !this.root.running() || this.root.pid === undefined) return;
    this.terminal ??= terminalUnder(this.root.pid);
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
    const session =
      this.terminal?.session ?? (this.root.pid ? terminalUnder(this.root.pid)?.session : undefined);
    if (session !== undefined) {
      try {
        process.kill(-session, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
