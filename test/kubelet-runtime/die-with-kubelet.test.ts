// When a kubelet dies by SIGKILL, every container it started (and their children) dies within a second.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../src/kubelet/runtime/images.js';
import { detectIsolation } from '../../src/kubelet/runtime/isolation.js';
import { alive, sleep } from './helpers.js';

const RUNTIME_SRC = path.resolve(import.meta.dirname, '../../src/kubelet/runtime');
let dir: string;

/** A stand-in kubelet: starts the containers in argv, prints every PID of their trees as one JSON line, then idles. */
const FAKE_KUBELET = `
import { ContainerRuntime } from './runtime.js';
import { readAllProcs, processTree } from './usage.js';

const [specsJson, mode] = process.argv.slice(2);
const runtime = new ContainerRuntime({ mode });
const containers = JSON.parse(specsJson).map((spec) => runtime.startContainer(spec));
setTimeout(() => {
  const procs = readAllProcs();
  const pids = containers.flatMap((c) => processTree(c.pid, procs).map((p) => p.pid));
  process.stdout.write(JSON.stringify({ pids, watchdog: runtime['watchdog'].pid }) + '\\n');
}, 700);
setInterval(() => {}, 1 << 30);
`;
const leftovers: number[] = [];

beforeAll(() => {
  // The fake kubelet is plain Node: strip the types of the runtime's modules into a scratch dir.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-fake-kubelet-'));
  for (const f of fs.readdirSync(RUNTIME_SRC)) {
    if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
    const out = ts.transpileModule(fs.readFileSync(path.join(RUNTIME_SRC, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    fs.writeFileSync(path.join(dir, f.replace(/\.ts$/, '.js')), out.outputText);
  }
  fs.writeFileSync(path.join(dir, 'fake-kubelet.mjs'), FAKE_KUBELET);
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
});

afterAll(() => {
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const modes = [detectIsolation(), 'none'].filter((m, i, all) => all.indexOf(m) === i);

describe.each(modes)('die with kubelet (isolation %s)', (mode) => {
  it('SIGKILL of the kubelet takes every container process with it within 1 s', async () => {
    const store = new ImageStore();
    const base = path.join(dir, mode);
    const spec = (name: string, image: string, extra: object) => ({
      name,
      podName: `pod-${name}`,
      image: store.resolve(image),
      podIP: '127.244.3.10',
      containerDir: path.join(base, name),
      logFile: path.join(base, `${name}.log`),
      ...extra,
    });
    const specs = [
      spec('sleepers', 'busybox', { command: ['sh', '-c', 'sleep 1000 & sleep 1000'] }),
      spec('server', 'kubemu/hello:v1', { podIP: '127.244.3.11' }),
      // Children that ignore SIGTERM and SIGHUP, deep in the tree.
      spec('nohup', 'busybox', {
        command: ['sh', '-c', "trap '' TERM HUP; (sh -c 'sleep 1000' &); sleep 1000"],
      }),
    ];
    const kubelet = spawn(
      process.execPath,
      [path.join(dir, 'fake-kubelet.mjs'), JSON.stringify(specs), mode],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const report = await new Promise<{ pids: number[]; watchdog: number }>((resolve, reject) => {
      let out = '';
      kubelet.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('\n')) resolve(JSON.parse(out));
      });
      kubelet.once('exit', () => reject(new Error('fake kubelet exited early')));
    });
    leftovers.push(...report.pids, kubelet.pid!);
    // 3 containers: at least both sleeps, the server, and the nested sleep exist.
    expect(report.pids.length).toBeGreaterThanOrEqual(6);
    expect(report.pids.every(alive)).toBe(true);

    kubelet.kill('SIGKILL');
    const t0 = Date.now();
    while (report.pids.some(alive) && Date.now() - t0 < 1000) await sleep(20);
    expect(report.pids.filter(alive)).toEqual([]);
    // The watchdog goes too, once its work is done.
    await sleep(100);
    expect(alive(report.watchdog)).toBe(false);
  });
});
