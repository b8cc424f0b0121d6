// A real terminal for interactive kubectl (`exec -it`, `debug -it`, `attach -it`): a detached tmux session on its own
// server socket, typed into with send-keys and read with capture-pane. kill() ends the server and all in it.
import { execFileSync } from 'node:child_process';

export class TmuxSession {
  private readonly socket: string;

  /** starts `command` (a shell command line) in a new detached session of `width`×`height` */
  constructor(name: string, command: string, width = 100, height = 30) {
    this.socket = `kubemu-${name}-${process.pid}`;
    this.tmux('new-session', '-d', '-x', String(width), '-y', String(height), command);
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
  }

  /** what the window shows now (trailing spaces trimmed, as capture-pane does) */
  screen(): string {
    return this.tmux('capture-pane', '-p');
  }

  /** types `text` and Enter */
  type(text: string): void {
    this.tmux('send-keys', text, 'Enter');
  }

  /** the PID of the pane's process (the command, when it was started with `exec`) */
  panePid(): number {
    return Number(this.tmux('display-message', '-p', '#{pane_pid}').trim());
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}
