// End to end, issue #17's data-plane items on one cluster: a state dir that a user pre-created 0777 and a umask of
// 000 still give files only the user can read; an emptyDir subPath that climbs out of its volume is refused by the
// apiserver (kubectl apply: 422 with the field path) and, through a symlink or a subPathExpr, by the kubelet.
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
/** a host directory outside every volume: nothing may ever be created in it */
let outside: string;

/** every entry below `dir` (symlinks not followed), with its permission bits */
function modes(dir: string): { path: string; kind: string; mode: string }[] {
  const out: { path: string; kind: string; mode: string }[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const st = lstatSync(path);
    const kind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSocket() ? 'socket' : 'other';
    out.push({ path, kind, mode: (st.mode & 0o777).toString(8) });
    if (st.isDirectory()) out.push(...modes(path));
  }
  return out;
}

describe('data-plane hardening (issue #17)', () => {
  beforeAll(async () => {
    // the worst a user can start from: a world-writable state dir and no umask at all
    const stateDir = mkdtempSync(join(tmpdir(), 'kubemu-e2e-plane-'));
    rmSync(stateDir, { recursive: true });
    mkdirSync(stateDir, { mode: 0o777 });
    chmodSync(stateDir, 0o777);
    cluster = await upCluster({ nodes: 1, stateDir, umask: 0o000 });
    outside = mkdtempSync(join(tmpdir(), 'kubemu-e2e-outside-'));
  });
  afterAll(async () => {
    await cluster?.down();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  it('every file kubemu keeps in a state dir pre-created 0777, under umask 000, is 0600 and every dir 0700', () => {
    expect((lstatSync(cluster.stateDir).mode & 0o777).toString(8)).toBe('700');
    const entries = modes(cluster.stateDir);
    // what the issue found loose: the database and its WAL, the logs, the nodes' dirs
    for (const must of ['state.db', 'state.db-wal', 'logs', 'nodes', join('nodes', 'node-1')])
      expect(entries.map((e) => e.path)).toContain(join(cluster.stateDir, must));
    const loose = entries.filter((e) =>
      e.kind === 'dir' ? e.mode !== '700' : e.kind === 'other' ? false : e.mode !== '600',
    );
    expect(loose).toEqual([]);
  });

  it('kubectl apply of an emptyDir subPath with `..` is refused: 422, field spec.containers[0].volumeMounts[0].subPath', async () => {
    const r = await cluster.kubectl(['apply', '-f', '-', '-v=6'], {
      input: `
apiVersion: v1
kind: Pod
metadata:
  name: subpath-escape
spec:
  containers:
  - name: writer
    image: busybox
    command: ["sh", "-c", "echo pwned > /data/x; sleep 3600"]
    volumeMounts:
    - name: scratch
      mountPath: /data
      subPath: ../../../../var/tmp/x
  volumes:
  - name: scratch
    emptyDir: {}
`,
    });
    expect(r.code).not.toBe(0);
    // kubectl -v=6 logs each response's status
    expect(r.stderr).toContain('422 Unprocessable Entity');
    expect(r.stderr).toContain(
      `The Pod "subpath-escape" is invalid: spec.containers[0].volumeMounts[0].subPath: Invalid value: "../../../../var/tmp/x": must not contain '..'`,
    );
    const get = await cluster.kubectl(['get', 'pod', 'subpath-escape']);
    expect(get.stderr).toContain('NotFound');
  });

  it('the kubelet refuses a subPath through a symlink out of the volume, and a subPathExpr that expands to `..`', async () => {
    const applied = await cluster.kubectl(['apply', '-f', '-'], {
      input: `
apiVersion: v1
kind: Pod
metadata:
  name: link-escape
spec:
  restartPolicy: Never
  initContainers:
  - name: plant
    image: busybox
    command: ["sh", "-c", "ln -s ${outside} /work/escape"]
    volumeMounts:
    - name: work
      mountPath: /work
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo pwned > /data/x; sleep 3600"]
    volumeMounts:
    - name: work
      mountPath: /data
      subPath: escape/inside
  volumes:
  - name: work
    emptyDir: {}
---
apiVersion: v1
kind: Pod
metadata:
  name: expr-escape
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo pwned > /data/x; sleep 3600"]
    env:
    - name: DIR
      value: ../../../../../../../..${outside}
    volumeMounts:
    - name: work
      mountPath: /data
      subPathExpr: $(DIR)
  volumes:
  - name: work
    emptyDir: {}
`,
    });
    expect(applied.code, applied.stderr).toBe(0);
    const waiting = (pod: string): Promise<{ reason: string; message: string }> =>
      cluster.waitFor(
        `${pod}'s container to wait with CreateContainerConfigError`,
        async () => {
          const p = await cluster.getJson(['get', 'pod', pod]);
          const w = p.status?.containerStatuses?.[0]?.state?.waiting;
          return w?.reason === 'CreateContainerConfigError' ? w : undefined;
        },
        60_000,
      );
    expect(await waiting('link-escape')).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'failed to prepare subPath for volumeMount "work" of container "main"',
    });
    expect(await waiting('expr-escape')).toEqual({
      reason: 'CreateContainerConfigError',
      message: `unable to provision SubPath \`../../../../../../../..${outside}\`: must not contain '..'`,
    });
    // what kubectl describe shows: the kubelet's Failed event with the same message
    const events = await cluster.kubectl([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=link-escape',
    ]);
    expect(events.stdout).toContain(
      'Error: failed to prepare subPath for volumeMount "work" of container "main"',
    );
    expect(readdirSync(outside)).toEqual([]);
  });
});
