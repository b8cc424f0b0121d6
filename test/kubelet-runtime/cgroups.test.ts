// Containers take their pod's CPU weight: a cgroup per pod under the node's, or, without writable cgroups, the
// weakest autogroup nice. Either way a burst of containers cannot outweigh the kubelet and the control plane.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../../src/kubelet/runtime/images.js';
import { ContainerRuntime } from '../../src/kubelet/runtime/runtime.js';
import { waitFor } from './helpers.js';

const store = new ImageStore();
const name = `kubemu-test-${process.pid}`;
let runtime: ContainerRuntime;
let root: string;

/** the directory of our own cgroup in the cpu hierarchy, if it can be written (root, v1 cpu or v2 with cpu) */
function writableCpuCgroup(): string | undefined {
  const self = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = self.find((l) => l.split(':')[1]?.split(',').includes('cpu'));
  const dir = v1
    ? path.join('/sys/fs/cgroup/cpu', v1.split(':')[2] ?? '/')
    : path.join('/sys/fs/cgroup', self.find((l) => l.startsWith('0::'))?.slice(3) ?? '/');
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return dir;
  } catch {
    return undefined;
  }
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubemu-cgroups-'));
  runtime = new ContainerRuntime({ cgroupName: name });
});

afterAll(async () => {
  await runtime.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('container CPU weights', () => {
  it('a container runs in its pod group with cpu.shares from the requests; the groups go with the pod', async () => {
    // the kubelet makes the pod's group before starting its containers (off its event loop)
    await runtime.preparePod({ uid: 'u-1', cpuShares: 512 });
    const parent = writableCpuCgroup();
    if (parent) expect(fs.existsSync(path.join(parent, name, 'podu-1'))).toBe(true);
    const c = runtime.startContainer(
      {
        name: 'app',
        podName: 'weighed',
        image: store.resolve('busybox'),
        command: ['sleep', '30'],
        podIP: '127.244.9.9',
        containerDir: path.join(root, 'c1'),
        logFile: path.join(root, 'c1.log'),
      },
      { uid: 'u-1', cpuShares: 512 },
    );
    // the program itself, as the host sees it (the last process of the container's tree)
    const sleeper = await waitFor(() => {
      const pids = fs
        .readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return fs.readFileSync(`/proc/${d}/cmdline`, 'utf8') === 'sleep\u000030\u0000';
          } catch {
            return false;
          }
        });
      const mine =
        pids.find((p) => fs.readFileSync(`/proc/${p}/stat`, 'utf8').includes(`) S ${c.initPid()}`)) ??
        pids.find((p) => Number(p) >= c.pid);
      if (!mine) throw new Error('sleep not running yet');
      return Number(mine);
    }, 5000);
    if (parent) {
      const group = path.join(parent, name, 'podu-1');
      const cpuLine = fs
        .readFileSync(`/proc/${sleeper}/cgroup`, 'utf8')
        .split('\n')
        .find((l) => l.split(':')[1]?.split(',').includes('cpu') || l.startsWith('0::'));
      expect(cpuLine?.endsWith(`/${name}/podu-1`)).toBe(true);
      const shares = fs.existsSync(path.join(group, 'cpu.shares'))
        ? fs.readFileSync(path.join(group, 'cpu.shares'), 'utf8').trim()
        : fs.readFileSync(path.join(group, 'cpu.weight'), 'utf8').trim();
      expect(shares).toBe(fs.existsSync(path.join(group, 'cpu.shares')) ? '512' : '20');
      await c.stop(1);
      await runtime.removePod('u-1');
      expect(fs.existsSync(group)).toBe(false);
      await runtime.close();
      expect(fs.existsSync(path.join(parent, name))).toBe(false);
    } else {
      expect(fs.readFileSync(`/proc/${sleeper}/autogroup`, 'utf8')).toMatch(/nice 19/);
      await c.stop(1);
    }
  });
});
