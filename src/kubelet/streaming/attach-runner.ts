// `kubectl attach` (and `kubectl run -it`): the client's streams joined to a running container's main process —
// what it writes from now on, its stdin when the container has `stdin: true` (closed after the first session with
// `stdinOnce`), resizes of its terminal when it has `tty: true`. The session ends when the container exits, or
// when the client goes (the container keeps running, as upstream).
import type { Logger } from '../../util/logger.js';
import type { ContainerProcess } from '../runtime/container.js';
import type { CommandStreams } from './command-streams.js';
import { TerminalControl } from './tty.js';

export interface AttachTarget {
  process: ContainerProcess;
  stdinOnce: boolean;
  tty: boolean;
}

export async function runAttach(target: AttachTarget, streams: CommandStreams, log: Logger): Promise<void> {
  const proc = target.process;
  const untap = proc.tapOutput((which, chunk) => {
    const to = which === 'stderr' && streams.stderr ? streams.stderr : streams.stdout;
    to?.write(chunk);
  });
  const terminal = target.tty
    ? new TerminalControl({ pid: proc.pid, running: () => proc.running })
    : undefined;
  if (terminal) streams.onResize((size) => terminal.resize(size));
  if (streams.stdin && proc.stdin) {
    const stdin = proc.stdin;
    streams.stdin.on('data', (c: Buffer) => {
      if (proc.running) stdin.write(c);
    });
    // the client's end of input is the program's with stdinOnce (containerd closes the container's stdin so)
    streams.stdin.once('end', () => {
      if (target.stdinOnce && !stdin.writableEnded) stdin.end();
    });
  }
  const ended = await Promise.race([
    proc.exited.then(() => 'exited' as const),
    streams.closed.then(() => 'detached' as const),
  ]);
  untap();
  if (target.stdinOnce && proc.stdin && !proc.stdin.writableEnded) proc.stdin.end();
  log.debug({ ended }, 'attach finished');
  if (ended === 'detached') return;
  const end = (w: NodeJS.WritableStream | undefined): Promise<void> =>
    new Promise((resolve) => (w ? w.end(() => resolve()) : resolve()));
  await Promise.all([end(streams.stdout), end(streams.stderr)]);
  streams.finish({ kind: 'success' });
}
