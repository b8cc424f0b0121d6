// upstream's --event-ttl from a user's side, on both storage backends: an Event made with `kubectl create -f` (a
// manifest as a user writes it) is listed by `kubectl get events`, then gone once its TTL passes after its last write,
// while a ConfigMap made with it stays. On etcd the Event's key is attached to a lease (what `etcdctl` shows), the way
// upstream's apiserver stores Events; on SQLite the apiserver deletes it itself.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, startApiServer, type ApiServerProcess } from './helpers/apiserver.js';
import { run as runCommand, type Run } from './helpers/cluster.js';
import { startTestEtcd, type TestEtcd } from './helpers/etcd.js';
import { kubectlBin } from './helpers/kubectl.js';
import { ensureCommands } from './helpers/tools.js';

const run = (bin: string, args: string[], input?: string, env: Record<string, string> = {}): Promise<Run> =>
  runCommand(bin, args, { ...process.env, ...env }, input === undefined ? {} : { input });

const EVENT = `apiVersion: v1
kind: Event
metadata:
  name: web.started
  namespace: default
involvedObject:
  kind: Pod
  name: web
  namespace: default
reason: Started
message: Started container web
type: Normal
source:
  component: my-controller
`;

const TTL_SECONDS = 3;
let etcd: TestEtcd;
const servers: ApiServerProcess[] = [];
let dir: string;

beforeAll(async () => {
  ensureCommands([
    ['kubectl', 'kubectl'],
    ['etcdctl', 'etcd-client'],
  ]);
  dir = mkdtempSync(join(tmpdir(), 'kubemu-event-ttl-'));
  etcd = await startTestEtcd();
}, 900_000);

afterAll(async () => {
  for (const s of servers) await s.cleanup();
  await etcd?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function eventLifetime(server: ApiServerProcess): Promise<void> {
  const kubectl = (args: string[], input?: string) =>
    run(kubectlBin(), ['--kubeconfig', server.kubeconfig, ...args], input);
  const made = await kubectl(['create', '-f', '-'], EVENT);
  expect(made.code, made.stderr).toBe(0);
  const cm = await kubectl(['create', 'configmap', 'kept', '--from-literal=a=1']);
  expect(cm.code, cm.stderr).toBe(0);
  const listed = await kubectl(['get', 'events', '-o', 'name']);
  expect(listed.stdout.trim()).toBe('event/web.started');
  const deadline = Date.now() + TTL_SECONDS * 1000 + 10_000;
  let left = listed.stdout.trim();
  while (left && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    left = (await kubectl(['get', 'events', '-o', 'name'])).stdout.trim();
  }
  expect(left).toBe('');
  expect((await kubectl(['get', 'events'])).stderr).toContain('No resources found in default namespace.');
  expect((await kubectl(['get', 'configmap', 'kept', '-o', 'name'])).stdout.trim()).toBe('configmap/kept');
}

describe('--event-ttl', () => {
  it('refuses a TTL it cannot read, saying what to fix', async () => {
    const bad = await run(process.execPath, [
      join(DIST, 'cmd/apiserver.js'),
      ...['--state-dir', join(dir, 'bad'), '--event-ttl', 'soon'],
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('invalid duration \\"soon\\"');
  });

  it(`on SQLite: kubectl's Event is gone ${TTL_SECONDS} s after it was written, a ConfigMap stays`, async () => {
    const server = await startApiServer({ extraArgs: ['--event-ttl', `${TTL_SECONDS}s`] });
    servers.push(server);
    await eventLifetime(server);
  }, 60_000);

  it(`on etcd: the Event's key holds a lease of ${TTL_SECONDS} s, and etcd deletes it`, async () => {
    const server = await startApiServer({
      extraArgs: ['--storage', 'etcd', '--etcd-servers', etcd.endpoint, '--event-ttl', `${TTL_SECONDS}s`],
    });
    servers.push(server);
    const etcdctl = (...args: string[]) =>
      run('etcdctl', [`--endpoints=${etcd.endpoint}`, ...args], undefined, { ETCDCTL_API: '3' });
    const made = await run(kubectlBin(), ['--kubeconfig', server.kubeconfig, 'create', '-f', '-'], EVENT);
    expect(made.code, made.stderr).toBe(0);
    const raw = (await etcdctl('get', '/registry/events/default/web.started', '-w', 'json')).stdout;
    // lease IDs are int64: read as text, not through JSON.parse's doubles
    const lease = /"lease":(\d+)/.exec(raw)?.[1];
    expect(lease, raw).toBeDefined();
    // etcdctl takes the lease ID in hex
    const ttl = await etcdctl('lease', 'timetolive', BigInt(lease!).toString(16), '-w', 'json');
    expect(JSON.parse(ttl.stdout)).toMatchObject({ 'granted-ttl': TTL_SECONDS });
    await run(kubectlBin(), ['--kubeconfig', server.kubeconfig, 'delete', 'event', 'web.started']);
    await eventLifetime(server);
  }, 60_000);
});
