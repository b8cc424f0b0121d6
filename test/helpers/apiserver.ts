// Starts a real apiserver process from dist/ on a free port with its own state dir, for integration tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'node:https';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = join(ROOT, 'dist');

export interface ApiServerProcess {
  url: string;
  port: number;
  stateDir: string;
  kubeconfig: string;
  token: string;
  ca: string;
  child: ChildProcess;
  /** the process's stderr so far (JSON log lines) */
  logs(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** start again on the same state dir and port */
  restart(): Promise<void>;
  cleanup(): Promise<void>;
}

function waitForExit(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export function httpsGet(url: string, ca: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca, headers: token ? { Authorization: `Bearer ${token}` } : {}, timeout: 2000 },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export async function startApiServer(
  opts: { stateDir?: string; extraArgs?: string[]; port?: number } = {},
): Promise<ApiServerProcess> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'kubemu-test-'));
  let child!: ChildProcess;
  let stderr = '';
  let port = opts.port ?? 0;
  const launch = async (): Promise<void> => {
    rmSync(join(stateDir, 'apiserver.json'), { force: true });
    stderr = '';
    child = spawn(
      process.execPath,
      [
        join(DIST, 'cmd/apiserver.js'),
        '--state-dir',
        stateDir,
        '--port',
        String(port),
        // as upstream's integration framework: without a controller-manager no `default` ServiceAccount
        // appears, so ServiceAccount admission is off unless a test asks for its own admission flags
        ...((opts.extraArgs ?? []).some((a) => a.includes('admission-plugins'))
          ? []
          : ['--disable-admission-plugins=ServiceAccount']),
        ...(opts.extraArgs ?? []),
      ],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        env: { ...process.env, KUBEMU_LOG_LEVEL: process.env['KUBEMU_LOG_LEVEL'] ?? 'warn' },
      },
    );
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`apiserver exited with ${child.exitCode}: ${stderr}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`apiserver did not come up within 20 s: ${stderr}`);
      }
      const infoFile = join(stateDir, 'apiserver.json');
      if (existsSync(infoFile)) {
        const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { port: number; pid: number };
        if (info.pid === child.pid) {
          port = info.port;
          const ca = readFileSync(join(stateDir, 'pki/ca.crt'), 'utf8');
          const r = await httpsGet(`https://127.0.0.1:${port}/readyz`, ca).catch(() => undefined);
          if (r?.status === 200) return;
        }
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  await launch();
  const tokenLine = readFileSync(join(stateDir, 'tokens.csv'), 'utf8')
    .split('\n')
    .find((l) => l.includes('kubemu-admin'))!;
  const token = tokenLine.split(',')[0];
  const self: ApiServerProcess = {
    get url() {
      return `https://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    stateDir,
    kubeconfig: join(stateDir, 'admin.kubeconfig'),
    token,
    ca: readFileSync(join(stateDir, 'pki/ca.crt'), 'utf8'),
    get child() {
      return child;
    },
    logs: () => stderr,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      child.kill(signal);
      await waitForExit(child, 5000);
    },
    async restart() {
      await launch();
    },
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await waitForExit(child, 5000);
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return self;
}
