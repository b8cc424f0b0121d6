// Runs one `kubectl exec` command inside a container and wires it to the client's streams: stdin in, stdout and
// stderr out (paced by the client), terminal sizes to its TTY, its exit status on the error stream. When the client
// goes away first (kubectl killed, connection cut), the command's whole process group is killed: nothing is left.
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Writable } from 'node:stream';
import type { Logger } from '../../util/logger.js';
import type { CommandResult, CommandStreams } from './command-streams.js';
import { onTerminal, TerminalControl, type CommandLine } from './tty.js';

function endWritable(w: Writable | undefined): Promise<void> {
  if (!w || w.writableFinished || w.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    w.once('error', () => resolve());
    w.end(() => resolve());
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/**
 * Runs `argv` in the container with `streams`; `lineFor` is how a command enters the container (the runtime's
 * execLine). Resolves when all is over.
 */
export async function runCommand(
  lineFor: (argv: string[], env: Record<string, string>) => CommandLine,
  argv: string[],
  streams: CommandStreams,
  log: Logger,
): Promise<void> {
  const wrapped = streams.tty ? onTerminal(argv) : { argv, env: {} };
  let child: ChildProcess;
  try {
    const cmd = lineFor(wrapped.argv, wrapped.env);
    child = spawn(cmd.file, cmd.args, {
      env: cmd.env,
      // own process group: killing it takes everything the command started
      detached: true,
      stdio: [streams.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    streams.finish({
      kind: 'error',
      message: `error executing command in container: ${(err as Error).message}`,
    });
    return;
  }
  const terminal = streams.tty
    ? new TerminalControl({
        pid: child.pid,
        running: () => child.exitCode === null && child.signalCode === null,
      })
    : undefined;
  if (terminal) streams.onResize((size) => terminal.resize(size));

  if (streams.stdin && child.stdin) {
    const stdin = streams.stdin;
    child.stdin.on('error', () => undefined); // EPIPE: the command did not read all of it
    stdin.pipe(child.stdin);
  }
  const pipeOut = (from: NodeJS.ReadableStream | null, to: Writable | undefined): void => {
    if (!from) return;
    if (to) {
      to.on('error', () => undefined);
      from.pipe(to, { end: false });
    } else from.resume();
  };
  pipeOut(child.stdout, streams.stdout);
  // with a TTY, stderr is the terminal too: script writes everything to its stdout
  pipeOut(child.stderr, streams.stderr ?? (streams.tty ? streams.stdout : undefined));

  let clientGone = false;
  void streams.closed.then(() => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    clientGone = true;
    terminal?.kill();
    killGroup(child.pid);
  });

  const result = await new Promise<CommandResult>((resolve) => {
    child.once('error', (err) =>
      resolve({ kind: 'error', message: `error executing command in container: ${err.message}` }),
    );
    // 'close': the process has exited and its stdout/stderr are drained
    child.once('close', (code, signal) => {
      if (signal) resolve({ kind: 'exit', code: 128 + (osConstants.signals[signal] ?? 0), argv });
      else if (code === 0) resolve({ kind: 'success' });
      else resolve({ kind: 'exit', code: code ?? 1, argv });
    });
  });
  if (clientGone) return;
  await Promise.all([endWritable(streams.stdout), endWritable(streams.stderr)]);
  log.debug({ argv, result }, 'exec finished');
  streams.finish(result);
}
