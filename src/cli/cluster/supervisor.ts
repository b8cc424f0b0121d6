// Runs a cluster's processes: under pm2 (background) or as direct children (foreground); both look alike to `up`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import type { ManagedProcess, ProcessSpec } from './pm2.js';
import { descendants, terminate } from './processes.js';
import { privateDir, privateFile } from '../../util/private-files.js';

export interface Supervisor {
  start(spec: ProcessSpec): Promise<void>;
  list(): Promise<ManagedProcess[]>;
  /** stop every process it started (and, for pm2, the daemon) */
  stopAll(): Promise<void>;
}

interface Child {
  name: string;
  process: ChildProcess;
  log: WriteStream;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/**
 * Foreground supervision: each component is a child of this process, its output appended to its log file
 * and handed line by line to `onLine`. No restarts: a foreground cluster is watched by a person.
 */
export class DirectSupervisor implements Supervisor {
  private readonly children: Child[] = [];

  constructor(private readonly onLine: (name: string, line: string) => void = () => {}) {
    // if this process ends without stopAll (an uncaught error), take the children with it
    process.once('exit', () => {
      for (const c of this.children) if (!c.exit) c.process.kill('SIGKILL');
    });
  }

  start(spec: ProcessSpec): Promise<void> {
    privateDir(dirname(spec.logFile));
    privateFile(spec.logFile);
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    const child = spawn(process.execPath, spec.args, {
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const entry: Child = { name: spec.name, process: child, log };
    this.children.push(entry);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        log.write(`${line}\n`);
        this.onLine(spec.name, line);
      });
    }
    child.on('exit', (code, signal) => {
      entry.exit = { code, signal };
    });
    return new Promise((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
  }

  list(): Promise<ManagedProcess[]> {
    return Promise.resolve(
      this.children.map((c) => ({
        name: c.name,
        pid: c.process.pid ?? 0,
        status: !c.exit ? 'online' : c.exit.code === 0 ? 'stopped' : 'errored',
        restarts: 0,
      })),
    );
  }

  async stopAll(): Promise<void> {
    const pids = this.children.filter((c) => !c.exit && c.process.pid).map((c) => c.process.pid!);
    // containers are the kubelets' children: collect them before their parents go
    const all = [...pids, ...pids.flatMap(descendants)];
    await terminate(pids, 5_000);
    await terminate(all, 1_000);
    for (const c of this.children) c.log.end();
  }
}
