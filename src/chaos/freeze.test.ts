import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freezeNode, nodeProcesses } from './freeze.js';

/** the process state letter from /proc (T: stopped) */
const state = (pid: number): string => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
};

const children: ChildProcess[] = [];
/** a child of this process run as `node -e ... <args>`, like a component under the pm2 daemon */
function component(...args: string[]): number {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', '--', ...args], {
    stdio: 'ignore',
  });
  children.push(child);
  return child.pid!;
}

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

describe('freezeNode', () => {
  it("stops exactly the node's processes (by --node-name), and thaws them", async () => {
    const kubelet = component(
      'kubelet',
      '--kubeconfig',
      'k',
      '--node-name',
      'node-2',
      '--node-ip',
      '127.0.1.2',
    );
    const proxy = component('kube-proxy', '--node-name', 'node-2');
    const other = component('kubelet', '--node-name', 'node-22');
    const scheduler = component('scheduler', '--kubeconfig', 'node-2');
    await new Promise((r) => setTimeout(r, 200));
    expect(nodeProcesses(process.pid, 'node-2').sort()).toEqual([kubelet, proxy].sort());
    const frozen = freezeNode(process.pid, 'node-2');
    expect(frozen.pids.sort()).toEqual([kubelet, proxy].sort());
    await new Promise((r) => setTimeout(r, 100));
    expect([state(kubelet), state(proxy)]).toEqual(['T', 'T']);
    expect([state(other), state(scheduler)]).not.toContain('T');
    frozen.thaw();
    await new Promise((r) => setTimeout(r, 100));
    expect([state(kubelet), state(proxy)]).not.toContain('T');
  });

  it('finds nothing for a node that has no processes', () => {
    expect(freezeNode(process.pid, 'node-9').pids).toEqual([]);
  });
});
