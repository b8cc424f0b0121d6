// Container logs are rotated as upstream's kubelet rotates them (containerLogMaxSize × containerLogMaxFiles, here
// `kubemu up --container-log-max-size 1Mi --container-log-max-files 3`), and `kubectl logs` reads tails from the
// end: a pod that writes 60 MB of stdout keeps ≤ 3 MiB on disk, leaves the kubelet's memory alone, and
// `kubectl logs --tail=1` / `kubectl logs -f` still answer as upstream's do.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryOf } from '../../src/cli/cluster/processes.js';
import { kubectlStream, upCluster, type TestCluster } from '../helpers/cluster.js';

const MAX_SIZE = 1024 * 1024;
const MAX_FILES = 3;
const MB = 1_000_000;

let c: TestCluster;
let kubeletPid: number;

beforeAll(async () => {
  c = await upCluster({
    nodes: 1,
    extraArgs: ['--container-log-max-size', '1Mi', '--container-log-max-files', String(MAX_FILES)],
  });
  kubeletPid = (await c.status()).processes.find((p) => p.name === 'kubelet-node-1')!.pid;
}, 180_000);

afterAll(async () => {
  await c?.down();
}, 120_000);

/** the pod's log files on the node (current and rotated), with their sizes */
function logFiles(pod: string): { name: string; size: number }[] {
  const dir = join(c.stateDir, 'nodes', 'node-1', 'logs');
  return readdirSync(dir)
    .filter((n) => n.startsWith(`default_${pod}_`))
    .flatMap((name) => {
      try {
        return [{ name, size: statSync(join(dir, name)).size }];
      } catch {
        return []; // rotated away between the listing and the stat
      }
    });
}

// 60 MB of 100-byte lines as fast as `yes` writes them, then 2.4 MB of numbered ticks at a pace a follower keeps up
// with (two more rotations), then a last line; then it stays Running
const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: chatty
spec:
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c"]
    args:
    - |
      yes 'a line of container output, padded to one hundred bytes so that 60 MB is 600,000 lines ......' | head -c 60000000
      pad=$(head -c 4000 /dev/zero | tr '\\0' x)
      i=0
      while [ $i -lt 600 ]; do i=$((i+1)); echo "tick $i $pad"; [ $((i % 20)) -eq 0 ] && sleep 0.2; done
      echo "the last line"
      sleep 3600
`;

describe('container log rotation', () => {
  it('keeps ≤ maxSize × maxFiles on disk for 60 MB of stdout; --tail=1 and -f answer as upstream', async () => {
    const rssBefore = memoryOf(kubeletPid).rss;
    const applied = await c.kubectl(['apply', '-f', '-'], { input: manifest });
    expect(applied.code, applied.stderr).toBe(0);
    await c.waitFor(
      'the pod to run',
      async () => (await c.getJson(['get', 'pod', 'chatty'])).status?.phase === 'Running',
      60_000,
    );
    const follow = kubectlStream(c.kubeconfig, ['logs', '-f', 'chatty', '--tail=1']);
    let biggestTotal = 0;
    let mostFiles = 0;
    let peakRss = 0;
    try {
      await c.waitFor(
        'the pod to write its last line',
        async () => {
          const files = logFiles('chatty');
          biggestTotal = Math.max(
            biggestTotal,
            files.reduce((n, f) => n + f.size, 0),
          );
          // in use as upstream's GetAllLogs counts them: not a compression's .tmp, nor a file whose .gz is
          // already written (for the moment between the .gz's rename and the original's removal)
          const inUse = (list: typeof files): number => {
            const names = new Set(list.map((f) => f.name));
            return list.filter((f) => !f.name.endsWith('.tmp') && !names.has(`${f.name}.gz`)).length;
          };
          // a rotation renames the file aside, then removes the oldest: a reading between those two calls (the
          // kubelet descheduled in between on a loaded machine) sees one more; an excess that lasts is read again
          let count = inUse(files);
          if (count > MAX_FILES) {
            await new Promise((r) => setTimeout(r, 100));
            count = inUse(logFiles('chatty'));
          }
          mostFiles = Math.max(mostFiles, count);
          peakRss = Math.max(peakRss, memoryOf(kubeletPid).rss);
          return follow.output().includes('the last line');
        },
        180_000,
      );
    } finally {
      follow.stop();
    }
    const files = logFiles('chatty');
    // upstream's names: <restart>.log, then .log.<YYYYMMDD-hhmmss> (gzipped but the newest)
    const names = files.map((f) => f.name);
    expect(names.filter((n) => /_main_0\.log$/.test(n))).toHaveLength(1);
    expect(names.filter((n) => /_main_0\.log\.\d{8}-\d{6}(\.\d+)?$/.test(n))).toHaveLength(1);
    expect(names.filter((n) => /_main_0\.log\.\d{8}-\d{6}(\.\d+)?\.gz$/.test(n))).toHaveLength(MAX_FILES - 2);
    expect(names).toHaveLength(MAX_FILES);
    expect(mostFiles).toBeLessThanOrEqual(MAX_FILES);
    // a compression in progress holds a .tmp (then the .gz) beside its source for a moment: a fraction of it
    expect(biggestTotal).toBeLessThanOrEqual(MAX_SIZE * MAX_FILES + MAX_SIZE / 2);
    for (const f of files) expect(f.size).toBeLessThanOrEqual(MAX_SIZE);

    const tail = await c.kubectl(['logs', 'chatty', '--tail=1']);
    expect(tail.code, tail.stderr).toBe(0);
    expect(tail.stdout).toBe('the last line\n');
    // only the current file, as upstream's kubectl logs: at most maxSize of it
    const all = await c.kubectl(['logs', 'chatty']);
    expect(all.stdout.length).toBeLessThanOrEqual(MAX_SIZE);
    expect(all.stdout.endsWith('the last line\n')).toBe(true);

    // -f went on across the rotations during the ticks: every tick from the first it saw, in order
    const ticks = [...follow.output().matchAll(/^tick (\d+) /gm)].map((m) => Number(m[1]));
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.at(-1)).toBe(600);
    expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => ticks[0] + i));

    const peak = Math.max(peakRss, memoryOf(kubeletPid).peakRss);
    console.log(
      `kubelet RSS before ${(rssBefore / MB).toFixed(0)} MB, peak while 60 MB were logged ${(peak / MB).toFixed(0)} MB; ` +
        `log files on disk at most ${(biggestTotal / MB).toFixed(2)} MB in ${mostFiles} files`,
    );
    // bounded: the kubelet holds a block of a log at a time, never the file (it took 1.4 GB for 250 MB)
    expect(peak - rssBefore).toBeLessThan(150 * MB);
  });
});
