// Integration: the kubelet's pause helper (src/netns/pause-helper.ts) forks pauses in network and UTS namespaces of
// their own, runs each one's `ip -batch` there, says ip's own error when a command fails, and takes its pauses with
// it when it ends. Root only (it makes namespaces); test/kubelet-netns.test.ts runs it rootless through a kubelet.
import { readlinkSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, runCommand } from '../src/netns/holder.js';
import { PauseHelper } from '../src/netns/pause-helper.js';
import { waitFor } from './helpers/wait.js';

describe.skipIf(process.getuid?.() !== 0)('pause helper', () => {
  let helper: PauseHelper | undefined;
  afterEach(() => helper?.close());

  it('makes each pause a network and UTS namespace of its own, runs its batch there, and ends them when closed', async () => {
    helper = PauseHelper.start();
    expect(helper).toBeDefined();
    const [a, b] = await Promise.all([
      helper!.create('uid-a', 'pod-a', ['link set lo up', 'address add 10.9.0.1/32 dev lo']),
      helper!.create('uid-b', 'pod-b', ['link set lo up', 'address add 10.9.0.2/32 dev lo']),
    ]);
    const own = readlinkSync('/proc/self/ns/net');
    expect(new Set([own, readlinkSync(`/proc/${a}/ns/net`), readlinkSync(`/proc/${b}/ns/net`)]).size).toBe(3);
    expect((await runCommand(['nsenter', '--target', String(a), '--uts', 'hostname'])).trim()).toBe('pod-a');
    expect((await runCommand(['nsenter', '--target', String(b), '--uts', 'hostname'])).trim()).toBe('pod-b');
    expect(
      await runCommand(['nsenter', '--target', String(a), '--net', 'ip', '-br', 'address', 'show', 'lo']),
    ).toMatch(/^lo\s+UNKNOWN\s+127\.0\.0\.1\/8 10\.9\.0\.1\/32/);
    // the pod's sysctls, in its namespace
    expect(
      (
        await runCommand([
          'nsenter',
          '--target',
          String(b),
          '--net',
          'cat',
          '/proc/sys/net/ipv4/ip_unprivileged_port_start',
        ])
      ).trim(),
    ).toBe('0');
    // its own process group, as the kubelet watches it
    expect(Number((await runCommand(['ps', '-o', 'pgid=', '-p', String(a)])).trim())).toBe(a);
    helper!.close();
    await waitFor(
      'the pauses to end with the helper',
      () => Promise.resolve(!isAlive(a) && !isAlive(b)),
      10_000,
      50,
    );
  });

  it("rejects with ip's message when a command of the batch fails, leaving no pause", async () => {
    helper = PauseHelper.start();
    await expect(helper!.create('uid-c', 'pod-c', ['link set nosuchlink up'])).rejects.toThrow(
      /ip -batch: .*nosuchlink/,
    );
    // the helper goes on
    const d = await helper!.create('uid-d', 'pod-d', ['link set lo up']);
    expect(isAlive(d)).toBe(true);
    await expect(helper!.create('uid e', 'pod-e', [])).rejects.toThrow(/without spaces/);
  });
});
