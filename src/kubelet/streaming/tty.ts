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

/**
 * `argv` run on a new pseudo-terminal; its exit status is the command's (`script --return`). It is wrapped before
 * it enters the container, so the terminal's session and process groups are made inside the container's PID
 * namespace: a shell started outside it sees its process group as 0 there, and job control fails on exit.
 */
export function onTerminal(argv: string[]): { argv: string[]; env: Record<string, string> } {
  const command = `exec ${argv.map(shellQuote).join(' ')}`;
  return {
    argv: ['script', '--quiet', '--return', '--echo', 'always', '--command', command, '/dev/null'],
    // script runs the command with $SHELL; runtimes give a TTY exec TERM=xterm
    env: { TERM: 'xterm', SHELL: '/bin/sh' },
  };
}

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
  for (let depth = 0; depth < 4 && level.length > 0; depth++) {
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

  constructor(private readonly script: ChildProcess) {}

  resize(size: TerminalSize): void {
    if (size.width === 0 && size.height === 0) return;
    this.pending = size;
    this.apply();
  }

  private apply(): void {
    if (this.timer || !this.pending || this.script.exitCode !== null || this.script.pid === undefined) return;
    this.terminal ??= terminalUnder(this.script.pid);
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
      this.terminal?.session ?? (this.script.pid ? terminalUnder(this.script.pid)?.session : undefined);
    if (session !== undefined) {
      try {
        process.kill(-session, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}
