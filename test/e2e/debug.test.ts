// Issue #20, the rest: `kubectl debug` with ephemeral containers (pods/ephemeralcontainers, started by the kubelet in
// the target container's PID namespace, attached to) and `kubectl debug node/NAME`, with the real kubectl 1.27 and
// 1.33 under tmux; `kubectl debug --copy-to --share-processes` (shareProcessNamespace in the copy); exec as the
// container's securityContext user; pods/proxy and services/proxy in discovery; nothing
// left behind when kubectl is killed in the middle of `exec -it`, `debug -it` or `attach -it`. One cluster.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { TmuxSession } from '../helpers/tmux.js';
import { SECURITY_CONTEXT_DEMO } from '../helpers/docs-manifests.js';
import { ensureCommands } from '../helpers/tools.js';
import { waitFor } from '../helpers/wait.js';
import { SPARE_IDLE_MS } from '../../src/apiserver/spare-connections.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'] as const;
type Version = (typeof VERSIONS)[number];

let c: TestCluster;
let kubeletPid = 0;

const kubectlPath = (v: Version): string => join(SDK, `kubectl.${v}`);
const kubectl = (
  v: Version,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<Run> => run(kubectlPath(v), ['--kubeconfig', c.kubeconfig, ...args], process.env, opts);

const until = (what: string, check: () => boolean, ms?: number): Promise<true> =>
  waitFor(what, () => Promise.resolve(check() || undefined), ms);

/** PIDs of `program` (its argv[0]) with an argument that contains `marker` */
function processesWith(program: string, marker: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === program && argv.slice(1).some((a) => a.includes(marker))) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * how long the kubelet's connections take to go once a stream has ended: the stream's own at once, the spare the
 * apiserver then makes for the next stream (spare-connections.ts) once unused for SPARE_IDLE_MS (the tests'
 * timeouts below allow for it)
 */
const GONE_MS = SPARE_IDLE_MS + 15_000;

/** established TCP connections to the kubelet's port 10250 in this network namespace */
function kubeletConnections(): number {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((line) => {
      const f = line.trim().split(/\s+/);
      return f.length > 3 && f[1].endsWith(':280A') && f[3] === '01';
    }).length;
}

async function pod(name: string): Promise<Pod> {
  return c.getJson<Pod>(['get', 'pod', name]);
}

beforeAll(async () => {
  ensureCommands([
    ['tmux', 'tmux'],
    ['script', 'bsdutils'],
  ]);
  for (const v of VERSIONS)
    expect(readdirSync(SDK).includes(`kubectl.${v}`), `kubectl ${v} must be installed`).toBe(true);
  c = await upCluster({ nodes: 1 });
  kubeletPid = (await c.status()).processes.find((p) => p.name === 'kubelet-node-1')!.pid;
  expect(kubeletPid).toBeGreaterThan(1);
  const made = await c.kubectl(['run', 'shell', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  expect(made.code, made.stderr).toBe(0);
  const applied = await c.kubectl(['apply', '-f', '-'], { input: SECURITY_CONTEXT_DEMO });
  expect(applied.code, applied.stderr).toBe(0);
  const ready = await c.kubectl(['wait', '--for=condition=Ready', 'pod', '--all', '--timeout=90s'], {
    timeoutMs: 100_000,
  });
  expect(ready.code, ready.stderr).toBe(0);
}, 180_000);

afterAll(async () => {
  await c?.down();
}, 60_000);

describe.each(VERSIONS)('kubectl %s', (v) => {
  it('debug -it --target runs an ephemeral container that sees the target’s processes, with typed input', async () => {
    const term = new TmuxSession(
      `debug-${v}`,
      `${kubectlPath(v)} --kubeconfig ${c.kubeconfig} debug -it shell --image=busybox --target=shell -- sh; echo "EXIT=$?"; sleep 60`,
    );
    try {
      await until('the attach', () => term.screen().includes('try pressing enter'), 60_000);
      // procps' ps (the node's, which the built-in busybox image runs) lists only its own terminal's without -e
      term.type('ps -e -o pid,args');
      await until('the target’s sleep in ps', () => /^\s*\d+ sleep 3600$/m.test(term.screen()), 15_000);
      term.type('echo typed-$((6*7)); tty');
      await until('the typed command', () => /typed-42\n\/dev\/pts\/\d+/.test(term.screen()), 15_000);
      term.type('exit 0');
      await until('kubectl to exit 0', () => /EXIT=0/.test(term.screen()), 20_000);
    } finally {
      term.kill();
    }
    const p = await pod('shell');
    const debugger_ = p.spec!.ephemeralContainers!.at(-1)!;
    expect(debugger_).toMatchObject({
      image: 'busybox',
      targetContainerName: 'shell',
      stdin: true,
      tty: true,
    });
    const status = await c.waitFor('the debugger’s terminated status', async () => {
      const s = (await pod('shell')).status?.ephemeralContainerStatuses?.find(
        (e) => e.name === debugger_.name,
      );
      return s?.state?.terminated ? s : undefined;
    });
    expect(status.state!.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // the pod itself goes on: its own container was never touched
    expect((await pod('shell')).status?.containerStatuses?.[0]).toMatchObject({
      restartCount: 0,
      state: { running: {} },
    });
  }, 120_000);

  it('debug node/NAME runs a pod on the node with its processes, network and root at /host', async () => {
    const r = await kubectl(v, ['debug', 'node/node-1', '-i', '--image=busybox'], {
      input:
        'test -f /host/etc/hostname && echo host-root-ok\nps -eo args | grep -c "[k]ubelet --kubeconfig"\nexit 0\n',
      timeoutMs: 90_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const podName =
      /Creating debugging pod (node-debugger-node-1-\S+) with container debugger on node node-1/.exec(
        r.stderr + r.stdout,
      )?.[1];
    expect(podName, r.stderr).toBeTruthy();
    const lines = r.stdout.trim().split('\n');
    expect(lines).toContain('host-root-ok');
    // the node's kubelet is among the processes it sees (hostPID)
    expect(Number(lines.at(-1))).toBeGreaterThan(0);
    const p = await pod(podName!);
    expect(p.spec).toMatchObject({ nodeName: 'node-1', hostPID: true, hostNetwork: true, hostIPC: true });
    expect(p.spec!.volumes).toContainEqual(
      expect.objectContaining({ hostPath: expect.objectContaining({ path: '/' }) }),
    );
    const gone = await c.kubectl(['delete', 'pod', podName!, '--wait=true']);
    expect(gone.code, gone.stderr).toBe(0);
  }, 120_000);

  it('debug --copy-to --share-processes: a copy of the pod whose debugger sees the app’s processes', async () => {
    const copy = `shell-copy-${v.replace('.', '')}`;
    const r = await kubectl(
      v,
      [
        ...['debug', 'shell', '-i', `--copy-to=${copy}`, '--image=busybox', '--share-processes'],
        ...['--container=debugger', '--', 'sh'],
      ],
      { input: 'ps -eo args\nexit 0\n', timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    // the copy's own `sleep 3600` (container shell) is among the debugger's processes
    expect(r.stdout).toMatch(/^sleep 3600$/m);
    const p = await pod(copy);
    expect(p.spec).toMatchObject({ shareProcessNamespace: true });
    expect(p.spec!.containers.map((x) => x.name)).toEqual(['shell', 'debugger']);
    // the original pod is untouched, and the copy goes away with kubectl delete
    expect((await pod('shell')).spec!.shareProcessNamespace).toBeUndefined();
    const gone = await c.kubectl(['delete', 'pod', copy, '--wait=true']);
    expect(gone.code, gone.stderr).toBe(0);
  }, 150_000);

  it('exec runs as the container’s securityContext user, group and groups, in its working dir', async () => {
    const id = await kubectl(v, ['exec', 'security-context-demo', '--', 'id', '-u']);
    expect(id.code, id.stderr).toBe(0);
    expect(id.stdout).toBe('1000\n');
    const all = await kubectl(v, ['exec', 'security-context-demo', '--', 'sh', '-c', 'id -g; id -G; pwd']);
    expect(all.stdout).toBe('3000\n3000 2000 4000\n/\n');
    // as the container's own program runs
    const ps = await kubectl(v, ['exec', 'security-context-demo', '--', 'ps', '-eo', 'uid=,args=']);
    expect(ps.stdout).toMatch(/^\s*1000 sleep 1h$/m);
    // the docs' next step: write to the emptyDir as that user
    const write = await kubectl(v, [
      'exec',
      'security-context-demo',
      '--',
      'sh',
      '-c',
      'cd /data/demo && echo hello > testfile && stat -c %u testfile',
    ]);
    expect(write.stdout, write.stderr).toBe('1000\n');
  });
});

describe('the ephemeralcontainers subresource', () => {
  it('refuses to change or remove an ephemeral container, and bad ones, with upstream’s messages', async () => {
    const before = await pod('shell');
    const name = before.spec!.ephemeralContainers![0].name;
    const changed = await c.kubectl([
      'patch',
      'pod',
      'shell',
      '--subresource=ephemeralcontainers',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/ephemeralContainers/0/image","value":"kubemu/hello:v1"}]',
    ]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(`existing ephemeral containers "${name}" may not be changed`);
    const removed = await c.kubectl([
      'patch',
      'pod',
      'shell',
      '--subresource=ephemeralcontainers',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/ephemeralContainers/0"}]',
    ]);
    expect(removed.code).toBe(1);
    expect(removed.stderr).toContain(`existing ephemeral containers "${name}" may not be removed`);
    const bad = await c.kubectl([
      'patch',
      'pod',
      'shell',
      '--subresource=ephemeralcontainers',
      '--type=strategic',
      '-p',
      '{"spec":{"ephemeralContainers":[{"name":"probe","image":"busybox","targetContainerName":"nope","ports":[{"containerPort":80}]}]}}',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('spec.ephemeralContainers[');
    expect(bad.stderr).toContain('targetContainerName: Not found: "nope"');
    expect(bad.stderr).toContain('ports: Forbidden: cannot be set for an Ephemeral Container');
    // a main-resource write cannot add one, a create cannot carry one
    const created = await c.kubectl(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'with-ephemeral' },
        spec: {
          containers: [{ name: 'main', image: 'busybox' }],
          ephemeralContainers: [{ name: 'dbg', image: 'busybox' }],
        },
      }),
    });
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('spec.ephemeralContainers: Forbidden: cannot be set on create');
    expect((await pod('shell')).spec!.ephemeralContainers).toEqual(before.spec!.ephemeralContainers);
  });
});

describe('discovery', () => {
  it('lists pods/proxy, services/proxy and pods/ephemeralcontainers as upstream does', async () => {
    const list = JSON.parse((await c.kubectl(['get', '--raw', '/api/v1'])).stdout) as {
      resources: { name: string; kind: string; verbs: string[] }[];
    };
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    const proxyVerbs = ['create', 'delete', 'get', 'patch', 'update'];
    expect(byName.get('pods/proxy')).toMatchObject({ kind: 'PodProxyOptions', verbs: proxyVerbs });
    expect(byName.get('services/proxy')).toMatchObject({ kind: 'ServiceProxyOptions', verbs: proxyVerbs });
    expect(byName.get('pods/ephemeralcontainers')).toMatchObject({
      kind: 'Pod',
      verbs: ['get', 'patch', 'update'],
    });
  });
});

describe('kubectl killed mid-session', () => {
  const v: Version = '1.33';
  /** starts `args` in a terminal with kubectl as the pane's process, waits for `ready`, then SIGKILLs kubectl */
  async function killMidSession(
    name: string,
    args: string[],
    ready: (screen: string) => boolean,
  ): Promise<void> {
    const term = new TmuxSession(
      name,
      `exec ${kubectlPath(v)} --kubeconfig ${c.kubeconfig} ${args.join(' ')}`,
    );
    try {
      await until(`${name} to be in session`, () => ready(term.screen()), 60_000);
      process.kill(term.panePid(), 'SIGKILL');
    } finally {
      term.kill();
    }
  }

  it('exec -it: the command, its terminal and the kubelet’s connection go', async () => {
    const connections = kubeletConnections();
    await killMidSession(
      'kill-exec',
      ['exec', '-it', 'shell', '--', 'sh', '-c', "'echo started; exec sleep 4201'"],
      (s) => s.includes('started'),
    );
    await until('the command to be gone', () => processesWith('sleep', '4201').length === 0, 15_000);
    // `script`, which held the exec's terminal, is gone with it
    await until('the terminal to be gone', () => processesWith('script', '4201').length === 0, 15_000);
    await until('the kubelet’s stream to close', () => kubeletConnections() <= connections, GONE_MS);
  }, 120_000);

  it('debug -it and attach -it: the sessions go, the ephemeral container runs on as upstream’s does', async () => {
    const connections = kubeletConnections();
    await killMidSession(
      'kill-debug',
      [
        'debug',
        '-it',
        'shell',
        '--image=busybox',
        '--target=shell',
        '--',
        'sh',
        '-c',
        "'echo started; exec sleep 4202'",
      ],
      (s) => s.includes('started'),
    );
    await until('the kubelet’s stream to close', () => kubeletConnections() <= connections, GONE_MS);
    const p = await pod('shell');
    const name = p.spec!.ephemeralContainers!.at(-1)!.name;
    expect(processesWith('sleep', '4202').length).toBe(1);
    // attach again, type, and kill that kubectl too
    await killMidSession('kill-attach', ['attach', '-it', 'shell', '-c', name], (s) =>
      s.includes('try pressing enter'),
    );
    await until('the kubelet’s stream to close', () => kubeletConnections() <= connections, GONE_MS);
    expect(processesWith('sleep', '4202').length).toBe(1);
    // the container's own terminal stays (one `script`, started with it), as its program does
    expect(processesWith('script', '4202').length).toBe(1);
  }, 180_000);
});
