// A file bind-mounted over a host file (the kubelet's /etc/resolv.conf) is what the container sees, also where the
// host's path is a symlink (as a systemd-resolved /etc/resolv.conf is): the host keeps its own file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../src/kubelet/runtime/images.js';
import { readLogs } from '../../src/kubelet/runtime/logs.js';
import { ContainerRuntime } from '../../src/kubelet/runtime/runtime.js';

const store = new ImageStore();
let runtime: ContainerRuntime;
let root: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-resolv-'));
  runtime = new ContainerRuntime({ usageIntervalMs: 1000 });
});

afterAll(async () => {
  await runtime.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** runs `cat target` in a busybox container with `content` mounted read-only at `target` */
async function catInContainer(id: string, target: string, content: string): Promise<string> {
  const file = path.join(root, `${id}.conf`);
  fs.writeFileSync(file, content);
  const c = runtime.startContainer({
    name: id,
    podName: id,
    image: store.resolve('busybox'),
    command: ['sh', '-c', `cat ${target}`],
    podIP: '127.244.1.40',
    mounts: [{ hostPath: file, containerPath: target, readOnly: true }],
    containerDir: path.join(root, id),
    logFile: path.join(root, 'logs', `${id}.log`),
  });
  expect(await c.exited).toMatchObject({ exitCode: 0 });
  return text(readLogs(c.spec.logFile));
}

describe('a file mounted over a host file', () => {
  it('replaces /etc/resolv.conf inside the container only', async () => {
    const before = fs.readFileSync('/etc/resolv.conf', 'utf8');
    const out = await catInContainer(
      'resolv',
      '/etc/resolv.conf',
      'nameserver 127.96.0.10\noptions ndots:5\n',
    );
    if (runtime.mode === 'none') expect(out).toBe(before);
    else expect(out).toBe('nameserver 127.96.0.10\noptions ndots:5\n');
    expect(fs.readFileSync('/etc/resolv.conf', 'utf8')).toBe(before);
  });

  it('replaces a path that is a symlink on the host without following it', async () => {
    // /etc/mtab is a symlink to ../proc/self/mounts on every current Linux
    expect(fs.lstatSync('/etc/mtab').isSymbolicLink()).toBe(true);
    const out = await catInContainer('mtab', '/etc/mtab', 'not the mount table\n');
    if (runtime.mode !== 'none') expect(out).toBe('not the mount table\n');
    expect(fs.lstatSync('/etc/mtab').isSymbolicLink()).toBe(true);
    expect(fs.readFileSync('/etc/mtab', 'utf8')).toContain(' / ');
  });
});
