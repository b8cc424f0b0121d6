// Issue #20: kubectl exec, cp, attach (`run -it --rm`) and port-forward through the apiserver to the kubelet's streaming endpoints, with the
// real kubectl 1.27 (SPDY/3.1) and 1.33 (WebSocket v5 channels; port-forward as SPDY tunnelled in WebSocket), on one
// cluster; `exec -it` under tmux (a real terminal: tty, resize, Ctrl-C); nothing left running when kubectl is
// killed mid-session; the kubelet refuses a stream from anyone but the apiserver.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, run, upCluster, type Run, type TestCluster } from '../helpers/cluster.js';
import { ensureCommands } from '../helpers/tools.js';
import { userCertificate } from '../helpers/user-certificate.js';
import { waitFor } from '../helpers/wait.js';
import { kubectlBin } from '../helpers/kubectl.js';

const SDK = '/usr/lib/google-cloud-sdk/bin';
const VERSIONS = ['1.27', '1.33'] as const;
type Version = (typeof VERSIONS)[number];

let c: TestCluster;
let work: string;
let webPod = '';

const kubectl = (
  v: Version,
  args: string[],
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<Run> => run(join(SDK, `kubectl.${v}`), ['--kubeconfig', c.kubeconfig, ...args], process.env, opts);

/** waitFor of a synchronous check */
const until = (what: string, check: () => boolean, ms?: number): Promise<true> =>
  waitFor(what, () => Promise.resolve(check() || undefined), ms);

const md5 = (file: string): string => createHash('md5').update(readFileSync(file)).digest('hex');

/** PIDs whose command line contains every one of `words` */
function processesWith(...words: string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (words.every((w) => argv.includes(w))) out.push(Number(entry));
    } catch {
      // gone
    }
  }
  return out;
}

