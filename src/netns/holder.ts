// Starting a namespace holder (a small process whose only job is to keep namespaces alive) and running commands
// next to it: the spawn, the wait for its "ready" line, the `nsenter` prefix that enters what it holds.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Which namespaces of a holder to enter. */
export interface Enter {
  pid: number;
  /** the holder's user namespace (a rootless sandbox): entered first, keeping our mapped credentials */
  user?: boolean;
  net?: boolean;
  mount?: boolean;
  uts?: boolean;
}

/** `nsenter --target PID ...`: the argv prefix that runs a command inside a holder's namespaces. */
export function nsenterArgs(enter: Enter): string[] {
  return [
    'nsenter',
    '--target',
    String(enter.pid),
    // --preserve-credentials: nsenter would setgroups(), which a --map-root-user namespace denies
    ...(enter.user ? ['--user', '--preserve-credentials'] : []),
    ...(enter.net ? ['--net'] : []),
    ...(enter.mount ? ['--mount'] : []),
    ...(enter.uts ? ['--uts'] : []),
  ];
}

export class NamespaceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NamespaceError';
  }
}

/**
 * Runs `argv` to completion with `input` on its stdin; rejects with its stderr when it fails. Asynchronous, so a
 * burst of pods never blocks the event loop on `ip`.
 */
export function runCommand(argv: string[], input = '', timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new NamespaceError(`${argv.join(' ')}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(stdout);
      const why = stderr.trim() || (signal ? `killed by ${signal}` : `exit status ${code}`);
      reject(new NamespaceError(`${describe(argv)} failed: ${why}`));
    });
  });
}

/** Feeds `commands` to one `ip -batch -` run with `prefix` (an nsenter into the namespace, or nothing). */
export function ipBatch(prefix: string[], commands: string[]): Promise<string> {
  return runCommand([...prefix, 'ip', '-batch', '-'], commands.join('\n') + '\n');
}

export interface StartedHolder {
  child: ChildProcess;
  pid: number;
}

/**
 * Spawns a holder whose script prints `ready` once its namespaces are set up; resolves then, or rejects with what
 * it wrote to stderr when it exits first or takes longer than `timeoutMs`. The holder's stdio is released after
 * ready (the script redirects it before it settles into its wait), so it outlives our pipes.
 */
export function startHolder(
  argv: string[],
  options: { detached?: boolean; input?: string; timeoutMs?: number } = {},
): Promise<StartedHolder> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
    let stdout = '';
    let stderr = '';
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new NamespaceError(`${describe(argv)}: ${why}`));
    };
    const timer = setTimeout(
      () => fail(`not ready after ${options.timeoutMs ?? 20_000} ms${stderr ? `: ${stderr.trim()}` : ''}`),
      options.timeoutMs ?? 20_000,
    );
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (settled || !/^ready$/m.test(stdout)) return;
      settled = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      if (options.detached) child.unref();
      resolve({ child, pid: child.pid as number });
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
    child.on('error', (err) => fail(err.message));
    child.on('exit', (code, signal) =>
      fail(stderr.trim() || (signal ? `killed by ${signal}` : `exited with status ${code}`)),
    );
  });
}

/** SIGKILLs `pid` (a holder we started) and resolves once it is gone; quiet when it already is. */
export async function killHolder(pid: number, timeoutMs = 5_000): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline)
      throw new NamespaceError(`holder ${pid} still alive ${timeoutMs} ms after SIGKILL`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Alive and not a zombie (a SIGKILLed child we have not reaped yet counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function describe(argv: string[]): string {
  const line = argv.join(' ');
  return line.length > 160 ? `${line.slice(0, 160)}…` : line;
}
