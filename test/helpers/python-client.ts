// The official Python client as its users have it: Debian's python3-kubernetes under the system Python
// (installed by the test setup when missing), running the scripts in test/fixtures/python-client/.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './apiserver.js';
import { APT_ENV, aptGetArgv } from './tools.js';
import { waitFor } from './wait.js';

/** The system interpreter: `python3` on PATH may be a pyenv shim without Debian's packages. */
export const PYTHON = '/usr/bin/python3';
export const PYTHON_SCRIPTS = join(ROOT, 'test/fixtures/python-client');

interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Exec> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `apt-get install -y python3-kubernetes` (after an `apt-get update` if the first try fails) unless importable. */
export async function ensurePythonClient(): Promise<void> {
  const check = (): Promise<Exec> => exec(PYTHON, ['-c', 'import kubernetes'], process.env, 30_000);
  if ((await check()).code === 0) return;
  const apt = (args: string[]): Promise<Exec> => exec(...aptGetArgv(args), APT_ENV, 600_000);
  const install = (): Promise<Exec> => apt(['install', '-y', 'python3-kubernetes']);
  let r = await install();
  if (r.code !== 0) {
    await apt(['update']);
    r = await install();
  }
  if (r.code !== 0 || (await check()).code !== 0)
    throw new Error(`could not install python3-kubernetes (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

/** Run a script to completion; its stdout's last line parsed as JSON. Fails with stderr on a non-zero exit. */
export async function runPythonScript<T = any>(
  script: string,
  args: string[],
  kubeconfig: string,
  timeoutMs = 90_000,
): Promise<T> {
  const r = await exec(
    PYTHON,
    [join(PYTHON_SCRIPTS, script), ...args],
    { ...process.env, KUBECONFIG: kubeconfig },
    timeoutMs,
  );
  if (r.code !== 0) throw new Error(`${script} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as T;
}

export interface PythonStream {
  child: ChildProcess;
  /** every JSON line printed so far */
  lines(): any[];
  /** wait until at least n lines were printed (fails with the output so far) */
  waitForLines(n: number, ms?: number): Promise<any[]>;
  /** resolves with the exit code */
  exited(): Promise<number | null>;
  stop(): void;
}

/** Start a long-running script (a watch, a followed log) and collect the JSON lines it prints. */
export function spawnPythonScript(script: string, args: string[], kubeconfig: string): PythonStream {
  const child = spawn(PYTHON, [join(PYTHON_SCRIPTS, script), ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig, PYTHONUNBUFFERED: '1' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = (): any[] =>
    stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
  return {
    child,
    lines,
    async waitForLines(n, ms = 30_000) {
      try {
        return await waitFor(
          `${n} lines from ${script}`,
          () => Promise.resolve(lines().length >= n ? lines() : undefined),
          ms,
          100,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}\nstdout:\n${stdout}\nstderr:\n${stderr}`, { cause: e });
      }
    },
    exited: () => exit,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