beforeAll(async () => {
  ensureCommands([
    ['curl', 'curl'],
    ['tmux', 'tmux'],
    ['script', 'bsdutils'],
  ]);
  for (const v of VERSIONS)
    expect(existsSync(join(SDK, `kubectl.${v}`)), `kubectl ${v} must be installed`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'kubemu-streaming-'));
  c = await upCluster({ nodes: 1 });
  // a shell pod as the docs make one, and a web server
  const made = await c.kubectl(['run', 'shell', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
  expect(made.code, made.stderr).toBe(0);
  const web = await c.kubectl(['create', 'deployment', 'web', '--image=kubemu/hello:v1']);
  expect(web.code, web.stderr).toBe(0);
  const ready = await c.kubectl(['wait', '--for=condition=Ready', 'pod', '--all', '--timeout=60s'], {
    timeoutMs: 70_000,
  });
  expect(ready.code, ready.stderr).toBe(0);
  webPod = (await c.kubectl(['get', 'pod', '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}']))
    .stdout;
  expect(webPod).toMatch(/^web-/);
}, 180_000);

afterAll(async () => {
  await c?.down();
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe.each(VERSIONS)('kubectl %s', (v) => {
  it('exec prints the pod name and passes the exit code back', async () => {
    const r = await kubectl(v, [
      'exec',
      'shell',
      '--',
      'sh',
      '-c',
      'echo $HOSTNAME; echo to-stderr >&2; exit 3',
    ]);
    expect(r.stdout).toBe('shell\n');
    expect(r.stderr).toContain('to-stderr');
    expect(r.stderr).toContain('command terminated with exit code 3');
    expect(r.code).toBe(3);
    const ok = await kubectl(v, ['exec', 'shell', '--', 'true']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('exec -i reads piped stdin to its end', async () => {
    const text = `${'hello streaming\n'.repeat(5000)}the end\n`;
    const r = await kubectl(v, ['exec', '-i', 'shell', '--', 'sh', '-c', 'tr a-z A-Z; echo done'], {
      input: text,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${text.toUpperCase()}done\n`);
  });

  it('cp copies a 10 MB random file into the pod and back with equal checksums', async () => {
    const src = join(work, `random-${v}.bin`);
    const back = join(work, `back-${v}.bin`);
    writeFileSync(src, randomBytes(10 * 1024 * 1024));
    const into = await kubectl(v, ['cp', src, `shell:/tmp/random-${v}.bin`], { timeoutMs: 120_000 });
    expect(into.code, into.stderr).toBe(0);
    const sum = await kubectl(v, ['exec', 'shell', '--', 'md5sum', `/tmp/random-${v}.bin`]);
    expect(sum.stdout.split(' ')[0]).toBe(md5(src));
    const out = await kubectl(v, ['cp', `shell:/tmp/random-${v}.bin`, back], { timeoutMs: 120_000 });
    expect(out.code, out.stderr).toBe(0);
    expect(md5(back)).toBe(md5(src));
  }, 240_000);

  it('exec gives upstream’s errors for an unknown container and an unknown pod', async () => {
    const container = await kubectl(v, ['exec', 'shell', '-c', 'nope', '--', 'true']);
    expect(container.code).toBe(1);
    expect(container.stderr).toContain(
      'Error from server (BadRequest): container nope is not valid for pod shell',
    );
    const pod = await kubectl(v, ['exec', 'no-such-pod', '--', 'true']);
    expect(pod.code).toBe(1);
    expect(pod.stderr).toContain('Error from server (NotFound): pods "no-such-pod" not found');
  });

  it('port-forward serves 3 concurrent HTTP clients for 10 s without a failure', async () => {
    const port = await freePort();
    const pf = spawn(join(SDK, `kubectl.${v}`), [
      ...['--kubeconfig', c.kubeconfig, 'port-forward', `pod/${webPod}`, `${port}:8080`],
    ]);
    let log = '';
    pf.stdout.on('data', (d: Buffer) => (log += d.toString()));
    pf.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await until('port-forward to listen', () => log.includes(`Forwarding from 127.0.0.1:${port}`), 20_000);
      const get = (): Promise<string> =>
        new Promise((resolve, reject) => {
          // a new connection each time: each is a new pair of streams to the kubelet
          const req = http.get(
            { host: '127.0.0.1', port, path: '/', agent: false, timeout: 10_000 },
            (res) => {
              let body = '';
              res.on('data', (d: Buffer) => (body += d.toString()));
              res.on('end', () => resolve(body));
              res.on('error', reject);
            },
          );
          req.on('timeout', () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        });
      const deadline = Date.now() + 10_000;
      let ok = 0;
      const failures: string[] = [];
      await Promise.all(
        [0, 1, 2].map(async () => {
          while (Date.now() < deadline) {
            try {
              const body = await get();
              if (body === `Hello from ${webPod} (v1)\n`) ok++;
              else failures.push(`unexpected body ${JSON.stringify(body)}`);
            } catch (err) {
              failures.push((err as Error).message);
            }
          }
        }),
      );
      expect(failures).toEqual([]);
      expect(ok).toBeGreaterThan(10);
      expect(pf.exitCode).toBeNull();
    } finally {
      pf.kill('SIGKILL');
    }
  }, 60_000);

  it('port-forward to a port nothing listens on reports it for that connection', async () => {
    const port = await freePort();
    const pf = spawn(join(SDK, `kubectl.${v}`), [
      ...['--kubeconfig', c.kubeconfig, 'port-forward', `pod/${webPod}`, `${port}:9999`],
    ]);
    let log = '';
    pf.stdout.on('data', (d: Buffer) => (log += d.toString()));
    pf.stderr.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await until('port-forward to listen', () => log.includes(`Forwarding from 127.0.0.1:${port}`), 20_000);
      const r = await run('curl', ['-sS', '-m', '10', `http://127.0.0.1:${port}/`], process.env);
      expect(r.code).not.toBe(0);
      await until(
        'the error in kubectl’s output',
        () => log.includes(`an error occurred forwarding ${port} -> 9999`),
        10_000,
      );
      expect(log).toContain(`error forwarding port 9999 to pod ${webPod}`);
      expect(log).toContain('connect: connection refused');
    } finally {
      pf.kill('SIGKILL');
    }
  }, 60_000);

  it('exec -it under tmux: a /dev/pts terminal that follows resizes, Ctrl-C, the exit code', async () => {
    const socket = `kubemu-streaming-${process.pid}-${v}`;
    const tmux = (...args: string[]): string =>
      execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 });
    const screen = (): string => tmux('capture-pane', '-p');
    const command = `${join(SDK, `kubectl.${v}`)} --kubeconfig ${c.kubeconfig} exec -it shell -- sh; echo "EXIT=$?"; sleep 60`;
    try {
      tmux('new-session', '-d', '-x', '100', '-y', '30', command);
      // capture-pane trims the prompt's trailing space
      await until('the prompt', () => /^#\s*$/m.test(screen()), 20_000);
      tmux('send-keys', 'tty; stty size', 'Enter');
      await until('tty and its size', () => /\/dev\/pts\/\d+\n30 100/.test(screen()), 10_000);
      tmux('resize-window', '-x', '120', '-y', '40');
      // the new size travels kubectl → apiserver → kubelet → the pty: ask until the shell sees it
      await waitFor(
        'the new size',
        () => {
          tmux('send-keys', 'stty size', 'Enter');
          return new Promise<boolean>((r) => setTimeout(() => r(/^40 120$/m.test(screen())), 500));
        },
        15_000,
      );
      tmux('send-keys', 'sleep 4242', 'Enter');
      await until('sleep to start', () => processesWith('sleep', '4242').length > 0, 10_000);
      tmux('send-keys', 'C-c');
      await until('Ctrl-C to end sleep', () => processesWith('sleep', '4242').length === 0, 10_000);
      tmux('send-keys', 'echo "still $((40+2))"', 'Enter');
      await until('the shell to go on', () => /^still 42$/m.test(screen()), 10_000);
      tmux('send-keys', 'exit 4', 'Enter');
      await until('kubectl to exit with 4', () => /EXIT=4/.test(screen()), 10_000);
    } finally {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    }
  }, 90_000);

  it('run -i --rm attaches piped stdin to the container, then deletes the pod', async () => {
    const name = `upper-${v.replace('.', '')}`;
    const r = await kubectl(
      v,
      ['run', '-i', '--rm', name, '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'tr a-z A-Z'],
      { input: 'line one\nline two\n', timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('LINE ONE\nLINE TWO\n');
    expect(r.stdout).toContain(`pod "${name}" deleted`);
  }, 90_000);

  it('run -it --rm busybox -- sh under tmux takes typed input on a terminal', async () => {
    const socket = `kubemu-attach-${process.pid}-${v}`;
    const name = `shell-${v.replace('.', '')}`;
    const tmux = (...args: string[]): string =>
      execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 });
    const screen = (): string => tmux('capture-pane', '-p');
    const command = `${join(SDK, `kubectl.${v}`)} --kubeconfig ${c.kubeconfig} run -it --rm ${name} --image=busybox --restart=Never -- sh; echo "EXIT=$?"; sleep 60`;
    try {
      tmux('new-session', '-d', '-x', '100', '-y', '30', command);
      await until('the attach', () => screen().includes('try pressing enter'), 30_000);
      tmux('send-keys', 'echo typed-$((6*7)); tty', 'Enter');
      await until('the typed command’s output', () => /typed-42\n\/dev\/pts\/\d+/.test(screen()), 10_000);
      tmux('send-keys', 'exit', 'Enter');
      await until('the pod to be deleted', () => screen().includes(`pod "${name}" deleted`), 30_000);
      await until('kubectl to exit 0', () => /EXIT=0/.test(screen()), 10_000);
    } finally {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    }
  }, 90_000);

  it('attach -i joins a running container’s program: its stdin and its output', async () => {
    const name = `reader-${v.replace('.', '')}`;
    // a container with `stdin: true` that nobody is attached to yet, as `kubectl run -i --attach=false` makes one
    const made = await kubectl(v, [
      ...['run', name, '--image=busybox', '--restart=Never', '-i', '--attach=false'],
      ...['--', 'sh', '-c', 'echo waiting; read line; echo "got $line"'],
    ]);
    expect(made.code, made.stderr).toBe(0);
    const ready = await kubectl(v, ['wait', '--for=condition=Ready', `pod/${name}`, '--timeout=60s'], {
      timeoutMs: 70_000,
    });
    expect(ready.code, ready.stderr).toBe(0);
    // the program is at its `read` once its first line is in the log
    await waitFor('the program to start', async () =>
      (await kubectl(v, ['logs', name])).stdout === 'waiting\n' ? true : undefined,
    );
    const r = await kubectl(v, ['attach', '-i', name], { input: 'typed-42\n', timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    // what the program wrote before the attach is not replayed (that is `kubectl logs`), what it writes after is
    expect(r.stdout).toBe('got typed-42\n');
    const logs = await kubectl(v, ['logs', name]);
    expect(logs.stdout).toBe('waiting\ngot typed-42\n');
    await kubectl(v, ['delete', 'pod', name, '--wait=false']);
  }, 90_000);

  it('leaves no process behind when kubectl is killed mid-session', async () => {
    const marker = v === '1.27' ? '4127' : '4133';
    const exec = spawn(join(SDK, `kubectl.${v}`), [
      ...[
        '--kubeconfig',
        c.kubeconfig,
        'exec',
        '-i',
        'shell',
        '--',
        'sh',
        '-c',
        `echo started; exec sleep ${marker}`,
      ],
    ]);
    let out = '';
    exec.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until('the command to start', () => out.includes('started'), 20_000);
    expect(processesWith('sleep', marker).length).toBe(1);
    exec.kill('SIGKILL');
    await until('the command to be gone', () => processesWith('sleep', marker).length === 0, 15_000);
  }, 60_000);
});

describe('the kubelet’s streaming endpoints', () => {
  it('refuse an exec from a caller with no credential (401) or no right to nodes/proxy (403)', async () => {
    const pki = join(c.stateDir, 'pki');
    const nodeIP = (await c.status()).nodes.find((n) => n.name === 'node-1')!.internalIP;
    const url = `https://${nodeIP}:10250/exec/default/shell/shell?command=touch&command=/tmp/pwned&output=1`;
    const upgrade = [
      '-H',
      'Connection: Upgrade',
      '-H',
      'Upgrade: websocket',
      '-H',
      'Sec-WebSocket-Version: 13',
    ];
    const key = [
      '-H',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      '-H',
      'Sec-WebSocket-Protocol: v5.channel.k8s.io',
    ];
    // from node-1 itself: with --network=netns a kubelet's port is reached inside the cluster, not from the host
    const curl = (args: string[]) =>
      c.onNode('node-1', 'curl', ['-sS', '-o', '-', '-w', '\n%{http_code}', ...upgrade, ...key, ...args], {
        timeoutMs: 15_000,
      });
    const anonymous = await curl(['--cacert', join(pki, 'ca.crt'), url]);
    expect(anonymous.stdout.trim().split('\n').pop()).toBe('401');
    // a token the apiserver does not vouch for (TokenReview)
    const withToken = await curl([
      '--cacert',
      join(pki, 'ca.crt'),
      '-H',
      'Authorization: Bearer forged',
      url,
    ]);
    expect(withToken.stdout.trim().split('\n').pop()).toBe('401');
    // a user of the cluster CA whom RBAC does not allow nodes/proxy (SubjectAccessReview)
    const dir = mkdtempSync(join(tmpdir(), 'kubemu-mallory-'));
    try {
      const mallory = await userCertificate(c, dir, 'mallory');
      const denied = await curl(['--cacert', join(pki, 'ca.crt'), ...mallory.curlArgs, url]);
      expect(denied.stdout).toBe(
        'Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy)\n\n403',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const spdy = await curl(['--cacert', join(pki, 'ca.crt'), '-X', 'POST', '-H', 'Upgrade: SPDY/3.1', url]);
    expect(spdy.stdout.trim().split('\n').pop()).toBe('401');
    const check = await c.kubectl(['exec', 'shell', '--', 'ls', '/tmp']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).not.toContain('pwned');
  });

  it('are listed in discovery as upstream lists them', async () => {
    const list = JSON.parse((await c.kubectl(['get', '--raw', '/api/v1'])).stdout) as {
      resources: { name: string; kind: string; verbs: string[] }[];
    };
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    expect(byName.get('pods/exec')).toMatchObject({ kind: 'PodExecOptions', verbs: ['create', 'get'] });
    expect(byName.get('pods/attach')).toMatchObject({ kind: 'PodAttachOptions', verbs: ['create', 'get'] });
    expect(byName.get('pods/portforward')).toMatchObject({
      kind: 'PodPortForwardOptions',
      verbs: ['create', 'get'],
    });
  });

  it('kubectl proxy reaches a service and a pod through services/proxy and pods/proxy', async () => {
    const exposed = await c.kubectl(['expose', 'deployment', 'web', '--port=80', '--target-port=8080']);
    expect(exposed.code, exposed.stderr).toBe(0);
    const port = await freePort();
    const proxy = spawn(kubectlBin(), ['--kubeconfig', c.kubeconfig, 'proxy', `--port=${port}`]);
    let log = '';
    proxy.stdout.on('data', (d: Buffer) => (log += d.toString()));
    try {
      await until('kubectl proxy to listen', () => log.includes('Starting to serve'), 20_000);
      const base = `http://127.0.0.1:${port}/api/v1/namespaces/default`;
      const svc = await waitFor('the service through the proxy', async () => {
        const r = await run('curl', ['-sS', '-m', '10', `${base}/services/web:80/proxy/`], process.env);
        return r.stdout.startsWith('Hello from') ? r.stdout : undefined;
      });
      expect(svc).toBe(`Hello from ${webPod} (v1)\n`);
      const pod = await run(
        'curl',
        ['-sS', '-m', '10', `${base}/pods/${webPod}:8080/proxy/json`],
        process.env,
      );
      expect(JSON.parse(pod.stdout)).toMatchObject({ pod: webPod, version: 'v1' });
      const closed = await run(
        'curl',
        ['-sS', '-m', '10', `${base}/pods/${webPod}:9999/proxy/`],
        process.env,
      );
      expect(JSON.parse(closed.stdout)).toMatchObject({ reason: 'ServiceUnavailable', code: 503 });
    } finally {
      proxy.kill('SIGKILL');
    }
  }, 60_000);
});
