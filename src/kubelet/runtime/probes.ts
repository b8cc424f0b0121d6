// Runs one liveness/readiness/startup probe attempt (httpGet, tcpSocket, exec) with upstream's success rules and messages.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import type { Probe } from 'kubernetes-types/core/v1.js';
import { KUBE_MAJOR, KUBE_MINOR } from '../../api/release.js';

export interface ProbeResult {
  success: boolean;
  /** Why it failed (or the body/output, capped), worded as upstream's prober events. */
  message: string;
}

export interface ProbeContext {
  podIP: string;
  /** Resolves a named port (containers[].ports[].name) to its number. */
  namedPort?: (name: string) => number | undefined;
  /** Starts a command in the container's context (ContainerRuntime.exec bound to the container). */
  exec?: (argv: string[]) => ChildProcess;
  /** Upstream's User-Agent is kube-probe/<major>.<minor>. */
  userAgent?: string;
}

const MAX_OUTPUT = 10 * 1024;

export async function runProbe(probe: Probe, ctx: ProbeContext): Promise<ProbeResult> {
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolvePort(probe.httpGet.port, ctx);
    if (port === undefined)
      return { success: false, message: `unable to resolve port ${probe.httpGet.port}` };
    return httpProbe(
      {
        scheme: (probe.httpGet.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'https' : 'http',
        host: probe.httpGet.host || ctx.podIP,
        port,
        path: probe.httpGet.path ?? '/',
        headers: probe.httpGet.httpHeaders ?? [],
        userAgent: ctx.userAgent ?? `kube-probe/${KUBE_MAJOR}.${KUBE_MINOR}`,
      },
      timeoutMs,
    );
  }
  if (probe.tcpSocket) {
    const port = resolvePort(probe.tcpSocket.port, ctx);
    if (port === undefined)
      return { success: false, message: `unable to resolve port ${probe.tcpSocket.port}` };
    return tcpProbe(probe.tcpSocket.host || ctx.podIP, port, timeoutMs);
  }
  if (probe.exec) {
    if (!ctx.exec) return { success: false, message: 'exec probes are not supported here' };
    let child: ReturnType<typeof ctx.exec>;
    try {
      child = ctx.exec(probe.exec.command ?? []);
    } catch (err) {
      // the container's root not set up yet (runtime.execLine): a failed try, as a command that could not start
      return { success: false, message: (err as Error).message };
    }
    return execProbe(child, probe.exec.command ?? [], timeoutMs);
  }
  if (probe.grpc) return { success: false, message: 'grpc probes are not supported by kubemu' };
  return { success: false, message: 'probe has no handler' };
}

function resolvePort(port: number | string, ctx: ProbeContext): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  return ctx.namedPort?.(port);
}

interface HttpTarget {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  path: string;
  headers: { name: string; value: string }[];
  userAgent: string;
}

export function httpProbe(target: HttpTarget, timeoutMs: number): Promise<ProbeResult> {
  const hostPort = target.host.includes(':')
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
  const url = `${target.scheme}://${hostPort}${target.path.startsWith('/') ? '' : '/'}${target.path}`;
  const headers: Record<string, string> = { 'User-Agent': target.userAgent, Accept: '*/*' };
  // Users may override the defaults, Host included (it is how a probe reaches a virtual host).
  for (const h of target.headers) headers[h.name] = h.value;
  return new Promise((resolve) => {
    const mod = target.scheme === 'https' ? https : http;
    const req = mod.request(
      url,
      {
        method: 'GET',
        headers,
        timeout: timeoutMs,
        ...(target.scheme === 'https' ? { rejectUnauthorized: false } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < MAX_OUTPUT) body += c;
        });
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code >= 200 && code < 400) resolve({ success: true, message: body.slice(0, MAX_OUTPUT) });
          else resolve({ success: false, message: `HTTP probe failed with statuscode: ${code}` });
        });
        res.on('error', (err) => resolve({ success: false, message: `Get "${url}": ${err.message}` }));
      },
    );
    const deadline = setTimeout(() => {
      req.destroy();
      resolve({
        success: false,
        message: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      });
    }, timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(deadline);
      resolve({ success: false, message: `Get "${url}": ${dialError(target.host, target.port, err)}` });
    });
    req.end();
  });
}

export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ success: false, message: `dial tcp ${host}:${port}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ success: true, message: '' });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ success: false, message: dialError(host, port, err) });
    });
  });
}

function dialError(host: string, port: number, err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  if (err.code === 'ECONNRESET') return 'read: connection reset by peer';
  return err.message;
}

export function execProbe(child: ChildProcess, command: string[], timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let output = '';
    const collect = (c: Buffer): void => {
      if (output.length < MAX_OUTPUT) output += c.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      killGroup();
      resolve({ success: false, message: `command ${JSON.stringify(command.join(' '))} timed out` });
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ success: false, message: err.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const out = output.slice(0, MAX_OUTPUT);
      if (code === 0) resolve({ success: true, message: out });
      else
        resolve({
          success: false,
          message: out || `command ${JSON.stringify(command.join(' '))} exited with ${code ?? signal}`,
        });
    });
  });
}
