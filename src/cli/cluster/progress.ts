// Progress of `kubemu up`: one line per component, redrawn in place on a terminal, appended plainly otherwise.
import type { WriteStream } from 'node:tty';

type Out = NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY'>>;

export class Progress {
  private readonly lines = new Map<string, string>();
  private drawn = 0;
  private readonly tty: boolean;
  private readonly width: number;

  constructor(
    private readonly out: Out = process.stdout,
    private readonly startedAt = Date.now(),
  ) {
    this.tty = out.isTTY === true && process.env['TERM'] !== 'dumb';
    this.width = Math.max(...['controller-manager', 'kubelet-node-10'].map((s) => s.length));
  }

  /** Sets `key`'s line; on a terminal the block is redrawn, otherwise the line is printed if it changed. */
  update(key: string, text: string): void {
    if (this.lines.get(key) === text) return;
    this.lines.set(key, text);
    if (!this.tty) {
      this.out.write(`${this.format(key, text)}\n`);
      return;
    }
    let frame = this.drawn > 0 ? `\x1b[${this.drawn}A` : '';
    for (const [k, t] of this.lines) frame += `\x1b[2K${this.format(k, t)}\n`;
    this.drawn = this.lines.size;
    this.out.write(frame);
  }

  /** Seconds since the start, for "ready (1.2s)". */
  elapsed(): string {
    return `${((Date.now() - this.startedAt) / 1000).toFixed(1)}s`;
  }

  private format(key: string, text: string): string {
    return `  ${key.padEnd(this.width)}  ${text}`;
  }
}
