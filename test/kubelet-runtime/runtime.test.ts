// Real container processes: built-in images answering on loopback pod IPs, volumes, limits, stop, logs, probes.
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ImageStore } from '../../src/kubelet/runtime/images.js';
import { ContainerRuntime } from '../../src/kubelet/runtime/runtime.js';
import type { ContainerProcess, ContainerSpec } from '../../src/kubelet/runtime/container.js';
import type { Mount } from '../../src/kubelet/runtime/isolation.js';
import { readLogs } from '../../src/kubelet/runtime/logs.js';
import { runProbe } from '../../src/kubelet/runtime/probes.js';
import { alive, sleep, waitFor } from './helpers.js';

const store = new ImageStore();
let runtime: ContainerRuntime;
let root: string;
const started: ContainerProcess[] = [];
let seq = 0;

function start(image: string, opts: Partial<ContainerSpec> & { podIP?: string } = {}): ContainerProcess {
  const id = `c${++seq}`;
  const c = runtime.startContainer({
    name: opts.name ?? id,
    podName: opts.podName ?? `pod-${id}`,
    nodeName: 'node-1',
    image: store.resolve(image),
    podIP: opts.podIP ?? '127.244.1.10',
    containerDir: path.join(root, id),
    logFile: path.join(root, 'logs', `${id}.log`),
    ...opts,
  });
  started.push(c);
  return c;
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https') ? https : http;
    const req = mod.get(url, { headers, rejectUnauthorized: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

function request(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: { items: unknown[] } }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Retries until the server in the container is up. */
async function getWhenUp(url: string): Promise<{ status: number; body: string }> {
  return waitFor(() => get(url), 10_000);
}

function volume(name: string): string {
  const dir = path.join(root, 'volumes', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-runtime-'));
  runtime = new ContainerRuntime({ usageIntervalMs: 100 });
});

afterAll(async () => {
  await Promise.all(started.map((c) => c.kill()));
  await runtime.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe(`container runtime (isolation: ${process.env['KUBEMU_ISOLATION'] ?? 'detected'})`, () => {
  it('runs hello v1 and v2 on two pod IPs, both on :8080', async () => {
    const a = start('kubemu/hello:v1', { podIP: '127.244.1.10', podName: 'hello-a' });
    const b = start('kubemu/hello:v2', { podIP: '127.244.1.11', podName: 'hello-b' });
    expect((await getWhenUp('http://127.244.1.10:8080/')).body).toBe('Hello from hello-a (v1)\n');
    expect((await getWhenUp('http://127.244.1.11:8080/')).body).toBe('Hello from hello-b (v2)\n');
    const json = JSON.parse((await get('http://127.244.1.11:8080/json')).body);
    expect(json).toMatchObject({ version: 'v2', pod: 'hello-b', node: 'node-1' });
    const exit = await a.stop(5);
    expect(exit).toMatchObject({ exitCode: 0, reason: 'Completed' });
    await b.stop(5);
    const logs = await text(readLogs(a.spec.logFile));
    expect(logs).toContain('hello v1 listening on 127.244.1.10:8080');
    expect(logs).toContain('SIGTERM received');
  });

  it('echo reports the request, echoes WebSocket messages and UDP datagrams', async () => {
    start('kubemu/echo', { podIP: '127.244.1.12', podName: 'echo-1', env: { UDP: '1' } });
    const res = await getWhenUp('http://127.244.1.12:8080/some/path?x=1');
    expect(JSON.parse(res.body)).toMatchObject({
      method: 'GET',
      path: '/some/path',
      query: { x: '1' },
      pod: 'echo-1',
      node: 'node-1',
      host: '127.244.1.12:8080',
    });

    const ws = new WebSocket('ws://127.244.1.12:8080/ws');
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('x'.repeat(70_000)));
      ws.on('message', (data: Buffer) => resolve(data.toString()));
      ws.on('error', reject);
    });
    expect(reply).toBe('x'.repeat(70_000));
    ws.close();

    const sock = dgram.createSocket('udp4');
    const dgramReply = await new Promise<string>((resolve) => {
      sock.on('message', (m) => resolve(m.toString()));
      sock.send('ping-udp', 8080, '127.244.1.12');
    });
    sock.close();
    expect(dgramReply).toBe('ping-udp');
  });

  it('cart keeps items per user and burns CPU on request', async () => {
    const cart = start('kubemu/cart', { podIP: '127.244.1.13' });
    await getWhenUp('http://127.244.1.13:8080/healthz');
    expect(
      (await request('POST', 'http://127.244.1.13:8080/cart/ann/items', { id: 'apple', quantity: 2 })).status,
    ).toBe(201);
    await request('POST', 'http://127.244.1.13:8080/cart/ann/items', { id: 'apple' });
    await request('POST', 'http://127.244.1.13:8080/cart/ann/items', { id: 'pear' });
    await request('DELETE', 'http://127.244.1.13:8080/cart/ann/items/pear');
    const got = await request('GET', 'http://127.244.1.13:8080/cart/ann/items');
    expect(got.body.items).toEqual([{ id: 'apple', name: 'apple', quantity: 3 }]);
    expect((await request('GET', 'http://127.244.1.13:8080/cart/bob/items')).body.items).toEqual([]);
    const before = cart.usage?.cpuNanos ?? 0;
    await get('http://127.244.1.13:8080/healthz?burn=400');
    // a container without a memory limit is sampled every fourth round (see ContainerRuntime.sampleUsage)
    await waitFor(() => expect(cart.usage!.cpuNanos - before).toBeGreaterThanOrEqual(390_000_000), 3000);
    expect(cart.usage!.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
  });

  it('tls-echo terminates TLS with the cert from its mounted secret', async () => {
    const secret = volume('tls');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(secret, 'tls.key'),
        '-out',
        path.join(secret, 'tls.crt'),
        '-days',
        '1',
        '-subj',
        '/CN=tls.example.com',
      ],
      { stdio: 'ignore' },
    );
    start('kubemu/tls-echo', {
      podIP: '127.244.1.14',
      env: { TLS_DIR: '/etc/tls' },
      mounts: [{ hostPath: secret, containerPath: '/etc/tls', readOnly: true }],
    });
    const res = await getWhenUp('https://127.244.1.14:8443/secure');
    expect(JSON.parse(res.body)).toMatchObject({ path: '/secure', tls: expect.stringMatching(/TLSv1/) });
  });

  it('writer and reader share an emptyDir', async () => {
    const data = volume('shared');
    const mounts: Mount[] = [{ hostPath: data, containerPath: '/data' }];
    start('kubemu/writer', { podIP: '127.244.1.15', podName: 'wr', env: { INTERVAL_MS: '50' }, mounts });
    start('kubemu/reader', { podIP: '127.244.1.15', podName: 'wr', mounts });
    const res = await waitFor(async () => {
      const r = await get('http://127.244.1.15:8080/');
      if (!r.body.includes('wr line 3')) throw new Error('not yet');
      return r;
    }, 10_000);
    expect(res.status).toBe(200);
    expect(fs.readFileSync(path.join(data, 'out.log'), 'utf8')).toMatch(/^\S+Z wr line 1\n/);
  });

  it('busybox runs its command with /bin/sh, writing to its volume and private /tmp', async () => {
    const data = volume('bb');
    const c = start('busybox:1.36', {
      command: ['sh', '-c'],
      // Without namespaces (KUBEMU_ISOLATION=none) absolute volume paths live under $KUBEMU_ROOT; with them it is unset.
      args: [
        'echo hi >> "$KUBEMU_ROOT/data/x" && echo secret > /tmp/mine && ls /tmp && pwd && echo "$POD_IP $HOSTNAME"',
      ],
      podName: 'bb',
      podIP: '127.244.1.16',
      mounts: [{ hostPath: data, containerPath: '/data' }],
    });
    expect(await c.exited).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(fs.readFileSync(path.join(data, 'x'), 'utf8')).toBe('hi\n');
    const out = await text(readLogs(c.spec.logFile));
    if (runtime.mode === 'none') {
      fs.rmSync('/tmp/mine');
      return;
    }
    expect(out).toBe('mine\n/\n127.244.1.16 bb\n');
    expect(fs.existsSync('/tmp/mine')).toBe(false);
    expect(fs.existsSync('/data/x')).toBe(false);
  });

  it('reports a failing command as Error with its exit code, and a missing program as StartError', async () => {
    const failing = start('busybox', { command: ['sh', '-c', 'echo bad >&2; exit 3'] });
    expect(await failing.exited).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(await text(readLogs(failing.spec.logFile, { timestamps: true }))).toMatch(/^\S+Z bad\n$/);
    const missing = start('busybox', { command: ['no-such-program'] });
    expect(await missing.exited).toMatchObject({ exitCode: 128, reason: 'StartError' });
  });

  it('kills a container over its memory limit as OOMKilled (137)', async () => {
    const hog = start('busybox', {
      command: [process.execPath, '-e', 'const a=[]; setInterval(() => a.push(Buffer.alloc(8e6, 1)), 20)'],
      memoryLimitBytes: 128 * 1024 * 1024,
    });
    const exit = await hog.exited;
    expect(exit).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(exit.finishedAt.getTime() - exit.startedAt.getTime()).toBeLessThan(5000);
  });

  it('stop sends SIGTERM, then SIGKILL after the grace period', async () => {
    const stubborn = start('busybox', {
      command: ['sh', '-c', "trap 'echo got TERM' TERM; echo trap set; while true; do sleep 0.05; done"],
    });
    // the program runs under the container's init: wait until it has its trap (a SIGTERM before would end it)
    await waitFor(async () => {
      if (!(await text(readLogs(stubborn.spec.logFile))).includes('trap set')) throw new Error('not started');
      if (!stubborn.usage || stubborn.usage.pids.length < 2) throw new Error('not sampled');
    }, 5000);
    const t0 = Date.now();
    const exit = await stubborn.stop(1);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(950);
    expect(took).toBeLessThan(3000);
    expect(exit).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(await text(readLogs(stubborn.spec.logFile))).toContain('got TERM');
    const pids = stubborn.usage!.pids;
    expect(pids.length).toBeGreaterThanOrEqual(2);
    await sleep(100);
    for (const pid of pids)
      expect(
        alive(pid),
        `${pid} ${fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, 'utf8') : ''}`,
      ).toBe(false);
  });

  it('logs carry RFC3339Nano timestamps; tail and follow work on a live container', async () => {
    const c = start('busybox', {
      command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo line $i; sleep 0.05; done'],
    });
    const follow = text(readLogs(c.spec.logFile, { follow: true, until: c.exited, pollMs: 20 }));
    await c.exited;
    expect(await follow).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    const tail = await text(readLogs(c.spec.logFile, { tailLines: 2, timestamps: true }));
    expect(tail).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 4\n\S+Z line 5\n$/);
  });

  it('probes: httpGet, tcpSocket and exec in the container context', async () => {
    const data = volume('probe');
    const c = start('kubemu/hello:v3', {
      podIP: '127.244.1.17',
      mounts: [{ hostPath: data, containerPath: '/data' }],
    });
    await getWhenUp('http://127.244.1.17:8080/');
    const ctx = {
      podIP: '127.244.1.17',
      exec: (argv: string[]) => runtime.exec(c, argv),
      namedPort: (n: string) => (n === 'http' ? 8080 : undefined),
    };
    expect(await runProbe({ httpGet: { path: '/healthz', port: 'http' } }, ctx)).toMatchObject({
      success: true,
    });
    expect(await runProbe({ httpGet: { path: '/', port: 8081 } }, ctx)).toEqual({
      success: false,
      message: 'Get "http://127.244.1.17:8081/": dial tcp 127.244.1.17:8081: connect: connection refused',
    });
    expect(await runProbe({ tcpSocket: { port: 8080 } }, ctx)).toMatchObject({ success: true });
    expect(
      await runProbe({ exec: { command: ['sh', '-c', 'test -f "$KUBEMU_ROOT/data/ready"'] } }, ctx),
    ).toMatchObject({ success: false });
    fs.writeFileSync(path.join(data, 'ready'), '');
    expect(
      await runProbe(
        { exec: { command: ['sh', '-c', 'test -f "$KUBEMU_ROOT/data/ready" && echo "$POD_IP"'] } },
        ctx,
      ),
    ).toEqual({ success: true, message: '127.244.1.17\n' });
    // cut at its timeout, long before the command would have ended
    const t0 = Date.now();
    expect(await runProbe({ exec: { command: ['sleep', '60'] }, timeoutSeconds: 1 }, ctx)).toMatchObject({
      success: false,
      message: expect.stringMatching(/timed out/),
    });
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('starts 20 containers at once (their time printed)', async () => {
    const t0 = Date.now();
    const cs = Array.from({ length: 20 }, (_, i) =>
      start('busybox', { command: ['sh', '-c', 'exit 0'], podIP: `127.244.2.${i + 1}` }),
    );
    const exits = await Promise.all(cs.map((c) => c.exited));
    const took = Date.now() - t0;
    console.log(`20 sh containers started and exited in ${took} ms (mode ${runtime.mode})`);
    expect(exits.every((e) => e.exitCode === 0)).toBe(true);
  });
});
